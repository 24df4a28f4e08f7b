"""Arrow batches: decide_batch against `policy eval`, row for row, bad rows included."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Tuple

import pyarrow as pa
import pytest

import policy_lang
from conftest import ROOT, eval_lines
from orders import assert_same_decision, generated_lines, generated_table, table_to_jsonl
from test_decide import EXAMPLES, LEGACY

CST = dt.timezone(dt.timedelta(hours=8))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "str"
    return "other"


def _column(kind: str, values: List[object], texts: List[object]) -> pa.Array:
    if kind == "null":
        return pa.nulls(len(values))
    if kind == "number":
        # JSON numbers as exact decimals, from their text.
        decimals = [None if t is None else Decimal(t) for t in texts]
        scale = max(-d.as_tuple().exponent for d in decimals if d is not None)
        return pa.array(decimals, pa.decimal128(28, max(scale, 0)))
    return pa.array(values, {"bool": pa.bool_(), "int": pa.int64(), "str": pa.string()}[kind])


def example_batches(lines: List[str], fields: List[str]) -> Tuple[List[Tuple[List[int], pa.RecordBatch]], List[int]]:
    """The example lines as Arrow batches, one for each combination of JSON kinds of the fields
    (an Arrow column has one type: `"grcq_total": "300"` and `300` go to different batches). Lines
    that are not a JSON object, or that hold arrays or objects, have no Arrow row: returned apart."""
    groups: Dict[Tuple[str, ...], List[int]] = {}
    parsed: Dict[int, Tuple[dict, dict]] = {}
    outside = []
    for n, line in enumerate(lines):
        try:
            order = json.loads(line)
            # The text of each JSON number, as written.
            texts = json.loads(line, parse_float=str, parse_int=str)
        except ValueError:
            outside.append(n)
            continue
        if not isinstance(order, dict):
            outside.append(n)
            continue
        kinds = tuple(_kind(order.get(f)) for f in fields)
        if "other" in kinds:
            outside.append(n)
            continue
        parsed[n] = (order, texts)
        groups.setdefault(kinds, []).append(n)
    batches = []
    for kinds, rows in groups.items():
        columns = [
            _column(kind, [parsed[n][0].get(f) for n in rows], [parsed[n][1].get(f) for n in rows])
            for f, kind in zip(fields, kinds)
        ]
        batches.append((rows, pa.RecordBatch.from_arrays(columns, names=fields)))
    return batches, outside


@pytest.mark.parametrize("file,policy_file,action", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_examples_batch_as_policy_eval(root: Path, file: str, policy_file: str, action: str) -> None:
    lines = (root / "examples" / file).read_text().splitlines()
    expected = eval_lines(root / policy_file, lines, action=action)
    policy = policy_lang.load(root / policy_file)
    fields = [name for name, _, _ in policy.fields]
    batches, outside = example_batches(lines, fields)
    checked = 0
    for rows, batch in batches:
        out = policy.decide_batch(batch, action=action)
        assert out.num_rows == batch.num_rows
        for n, row in zip(rows, out.to_pylist()):
            assert_same_decision(row, expected[n], f"{file}:{n + 1}")
            checked += 1
    # Only lines that are not JSON objects of scalars stay outside (each an error for the CLI too).
    assert all("error" in expected[n] for n in outside)
    assert checked + len(outside) == len(lines) and checked >= len(lines) - 2


def test_generated_orders_row_for_row() -> None:
    table = generated_table(generated_lines(20_000, seed=7))
    expected = eval_lines(LEGACY, table_to_jsonl(table), action="refund")
    policy = policy_lang.load(LEGACY)
    # A table of several chunks, decided on two threads.
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=6_000))
    out = policy.decide_batch(chunked, threads=2)
    assert isinstance(out, pa.RecordBatch) and out.num_rows == 20_000
    errors = 0
    for k, (row, want) in enumerate(zip(out.to_pylist(), expected)):
        assert_same_decision(row, want, str(k))
        errors += row["error"] is not None
    # About 1% of the generated orders are invalid.
    assert 50 < errors < 1_000
    # One thread gives the same decisions (the reasons' dictionaries may be laid out differently).
    assert policy.decide_batch(table, threads=1).to_pylist() == out.to_pylist()


def test_output_schema() -> None:
    policy = policy_lang.load(LEGACY)
    out = policy.decide_batch(pa.table({"id": pa.array([], pa.string())}))
    assert out.num_rows == 0
    assert tuple(out.schema.names) == policy_lang.DECISION_COLUMNS
    types = {f.name: f.type for f in out.schema}
    assert types["amount"] == pa.decimal128(38, 4)
    assert types["review_by"] == pa.date32()
    assert types["deadline"] == pa.timestamp("us", tz="Asia/Shanghai")
    assert types["holds_until"] == pa.timestamp("us", tz="Asia/Shanghai")
    assert types["requires"] == pa.list_(pa.string())
    # Reasons are the policy's texts: each stored once, and indexed by every decision giving it.
    assert types["because"] == pa.list_(pa.dictionary(pa.int32(), pa.string()))
    assert types["error_fields"] == pa.list_(pa.string())


def test_bad_rows_are_error_rows_in_place() -> None:
    policy = policy_lang.load(LEGACY)
    utc = dt.timezone.utc
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ["ok", "neg", "missing", "status", None],
            "paid_at": pa.array(
                [dt.datetime(2026, 2, 10, 2, tzinfo=utc)] * 2 + [None] + [dt.datetime(2026, 2, 10, 2, tzinfo=utc)] * 2,
                pa.timestamp("s", tz="UTC"),
            ),
            "price": pa.array([Decimal("199.00"), Decimal("-1.00"), Decimal("5"), Decimal("5"), Decimal("5")], pa.decimal128(10, 2)),
            "status": ["verifying", "verifying", "verifying", "nope", "verifying"],
            "unrelated": pa.array([[1], [2], [3], [4], [5]]),
        }
    )
    out = policy.decide_batch(batch, at=dt.datetime(2026, 2, 16, 9, tzinfo=CST)).to_pylist()
    assert [r["order"] for r in out] == ["ok", "neg", "missing", "status", None]
    assert out[0]["error"] is None and out[0]["outcome"] == "allowed"
    assert out[0]["amount"] == Decimal("199.00") and out[0]["review_by"] == dt.date(2026, 3, 13)
    assert out[4]["error"] is None
    for row, field in zip(out[1:4], ["price", "paid_at", "status"]):
        assert row["error_code"] == "input" and row["error_fields"] == [field], row
        assert row["outcome"] is None and row["amount"] is None and row["because"] is None
    # The same messages as one by one.
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide({"id": "neg", "paid_at": "2026-02-10T02:00:00Z", "price": "-1.00", "status": "verifying"})
    assert out[1]["error"] == str(caught.value)


def test_text_columns_read_as_json_strings() -> None:
    policy = policy_lang.load(LEGACY)
    batch = pa.table(
        {
            "id": ["a", "b"],
            "paid_at": pa.array(["2026-02-10T10:00:00+08:00", "2026-02-10T10:00:00"], pa.large_string()),
            "price": ["199.00", "199.00"],
            "status": pa.array(["verifying", "verifying"]).dictionary_encode(),
            "requested_at": ["2026-02-16T09:00:00+08:00", "2026-02-16T09:00:00+08:00"],
        }
    )
    out = policy.decide_batch(batch).to_pylist()
    assert out[0]["outcome"] == "allowed"
    assert out[1]["error_fields"] == ["paid_at"] and "offset" in out[1]["error"]


def test_schema_errors() -> None:
    policy = policy_lang.load(LEGACY)
    naive = pa.table({"paid_at": pa.array([dt.datetime(2026, 1, 1)], pa.timestamp("us"))})
    with pytest.raises(policy_lang.SchemaError, match="paid_at.*without a time zone"):
        policy.decide_batch(naive)
    listed = pa.table({"price": pa.array([[1]])})
    with pytest.raises(policy_lang.SchemaError, match="price"):
        policy.decide_batch(listed)
    with pytest.raises(TypeError):
        policy.decide_batch([1, 2, 3])


def test_batch_after_reload_and_versions(tmp_path: Path) -> None:
    from test_decide import VERSION

    (tmp_path / "v1.policy").write_text(VERSION.format(start="2025-01-01", days=14))
    (tmp_path / "v2.policy").write_text(VERSION.format(start="2026-01-01", days=30))
    policy = policy_lang.load(tmp_path)
    berlin = dt.timezone(dt.timedelta(hours=1))
    batch = pa.table(
        {
            "id": ["a", "b", "c"],
            "paid_at": pa.array(
                [dt.datetime(2025, 12, 30, 12, tzinfo=berlin), dt.datetime(2026, 1, 2, 12, tzinfo=berlin), dt.datetime(2024, 1, 2, 12, tzinfo=berlin)],
                pa.timestamp("ms", tz="+01:00"),
            ),
        }
    )
    at = dt.datetime(2026, 1, 20, 12, tzinfo=berlin)
    out = policy.decide_batch(batch, at=at).to_pylist()
    assert [(r["version"], r["rule"]) for r in out[:2]] == [("2025-01-01", "late"), ("2026-01-01", "in_time")]
    assert out[2]["error_code"] == "not_in_force"
    (tmp_path / "v2.policy").write_text(VERSION.format(start="2026-01-01", days=3))
    assert policy.reload()["swapped"] is True
    out = policy.decide_batch(batch, at=at).to_pylist()
    assert out[1]["rule"] == "late"


DEFAULT_ID = """policy defaults
  document "terms.txt"
  zone "Europe/Berlin"
