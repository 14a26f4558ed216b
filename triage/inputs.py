"""What ``route()`` accepts: a ``str`` message and short ids, checked with errors that say why."""

from __future__ import annotations

from collections.abc import Sequence


def check_message(message: object, what: str = "message") -> str:
    """Return ``message`` if it is a ``str``; raise a ``TypeError`` that says what to do."""
    if isinstance(message, str):
        return message
    if isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{what} must be str, got {type(message).__name__}: decode it first, "
            "e.g. data.decode('utf-8', errors='replace')"
        )
    raise TypeError(f"{what} must be str, got {type(message).__name__}")


_MAX_ID_CHARS = 256


def check_id(value: object, what: str) -> str | None:
    """An id as given (or None); ``TypeError``/``ValueError`` naming ``what`` otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str or None, got {type(value).__name__}")
    if len(value) > _MAX_ID_CHARS or any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in value):
        raise ValueError(
            f"{what} must be at most {_MAX_ID_CHARS} characters without NUL or lone surrogates"
        )
    return value


def check_ids(values: Sequence[str | None] | None, what: str, n: int) -> list[str | None]:
    """One id (or None) per message: ``n`` of them, each checked by ``check_id``."""
    if values is None:
        return [None] * n
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{what} must be a list of str or None, got {type(values).__name__}")
    out = [check_id(v, f"{what}[{i}]") for i, v in enumerate(values)]
    if len(out) != n:
        raise ValueError(f"{what} has {len(out)} items for {n} messages")
    return out
