"""The exceptions of :mod:`policy_lang`."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple


class PolicyError(Exception):
    """The base of every exception this package raises about policies and orders."""


class LoadError(PolicyError):
    """A policy (or a folder of them) could not be loaded.

    ``kind`` is ``"io"`` (unreadable), ``"invalid"`` (does not check: the message renders every
    diagnostic with its source line), ``"not_found"`` (no policy of that name in the folder) or
    ``"ambiguous"`` (a folder of several policies, and no ``name=``). ``path`` is what was loaded.
    """

    def __init__(self, message: str, kind: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.path = path


class OrderError(PolicyError, ValueError):
    """An order that cannot be decided.

    ``str(error)`` is exactly the ``error`` text of ``policy eval``'s error record. ``order`` is the
    order's id (or ``None``); ``code`` is ``"input"`` (the order is wrong: fix it), ``"eval"``
    (deciding failed: an amount out of range, a date the calendar does not cover),
    ``"not_in_force"`` (before the first version) or ``"unknown_action"``. ``problems`` lists
    ``(field, message)`` for input errors, ``fields`` their fields and ``field`` the first of them
    (``"(order)"`` for the order as a whole, ``None`` when no field is to blame).
    """

    def __init__(
        self,
        message: str,
        order: Optional[str],
        code: str,
        problems: Sequence[Tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.order = order
        self.code = code
        self.problems: List[Tuple[str, str]] = [tuple(p) for p in problems]  # type: ignore[misc]
        self.fields: List[str] = []
        for field, _ in self.problems:
            if field not in self.fields:
                self.fields.append(field)
        self.field: Optional[str] = self.fields[0] if self.fields else None

    def record(self) -> dict:
        """The error record ``policy eval --order`` prints: ``{"order": ..., "error": ...}``."""
        return {"order": self.order, "error": self.message}


class SchemaError(PolicyError, TypeError):
    """A column of a batch that the policy reads has a type no field reads (a timestamp without a
    zone, a list, binary data). Rows that cannot be decided are error rows instead."""


# Called by the native module to raise the exceptions above.
def _order_error(parts: tuple) -> OrderError:
    message, order, code, problems = parts
    return OrderError(message, order, code, problems)


def _load_error(parts: tuple) -> LoadError:
    message, kind, path = parts
    return LoadError(message, kind, path)


def _schema_error(parts: tuple) -> SchemaError:
    (message,) = parts
    return SchemaError(message)
