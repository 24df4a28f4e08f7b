"""Single orders: decide and explain against `policy eval`, errors, reload."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import policy_lang
from conftest import ROOT, eval_lines

# Every shipped example file with its policy and action (examples/README.md).
EXAMPLES = [
    ("huawei-scm-unsubscribe.jsonl", "policies/huawei-scm-unsubscribe.policy", "refund"),
    ("huawei-scm-withdraw.jsonl", "policies/huawei-scm-withdraw.policy", "withdraw"),
    ("alibaba-ssl-refund-legacy.jsonl", "policies/alibaba-ssl-refund-legacy.policy", "refund"),
    ("alibaba-cms-refund-2026.jsonl", "policies/alibaba-cms-refund-2026.policy", "refund"),
    ("alibaba-ssl-revoke.revoke.jsonl", "policies/alibaba-ssl-revoke.policy", "revoke"),
    ("alibaba-ssl-revoke.delete.jsonl", "policies/alibaba-ssl-revoke.policy", "delete"),
    ("us-cert-reseller-refund.jsonl", "examples/policies/us-cert-reseller-refund.policy", "refund"),
    ("eu-hosting-withdrawal.jsonl", "examples/policies/eu-hosting-withdrawal.policy", "refund"),
    ("orders.jsonl", "policies/alibaba-ssl-refund-legacy.policy", "refund"),
]

LEGACY = ROOT / "policies/alibaba-ssl-refund-legacy.policy"
CST = dt.timezone(dt.timedelta(hours=8))
ORDER = {"id": "o-1", "paid_at": "2026-02-10T10:00:00+08:00", "price": "199.00", "status": "verifying"}


def test_every_shipped_example_is_covered(root: Path) -> None:
    shipped = {p.name for p in (root / "examples").glob("*.jsonl")}
    assert shipped == {name for name, _, _ in EXAMPLES}


@pytest.mark.parametrize("file,policy_file,action", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_examples_decide_as_policy_eval(root: Path, file: str, policy_file: str, action: str) -> None:
    lines = (root / "examples" / file).read_text().splitlines()
    expected = eval_lines(root / policy_file, lines, action=action)
    policy = policy_lang.load(root / policy_file)
    decided = errors = 0
    for k, (line, want) in enumerate(zip(lines, expected), start=1):
        if "error" in want:
            errors += 1
            with pytest.raises(policy_lang.OrderError) as caught:
                policy.decide(line, action=action)
            assert str(caught.value) == want["error"], k
            assert caught.value.order == want["order"], k
            assert caught.value.record() == {"order": want["order"], "error": want["error"]}
            continue
        decided += 1
        # The JSON text is the CLI's, byte for byte.
        assert json.loads(policy.decide_json(line, action=action)) == want, k
        # The dict: the same fields, with Python's types.
        got = policy.decide(line, action=action)
        assert list(got) == list(want), k
        for key, value in want.items():
            mine = got[key]
            if key == "amount" and value is not None:
                assert isinstance(mine, Decimal) and str(mine) == value, (k, key)
            elif key == "review_by" and value is not None:
                assert isinstance(mine, dt.date) and mine.isoformat() == value, (k, key)
            elif key in ("deadline", "holds_until") and value is not None:
                assert isinstance(mine, dt.datetime) and mine.tzinfo is not None, (k, key)
                instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                assert mine == instant and mine.utcoffset() == instant.utcoffset(), (k, key)
            else:
                assert mine == value, (k, key)
    assert decided > 0 and errors > 0 or file == "orders.jsonl"


def test_decide_dict_with_python_values() -> None:
    policy = policy_lang.load(LEGACY)
    assert policy.name == "alibaba-ssl-refund-legacy"
    assert policy.zone == "Asia/Shanghai"
    assert policy.actions == ["refund"]
    order = {
        "id": "o-1",
        "paid_at": dt.datetime(2026, 2, 10, 10, tzinfo=CST),
        "price": Decimal("199.00"),
        "status": "verifying",
    }
    d = policy.decide(order, at=dt.datetime(2026, 2, 16, 9, tzinfo=CST))
    assert d["outcome"] == "allowed"
    assert d["amount"] == Decimal("199.00")
    assert d["review_by"] == dt.date(2026, 3, 13)
    assert d["order"] == "o-1" and d["rule"] == "unissued_after_5_days"
    # The same as the order in JSON text, and as the CLI.
    text = json.dumps(ORDER)
    assert policy.decide(text, at=dt.datetime(2026, 2, 16, 9, tzinfo=CST)) == d
    (cli,) = eval_lines(LEGACY, [text], at="2026-02-16T09:00:00+08:00")
    assert json.loads(policy.decide_json(ORDER, at=dt.datetime(2026, 2, 16, 1, tzinfo=dt.timezone.utc))) == cli


def test_deadline_is_an_aware_datetime_in_the_policy_zone() -> None:
    policy = policy_lang.load(LEGACY)
    d = policy.decide(ORDER, at=dt.datetime(2026, 2, 11, 9, tzinfo=CST))
    assert (d["outcome"], d["rule"]) == ("allowed", "unissued_within_5_days")
    # The decision holds until the 6th calendar day after payment starts, in Shanghai.
    assert d["holds_until"] == dt.datetime(2026, 2, 16, tzinfo=CST)
    assert d["holds_until"].utcoffset() == dt.timedelta(hours=8)
    assert str(d["holds_until"].tzinfo) == "Asia/Shanghai"
    assert d["deadline"] is None


def test_at_must_be_aware() -> None:
    policy = policy_lang.load(LEGACY)
    with pytest.raises(ValueError, match="timezone-aware"):
        policy.decide(ORDER, at=dt.datetime(2026, 2, 16, 9))
    with pytest.raises(TypeError):
        policy.decide(ORDER, at=dt.date(2026, 2, 16))  # type: ignore[arg-type]


def test_input_error_names_order_field_and_code() -> None:
    policy = policy_lang.load(LEGACY)
    bad = dict(ORDER, paid_at=dt.datetime(2026, 2, 10, 10), price="-1")
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide(bad, at=dt.datetime(2026, 2, 16, 9, tzinfo=CST))
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, policy_lang.PolicyError)
    assert error.order == "o-1"
    assert error.code == "input"
    assert error.fields == ["paid_at", "price"]
    assert error.field == "paid_at"
    assert "offset" in dict(error.problems)["paid_at"]
    assert "negative" in dict(error.problems)["price"]
    assert str(error).startswith("order `o-1`: ")


def test_missing_field_and_not_an_object() -> None:
    policy = policy_lang.load(LEGACY)
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide({"id": "o-2", "status": "verifying"}, at=dt.datetime(2026, 2, 16, tzinfo=CST))
    assert caught.value.code == "input" and "paid_at" in caught.value.fields
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide("[1, 2]")
    assert caught.value.field == "(order)" and caught.value.order is None
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide("{not json")
    assert caught.value.code == "input" and "not valid JSON" in str(caught.value)
    with pytest.raises(TypeError):
        policy.decide(42)  # type: ignore[arg-type]


def test_eval_error_and_unknown_action() -> None:
    policy = policy_lang.load(ROOT / "policies/alibaba-ssl-revoke.policy")
    assert set(policy.actions) == {"revoke", "delete"}
    with pytest.raises(ValueError, match="several actions"):
        policy.decide(ORDER)
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide(ORDER, action="refund")
    assert caught.value.code == "unknown_action" and caught.value.field is None
    # A review date in 2027, past the `cn` calendar: an evaluation error (examples/README.md).
    lines = (ROOT / "examples/alibaba-ssl-revoke.revoke.jsonl").read_text().splitlines()
    records = eval_lines(ROOT / "policies/alibaba-ssl-revoke.policy", lines, action="revoke")
    (k, line, record) = next(
        (k, l, r) for k, (l, r) in enumerate(zip(lines, records)) if "calendar" in r.get("error", "")
    )
    with pytest.raises(policy_lang.OrderError) as caught:
        policy.decide(line, action="revoke")
    assert caught.value.code == "eval" and str(caught.value) == record["error"]


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(policy_lang.LoadError) as caught:
        policy_lang.load(tmp_path / "missing.policy")
    assert caught.value.kind == "io"
    broken = tmp_path / "broken.policy"
    broken.write_text("policy broken\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\nfield x: moneyy\n")
    with pytest.raises(policy_lang.LoadError) as caught:
        policy_lang.load(broken)
    assert caught.value.kind == "invalid" and "broken" in str(caught.value)
    with pytest.raises(policy_lang.LoadError) as caught:
        policy_lang.load(ROOT / "policies")
    assert caught.value.kind == "ambiguous"
    with pytest.raises(policy_lang.LoadError) as caught:
        policy_lang.load(ROOT / "policies", name="nope")
    assert caught.value.kind == "not_found"


def test_explain_json_and_text() -> None:
    policy = policy_lang.load(LEGACY)
    at = dt.datetime(2026, 2, 16, 9, tzinfo=CST)
    explained = policy.explain(ORDER, at=at)
    assert isinstance(explained, dict)
    assert "unissued_after_5_days" in json.dumps(explained)
    text = policy.explain(ORDER, at=at, format="text")
    assert isinstance(text, str) and "unissued_after_5_days" in text
    # An order with wrong fields is explained (what needs each field), not raised.
    wrong = policy.explain(dict(ORDER, price="-1"), at=at)
    assert "price" in json.dumps(wrong)
    with pytest.raises(ValueError):
        policy.explain(ORDER, format="yaml")


def test_folder_with_versions_and_calendars(root: Path) -> None:
    policy = policy_lang.load(root / "policies", name="alibaba-ssl-refund-legacy")
    assert policy.name == "alibaba-ssl-refund-legacy"
    at = dt.datetime(2026, 2, 16, 9, tzinfo=CST)
    assert policy.decide(ORDER, at=at)["review_by"] == dt.date(2026, 3, 13)


VERSION = """policy refund
  document "terms.txt"
  zone "Europe/Berlin"
  effective from {start} by paid_at