field id: string = "anonymous"
field paid_at: timestamp
action refund {
  rule in_time when now within 14 calendar days after paid_at then allowed
    because "in time" cite "14 days"
  rule late then denied because "late" cite "14 days"
}
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_order_column_as_policy_eval(tmp_path: Path, threads: int) -> None:
    """The `order` column, whichever way it is written: shared with a text `id` column (sliced,
    chunked, on threads), with the rows whose order is not the id (a null id given its default)
    written over it, or copied (an `id` the policy does not read as text)."""
    (tmp_path / "defaults.policy").write_text(DEFAULT_ID)
    (tmp_path / "optional.policy").write_text(DEFAULT_ID.replace('string = "anonymous"', "string?"))
    berlin = dt.timezone(dt.timedelta(hours=1))
    at = dt.datetime(2026, 1, 20, 12, tzinfo=berlin)
    rows = 5_000
    ids = [None if n % 7 == 3 else f"o-{n}" for n in range(rows)]
    paid = [dt.datetime(2026, 1, 1 + n % 28, 12, tzinfo=berlin) if n % 11 != 5 else None for n in range(rows)]
    table = pa.table({"id": pa.array(ids, pa.string()), "paid_at": pa.array(paid, pa.timestamp("us", tz="+01:00"))})
    # Three chunks, the first two of them slices of a larger column.
    chunked = pa.Table.from_batches(table.slice(100).to_batches(max_chunksize=2_000))
    for policy_file in [tmp_path / "defaults.policy", tmp_path / "optional.policy"]:
        policy = policy_lang.load(policy_file)
        expected = eval_lines(policy_file, table_to_jsonl(chunked), action="refund", at=at.isoformat())
        out = policy.decide_batch(chunked, at=at, threads=threads).to_pylist()
        assert len(out) == len(expected) == rows - 100
        for k, (row, want) in enumerate(zip(out, expected)):
            assert_same_decision(row, want, f"{policy_file.name} {k}")
    # A null id is the default's order; an id read from numbers is copied as its text.
    policy = policy_lang.load(tmp_path / "defaults.policy")
    out = policy.decide_batch(chunked, at=at, threads=threads).column("order").to_pylist()
    assert out[:4] == ["o-100", "anonymous", "o-102", "o-103"]
    numbered = pa.table({"id": pa.array(range(3), pa.int64()), "paid_at": table.column("paid_at").slice(0, 3)})
    out = policy.decide_batch(numbered, at=at, threads=threads).to_pylist()
    assert [r["order"] for r in out] == [None, None, None]
    assert all(r["error_code"] == "input" and r["error_fields"] == ["id"] for r in out)


