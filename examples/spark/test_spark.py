"""The Spark job on local[2]: 100,000 generated orders, written as Parquet, re-decided through Spark
(mapInArrow + policy_lang.decide_batch), equal `policy eval` on the same orders, row for row.

Run by .ci/spark.sh (SPARK_ORDERS sets the count)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "crates/policy-py/tests"))
sys.path.insert(0, str(HERE))

from conftest import eval_lines  # noqa: E402
from orders import assert_same_decision, generated_lines, generated_table, table_to_jsonl  # noqa: E402
from redecide import redecide  # noqa: E402

COUNT = int(os.environ.get("SPARK_ORDERS", "100000"))


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The Python workers run this interpreter (the environment with policy_lang and pyarrow).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("policy-redecide-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_redecides_as_policy_eval(spark, tmp_path: Path) -> None:
    table = generated_table(generated_lines(COUNT, seed=2026))
    orders = tmp_path / "orders"
    orders.mkdir()
    # Several files, so that Spark reads several partitions.
    step = -(-COUNT // 4)
    for i in range(4):
        pq.write_table(table.slice(i * step, step), orders / f"part-{i}.parquet")
    out = tmp_path / "decisions"
    redecide(spark, str(orders), str(ROOT / "policies"), str(out),
             name="alibaba-ssl-refund-legacy", action="refund")

    expected = eval_lines(ROOT / "policies/alibaba-ssl-refund-legacy.policy", table_to_jsonl(table),
                          action="refund")
    decided = pq.read_table(out).to_pylist()
    assert len(decided) == COUNT
    by_order = {row["order"]: row for row in decided}
    assert len(by_order) == COUNT, "every order id once"
    errors = 0
    for k, want in enumerate(expected):
        row = by_order[want["order"]]
        # Spark keeps instants in UTC: compared as instants.
        assert_same_decision(row, want, str(k), same_offset=False)
        errors += row["error"] is not None
    assert 0 < errors < COUNT // 50