field id: string?
field paid_at: timestamp
action refund {{
  rule in_time when now within {days} calendar days after paid_at then allowed
    because "in time" cite "{days} days"
  rule late then denied because "late" cite "{days} days"
}}
"""


def test_versions_and_reload(tmp_path: Path) -> None:
    (tmp_path / "v1.policy").write_text(VERSION.format(start="2025-01-01", days=14))
    (tmp_path / "v2.policy").write_text(VERSION.format(start="2026-01-01", days=30))
    policy = policy_lang.load(tmp_path)
    assert policy.versions == ["2025-01-01", "2026-01-01"]
    at = dt.datetime(2026, 1, 20, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    old = policy.decide({"id": "a", "paid_at": "2025-12-30T12:00:00+01:00"}, at=at)
    new = policy.decide({"id": "b", "paid_at": "2026-01-02T12:00:00+01:00"}, at=at)
    assert (old["version"], old["rule"]) == ("2025-01-01", "late")
    assert (new["version"], new["rule"]) == ("2026-01-01", "in_time")
    # A broken edit is refused; the last good set keeps serving.
    (tmp_path / "v2.policy").write_text("policy refund\n  nonsense\n")
    report = policy.reload()
    assert report["swapped"] is False and report["problems"]
    assert policy.decide({"id": "b", "paid_at": "2026-01-02T12:00:00+01:00"}, at=at)["rule"] == "in_time"
    # The fix is served: 3 days now.
    (tmp_path / "v2.policy").write_text(VERSION.format(start="2026-01-01", days=3))
    report = policy.reload()
    assert report["swapped"] is True and report["changed"] == ["refund"]
    assert policy.decide({"id": "b", "paid_at": "2026-01-02T12:00:00+01:00"}, at=at)["rule"] == "late"


def test_reload_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "refund.policy"
    path.write_text(VERSION.replace("  effective from {start} by paid_at\n", "").format(days=14))
    policy = policy_lang.load(path)
    at = dt.datetime(2026, 1, 20, 12, tzinfo=dt.timezone.utc)
    order = {"paid_at": "2026-01-10T12:00:00Z"}
    assert policy.decide(order, at=at)["rule"] == "in_time"
    path.write_text("policy refund\n  broken\n")
    report = policy.reload()
    assert report["swapped"] is False and "does not check" in report["problems"][0]
    assert policy.decide(order, at=at)["rule"] == "in_time"
    path.write_text(VERSION.replace("  effective from {start} by paid_at\n", "").format(days=5))
    assert policy.reload()["swapped"] is True
    assert policy.decide(order, at=at)["rule"] == "late"