def test_values_after_rows_without_values(root: Path) -> None:
    """Rows whose rule names no value (`{}`, kept as one repeated text) then rows with values: the
    column written out row by row from the first of them, every row as `policy eval` gives it."""
    policy_file = root / "policies/alibaba-ssl-revoke.policy"
    lines = (root / "examples/alibaba-ssl-revoke.revoke.jsonl").read_text().splitlines()
    expected = eval_lines(policy_file, lines, action="revoke")
    # The lines decided without values first, then a null (an error row), then the others.
    empty = [n for n, want in enumerate(expected) if want.get("values") == {}]
    errors = [n for n, want in enumerate(expected) if "error" in want]
    order = empty + errors + [n for n in range(len(lines)) if n not in empty and n not in errors]
    assert empty and errors and len(order) > len(empty) + len(errors)
    lines = [lines[n] for n in order]
    expected = [expected[n] for n in order]
    policy = policy_lang.load(policy_file)
    batches, _ = example_batches(lines, [name for name, _, _ in policy.fields])
    checked = 0
    for rows, batch in batches:
        out = policy.decide_batch(batch, action="revoke").to_pylist()
        for n, row in zip(rows, out):
            assert_same_decision(row, expected[n], str(n))
            checked += 1
    assert checked >= len(lines) - 2
