"""Re-decide a Parquet data set of orders on Spark, through policy_lang.decide_batch.

    spark-submit examples/spark/redecide.py --orders s3://bucket/orders/ --policy policies/ \
        --name alibaba-ssl-refund-legacy --action refund --out s3://bucket/decisions/

Each executor loads the policy once (the folder, shipped with the job by `SparkContext.addFile`)
and decides whole Arrow batches of its partition with `mapInArrow`: no row goes through Python
objects or JSON text. The decisions are written as Parquet, one row per order, with the order's id
in `order` and the contract's fields as columns (README.md, docs/python.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Iterator, Optional

import pyarrow as pa

#: The decision columns as Spark types (policy_lang.DECISION_COLUMNS, in order).
DECISION_SCHEMA = (
    "order string, policy string, version string, action string, outcome string, "
    "amount decimal(38,4), currency string, refund_to string, requires array<string>, "
    "review string, review_by date, deadline timestamp, holds_until timestamp, "
    "next_status string, `values` string, rule string, because array<string>, "
    "error string, error_code string, error_fields array<string>"
)

_POLICIES: dict = {}


def _policy(path: str, name: Optional[str]):
    """The policy, loaded once per Python worker."""
    import policy_lang

    key = (path, name)
    if key not in _POLICIES:
        _POLICIES[key] = policy_lang.load(path, name=name)
    return _POLICIES[key]


def decider(policy_dir: str, name: Optional[str], action: Optional[str], at: Optional[str],
            target: pa.Schema):
    """The function `mapInArrow` runs on each partition: batches of orders in, batches of
    decisions out, cast to the Arrow types Spark expects for DECISION_SCHEMA."""

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import datetime as dt

        from pyspark import SparkFiles

        local = policy_dir
        if not os.path.exists(local):
            local = SparkFiles.get(os.path.basename(policy_dir.rstrip("/")))
        policy = _policy(local, name)
        when = None if at is None else dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        for batch in batches:
            out = policy.decide_batch(batch, at=when, action=action, threads=1)
            yield pa.RecordBatch.from_arrays(
                [out.column(i).cast(field.type) for i, field in enumerate(target)],
                schema=target,
            )

    return decide


def _spark_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_list(t):
        return pa.list_(_spark_type(t.value_type))
    return t


def arrow_schema(decisions: pa.Schema) -> pa.Schema:
    """The decisions' Arrow schema as Spark reads it back for DECISION_SCHEMA: instants in UTC
    (Spark's `timestamp` is an instant; the zone is the session's, to show it), and the reasons
    as plain strings (Spark reads no dictionary-encoded column)."""
    return pa.schema([pa.field(f.name, _spark_type(f.type)) for f in decisions])


def redecide(spark, orders: str, policy_dir: str, out: str, name: Optional[str] = None,
             action: Optional[str] = None, at: Optional[str] = None) -> None:
    """Reads `orders` (Parquet), decides every order with the policy of `policy_dir` (a folder,
    shipped to the executors), and writes the decisions to `out` (Parquet)."""
    from pyspark.sql.types import _parse_datatype_string

    # The executors import this module to run `decider`'s function.
    spark.sparkContext.addPyFile(os.path.abspath(__file__))
    if os.path.exists(policy_dir):
        spark.sparkContext.addFile(policy_dir, recursive=True)
    schema = _parse_datatype_string(DECISION_SCHEMA)
    # The decisions' Arrow types, from an empty batch decided on the driver.
    import policy_lang

    local = policy_lang.load(policy_dir, name=name)
    empty = local.decide_batch(pa.table({"id": pa.array([], pa.string())}), action=action)
    target = arrow_schema(empty.schema)
    frame = spark.read.parquet(orders)
    decisions = frame.mapInArrow(decider(policy_dir, name, action, at, target), schema)
    # Instants as Parquet's TIMESTAMP(MICROS, adjusted to UTC), which every reader takes as instants
    # (Spark's default, INT96, reads back as naive times elsewhere).
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    decisions.write.mode("overwrite").parquet(out)


def main() -> None:
    from pyspark.sql import SparkSession

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", required=True, help="Parquet data set of orders")
    parser.add_argument("--policy", required=True, help="folder of policies (with calendars/)")
    parser.add_argument("--name", help="the policy of the folder (when it holds several)")
    parser.add_argument("--action", help="the action (when the policy has several)")
    parser.add_argument("--at", help="request time for orders without requested_at (RFC 3339)")
    parser.add_argument("--out", required=True, help="where to write the decisions (Parquet)")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("policy-redecide").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    redecide(spark, args.orders, args.policy, args.out, args.name, args.action, args.at)
    spark.stop()


if __name__ == "__main__":
    main()
