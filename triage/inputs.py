"""What ``route()`` accepts: a ``str`` message and short ids, checked with errors that say why."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.decision import Decision


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


MAX_METADATA_KEYS = 16
_MAX_METADATA_KEY_CHARS = 64


def check_metadata(value: object, what: str = "metadata") -> dict[str, str] | None:
    """Short string pairs a platform attaches to a message (or None), checked like ids."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict of str to str or None, got {type(value).__name__}")
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"{what} has {len(value)} keys; at most {MAX_METADATA_KEYS}")
    out: dict[str, str] = {}
    for key, item in value.items():
        name = check_id(key, f"{what} key")
        if not name or len(name) > _MAX_METADATA_KEY_CHARS:
            raise ValueError(f"{what} keys must be 1 to {_MAX_METADATA_KEY_CHARS} characters")
        if not isinstance(item, str):
            raise TypeError(f"{what}[{name!r}] must be str, got {type(item).__name__}")
        check_id(item, f"{what}[{name!r}]")
        out[name] = item
    return out


def check_metadata_list(
    values: Sequence[Mapping[str, str] | None] | None, n: int
) -> list[dict[str, str] | None]:
    """One metadata dict (or None) per message."""
    if values is None:
        return [None] * n
    if isinstance(values, (str, Mapping)) or not isinstance(values, Sequence):
        raise TypeError(f"metadata must be a list of dicts or None, got {type(values).__name__}")
    out = [check_metadata(v, f"metadata[{i}]") for i, v in enumerate(values)]
    if len(out) != n:
        raise ValueError(f"metadata has {len(out)} items for {n} messages")
    return out


@dataclass(frozen=True)
class PlatformRefs:
    """The platform's ids and metadata for each message of a batch, checked."""

    message_ids: list[str | None]
    user_ids: list[str | None]
    metadata: list[dict[str, str] | None]

    @classmethod
    def checked(
        cls,
        message_ids: Sequence[str | None] | None,
        user_ids: Sequence[str | None] | None,
        metadata: Sequence[Mapping[str, str] | None] | None,
        n: int,
    ) -> PlatformRefs:
        """Each list checked against ``n`` messages (None: none given)."""
        return cls(
            check_ids(message_ids, "message_ids", n),
            check_ids(user_ids, "user_ids", n),
            check_metadata_list(metadata, n),
        )

    def identify(self, j: int, decision: Decision, *, open_case: bool = True) -> Decision:
        """Message ``j``'s decision with its refs, and a new case id if a person must see it."""
        update: dict[str, Any] = {}
        if decision.human and open_case:
            update["case_id"] = str(uuid.uuid4())
        for name, values in (
            ("message_id", self.message_ids),
            ("user_id", self.user_ids),
            ("metadata", self.metadata),
        ):
            if values[j] is not None:
                update[name] = values[j]
        return decision.model_copy(update=update) if update else decision
