"""Orders as Arrow tables, and back to JSON Lines for `policy eval`: shared by the tests and the
Spark example's test (examples/spark/).

The Arrow table is the ground truth: `table_to_jsonl` writes each row as the JSON order it stands
for, so `policy eval` and `decide_batch` decide the very same orders.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Iterable, List, Optional

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[3]

#: The columns of the legacy refund policy's generated orders, typed as a warehouse holds them.
GENERATED_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("paid_at", pa.timestamp("us", tz="UTC")),
        ("requested_at", pa.timestamp("us", tz="UTC")),
        ("price", pa.decimal128(18, 2)),
        ("voucher", pa.decimal128(18, 2)),
        ("status", pa.string()),
        ("issued_at", pa.timestamp("us", tz="UTC")),
        ("expires_at", pa.timestamp("us", tz="UTC")),
        ("revoked_at", pa.timestamp("us", tz="UTC")),
        ("free", pa.bool_()),
    ]
)


def generated_lines(count: int, seed: int = 42) -> List[str]:
    """The project's seeded generator (crates/policy/examples/generate_orders.rs): orders for the
    legacy refund policy across every table row, about 1% invalid."""
    done = subprocess.run(
        [
            "cargo", "run", "--release", "--quiet", "-p", "policy",
            "--example", "generate_orders", "--", str(count), str(seed),
        ],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return done.stdout.splitlines()


def _instant(text: object) -> Optional[dt.datetime]:
    """An RFC 3339 instant with an offset; None for anything else (no offset: not an instant)."""
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(dt.timezone.utc) if value.tzinfo else None


def _money(text: object) -> Optional[Decimal]:
    try:
        return Decimal(str(text)) if isinstance(text, (str, int)) else None
    except Exception:
        return None


def generated_table(lines: Iterable[str]) -> pa.Table:
    """The generated orders as typed columns. What a typed column cannot hold (a truncated line, a
    timestamp without an offset) is null there, as a warehouse load would leave it."""
    rows = []
    for n, line in enumerate(lines):
        try:
            order = json.loads(line)
        except ValueError:
            order = {"id": f"bad{n:08}"}
        rows.append(
            {
                "id": order.get("id"),
                "paid_at": _instant(order.get("paid_at")),
                "requested_at": _instant(order.get("requested_at")),
                "price": _money(order.get("price")),
                "voucher": _money(order.get("voucher")),
                "status": order.get("status"),
                "issued_at": _instant(order.get("issued_at")),
                "expires_at": _instant(order.get("expires_at")),
                "revoked_at": _instant(order.get("revoked_at")),
                "free": order.get("free"),
            }
        )
    return pa.Table.from_pylist(rows, schema=GENERATED_SCHEMA)


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def table_to_jsonl(table: pa.Table) -> List[str]:
    """Each row as the JSON order it stands for (nulls left out: absent and null are the same)."""
    return [
        json.dumps({k: _json_value(v) for k, v in row.items() if v is not None})
        for row in table.to_pylist()
    ]


def row_as_contract(row: dict) -> dict:
    """A row of `decide_batch`'s output as the contract's JSON decision, or `policy eval`'s error
    record (without its line), to compare with `policy eval`'s output."""
    if row["error"] is not None:
        return {"order": row["order"], "error": row["error"]}
    out = {k: row[k] for k in ("order", "policy")}
    if row["version"] is not None:
        out["version"] = row["version"]
    out.update({k: row[k] for k in ("action", "outcome")})
    out["amount"] = row["amount"]
    out.update({k: row[k] for k in ("currency", "refund_to", "requires", "review")})
    out["review_by"] = None if row["review_by"] is None else row["review_by"].isoformat()
    out["deadline"] = row["deadline"]
    out["holds_until"] = row["holds_until"]
    out["next_status"] = row["next_status"]
    out["values"] = json.loads(row["values"])
    out["rule"] = row["rule"]
    out["because"] = row["because"]
    return out


def _parse_instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_same_decision(
    batch_row: dict, evaluated: dict, where: str = "", same_offset: bool = True
) -> None:
    """A decision row of `decide_batch` equals `policy eval`'s JSON, field by field: amounts as
    exact decimals, instants as the same instant (written with the same offset, unless
    `same_offset` is false: Spark keeps instants in UTC), dates, lists, texts."""
    got = row_as_contract(batch_row)
    want = dict(evaluated)
    want.pop("line", None)
    assert got.keys() == want.keys(), (where, got, want)
    for key, value in want.items():
        mine = got[key]
        if key == "amount" and value is not None:
            assert mine == Decimal(value), (where, key, mine, value)
        elif key in ("deadline", "holds_until") and value is not None:
            instant = _parse_instant(value)
            assert mine == instant, (where, key, mine, value)
            # The same offset as the contract writes: the instant in the policy's zone.
            if same_offset:
                assert mine.utcoffset() == instant.utcoffset(), (where, key, mine, value)
        else:
            assert mine == value, (where, key, mine, value)
