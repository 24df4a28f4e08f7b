"""Refund and lifecycle policies written as code, from Python.

Load a ``.policy`` file (or one policy of a folder, with its versions and calendars), then decide
orders one at a time (:meth:`Policy.decide`, :meth:`Policy.explain`) or a whole Arrow batch at once
(:meth:`Policy.decide_batch`)::

    import policy_lang
    from datetime import datetime, timezone, timedelta

    policy = policy_lang.load("policies/alibaba-ssl-refund-legacy.policy")
    decision = policy.decide(
        {"id": "o-1", "paid_at": "2026-02-10T10:00:00+08:00", "price": "199.00", "status": "verifying"},
        at=datetime(2026, 2, 16, 9, tzinfo=timezone(timedelta(hours=8))),
    )
    decision["outcome"], decision["amount"], decision["review_by"]
    # ('allowed', Decimal('199.00'), datetime.date(2026, 3, 13))

Decisions follow the project's contract (``docs/contract.md``) field by field; ``docs/python.md``
documents this package.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import os as _os
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _native
from ._errors import LoadError, OrderError, PolicyError, SchemaError

__all__ = [
    "DECISION_COLUMNS",
    "LoadError",
    "OrderError",
    "Policy",
    "PolicyError",
    "SchemaError",
    "load",
]

#: The columns of the batch :meth:`Policy.decide_batch` returns, in order.
DECISION_COLUMNS: Tuple[str, ...] = tuple(_native.DECISION_COLUMNS)

Order = Union[Mapping[str, Any], str, bytes]
PathLike = Union[str, "_os.PathLike[str]"]


def load(
    path: PathLike, *, name: Optional[str] = None, calendars: Optional[PathLike] = None
) -> "Policy":
    """Loads a policy: a ``.policy`` file (its calendars from ``calendars/`` beside it), or a folder
    of policies (``name`` chooses one when the folder holds several; all the versions of that policy
    are loaded, and each order is decided by the version in force for it; ``calendars`` overrides
    where calendar files are read).

    Raises :class:`LoadError` when the file cannot be read or does not check.
    """
    return Policy._load(path, name=name, calendars=calendars)


class Policy:
    """A loaded policy. Thread-safe: share one between threads; :meth:`reload` swaps it whole."""

    __slots__ = ("_engine", "_zone")

    def __init__(self) -> None:
        raise TypeError("use policy_lang.load(path) or Policy.load(path)")

    @classmethod
    def _load(
        cls,
        path: PathLike,
        *,
        name: Optional[str] = None,
        calendars: Optional[PathLike] = None,
    ) -> "Policy":
        self = object.__new__(cls)
        self._engine = _native.Engine.load(
            _os.fspath(path), name, None if calendars is None else _os.fspath(calendars)
        )
        self._zone = None
        return self

    @staticmethod
    def load(
        path: PathLike, *, name: Optional[str] = None, calendars: Optional[PathLike] = None
    ) -> "Policy":
        """The same as :func:`policy_lang.load`."""
        return Policy._load(path, name=name, calendars=calendars)

    @property
    def name(self) -> str:
        """The policy's name."""
        return self._engine.name

    @property
    def zone(self) -> str:
        """The policy's IANA time zone: its calendar days, and the zone of the instants it gives."""
        return self._engine.zone

    @property
    def actions(self) -> List[str]:
        """The policy's actions (``refund``, ``revoke``, ...)."""
        return self._engine.actions

    @property
    def versions(self) -> List[str]:
        """The versions loaded, oldest first (``effective from`` as written); empty without."""
        return self._engine.versions_loaded

    @property
    def fields(self) -> List[Tuple[str, str, bool]]:
        """The order fields the policy declares: ``(name, type, optional)``."""
        return self._engine.fields

    def reload(self) -> Dict[str, Any]:
        """Reads the policy again from disk. A folder swaps in whole only when every file checks; a
        broken edit leaves the last good policy serving and says why. Returns a report:
        ``{"swapped": bool, "added": [...], "removed": [...], "changed": [...], "problems": [str]}``
        (and ``generation`` for a folder)."""
        report: Dict[str, Any] = self._engine.reload()
        self._zone = None
        return report

    def decide(
        self,
        order: Order,
        at: Optional[_dt.datetime] = None,
        action: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Decides one order.

        ``order`` is a dict (values as JSON gives them, or ``Decimal`` for money, aware
        ``datetime`` for timestamps, ``date`` for dates) or JSON text. ``at`` is the request time,
        a timezone-aware ``datetime``, used when the order has no ``requested_at`` (default: now).
        ``action`` defaults to the policy's only action.

        Returns the decision as a dict with the contract's fields: ``amount`` a ``Decimal``,
        ``review_by`` a ``date``, ``deadline`` and ``holds_until`` aware ``datetime``s in the
        policy's zone. Raises :class:`OrderError` for an order that cannot be decided.
        """
        text = self._engine.decide_json(_order_text(order), _at_text(at), action)
        return self._decision(_json.loads(text))

    def decide_json(
        self,
        order: Order,
        at: Optional[_dt.datetime] = None,
        action: Optional[str] = None,
    ) -> str:
        """Like :meth:`decide`, returning the decision's JSON text exactly as ``policy eval`` writes
        it."""
        return self._engine.decide_json(_order_text(order), _at_text(at), action)

    def explain(
        self,
        order: Order,
        at: Optional[_dt.datetime] = None,
        action: Optional[str] = None,
        format: str = "json",
    ) -> Union[Dict[str, Any], str]:
        """Why the order is decided as it is: each rule tried with the value of each atom of its
        condition, the amount step by step, the decisions as time passes, or the input problems
        with what needs each field. ``format="json"`` gives the dict of ``policy explain --format
        json``, ``format="text"`` its text. Raises :class:`OrderError` only for an unknown action
        or an order that is not a JSON object."""
        if format not in ("json", "text"):
            raise ValueError(f"format must be 'json' or 'text', not {format!r}")
        text = self._engine.explain_json(
            _order_text(order), _at_text(at), action, format == "text"
        )
        return text if format == "text" else _json.loads(text)

    def decide_batch(
        self,
        batch: Any,
        at: Optional[_dt.datetime] = None,
        action: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> Any:
        """Decides every row of a ``pyarrow.RecordBatch`` or ``Table`` (or any object of the Arrow
        PyCapsule interface) of orders.

        Columns are matched to the policy's fields by name; others are ignored. Returns a
        ``pyarrow.RecordBatch`` with one row per input row, in order, and the columns of
        :data:`DECISION_COLUMNS`: money as ``decimal128(38, 4)``, ``review_by`` as ``date32``,
        instants as ``timestamp[us, tz=<policy zone>]``, ``requires`` as ``list<string>``,
        ``because`` as ``list<dictionary<int32, string>>`` (each reason stored once), ``values`` as
        JSON text; a row that cannot be decided has its decision columns null and ``error`` (the
        text of ``policy eval``), ``error_code`` and ``error_fields`` set. The GIL is released while
        deciding, and rows are decided on ``threads`` threads (default: one per core). Raises
        :class:`SchemaError` for a column of a type no field reads.
        """
        if not (hasattr(batch, "__arrow_c_stream__") or hasattr(batch, "__arrow_c_array__")):
            raise TypeError(
                f"decide_batch takes an Arrow RecordBatch or Table (the Arrow PyCapsule "
                f"interface), not {type(batch).__name__}"
            )
        if threads is not None and threads < 1:
            raise ValueError("threads= must be 1 or more")
        return self._engine.decide_batch(batch, _at_text(at), action, threads)

    def _tz(self) -> _dt.tzinfo:
        if self._zone is None:
            try:
                from zoneinfo import ZoneInfo

                self._zone = ZoneInfo(self.zone)
            except Exception:  # no tz database: keep the offsets the decision gives
                self._zone = False
        return self._zone or None  # type: ignore[return-value]

    def _decision(self, d: Dict[str, Any]) -> Dict[str, Any]:
        if d.get("amount") is not None:
            d["amount"] = Decimal(d["amount"])
        if d.get("review_by") is not None:
            d["review_by"] = _dt.date.fromisoformat(d["review_by"])
        for key in ("deadline", "holds_until"):
            if d.get(key) is not None:
                instant = _parse_instant(d[key])
                zone = self._tz()
                d[key] = instant.astimezone(zone) if zone else instant
        return d

    def __repr__(self) -> str:
        return f"<policy_lang.Policy {self.name!r} zone={self.zone!r} actions={self.actions!r}>"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.datetime):
        # A naive datetime is written without an offset: the policy refuses it, naming the field.
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not an order field value (JSON, Decimal, datetime, date)")


def _order_text(order: Order) -> str:
    if isinstance(order, str):
        return order
    if isinstance(order, (bytes, bytearray)):
        return order.decode("utf-8")
    if isinstance(order, Mapping):
        return _json.dumps(dict(order), default=_json_default, allow_nan=False)
    raise TypeError(f"an order is a dict or JSON text, not {type(order).__name__}")


def _at_text(at: Optional[_dt.datetime]) -> Optional[str]:
    if at is None:
        return None
    if isinstance(at, str):
        return at
    if not isinstance(at, _dt.datetime):
        raise TypeError(f"at= is a timezone-aware datetime, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at= must be timezone-aware: a naive datetime names no instant")
    return at.isoformat()


def _parse_instant(text: str) -> _dt.datetime:
    """An RFC 3339 instant of a decision as an aware datetime (Python 3.9's ``fromisoformat`` reads
    neither ``Z`` nor more than six digits of a second)."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, rest = text.split(".", 1)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, offset = rest[:digits], rest[digits:]
        if len(fraction) > 6:
            if fraction[6:].strip("0"):
                raise ValueError(f"{text} has a fraction of a microsecond, which datetime cannot hold")
            fraction = fraction[:6]
        text = f"{head}.{fraction.ljust(6, '0')}{offset}"
    return _dt.datetime.fromisoformat(text)
