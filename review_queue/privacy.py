"""Keyed hashing of message text: a plain hash of a short message can be brute-forced."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path


def load_or_create_key(path: Path) -> bytes:
    """Read the deployment's HMAC key, creating a random one (mode 0600) on first use."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        return key


def message_hmac(key: bytes, text: str) -> str:
    """Hex HMAC-SHA256 of the message (surrogates kept, so any str hashes)."""
    data = text.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text any database can keep: NUL and lone surrogates become U+FFFD.

    PostgreSQL refuses NUL in text and UTF-8 cannot encode lone surrogates. The HMAC and the
    length are always computed on the original message.
    """
    return _UNSTORABLE.sub("\ufffd", text)
