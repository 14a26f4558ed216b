"""A local, fsync'd append-only spool for cases the database could not take."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Spool:
    """JSON lines on local disk; each line is one batch the database refused.

    ``append`` returns only after the line is on disk (flush + fsync of file and folder).
    ``drain`` hands the lines to a callback and truncates the file only if it succeeds, under
    an exclusive lock, so two processes never replay the same lines at once.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(self, entry: dict[str, Any]) -> None:
        """Durably append one entry."""
        line = (json.dumps(entry, ensure_ascii=True) + "\n").encode()
        new_file = not self.path.exists()
        with self._locked() as fd:
            os.write(fd, line)
            os.fsync(fd)
        if new_file:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def pending(self) -> bool:
        """True when the spool holds entries (a cheap stat)."""
        return self.size_bytes() > 0

    def size_bytes(self) -> int:
        """Bytes waiting in the spool (0 when it is empty or absent)."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def drain(self, replay: Any) -> int:
        """Call ``replay(entries)``; on success empty the spool. Returns the count replayed."""
        if not self.pending():
            return 0
        with self._locked() as fd:
            entries = []
            with open(self.path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    try:
                        entries.append(json.loads(line))
                    except json.JSONDecodeError:
                        # Only a write cut short by a crash can leave this, and the route()
                        # that wrote it never returned: nothing acknowledged is dropped.
                        log.error("spool %s line %d is torn; skipped", self.path, number)
            if not entries:
                return 0
            replay(entries)
            os.ftruncate(fd, 0)
            os.fsync(fd)
        return len(entries)
