"""Keep the policy in force current: reload on change, keep the last good one on a bad edit."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from policies.loader import load_policy
from policies.schema import Policy
from stages.errors import PolicyError

log = logging.getLogger(__name__)


class PolicyHolder:
    """Holds a validated policy and reloads its file when the file changes.

    An edit that does not validate is logged and ignored: the last good policy stays in force.
    """

    def __init__(
        self, path: str | Path | None, *, check_every_s: float = 1.0, policy: Policy | None = None
    ) -> None:
        if (path is None) == (policy is None):
            raise ValueError("PolicyHolder takes a policy file or a policy, not both")
        self.path = Path(path) if path is not None else None
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._policy = policy if policy is not None else load_policy(self.path)
        self._stamp = self._file_stamp()
        self._checked_at = time.monotonic()
        self.last_error: str | None = None

    @classmethod
    def fixed(cls, policy: Policy) -> PolicyHolder:
        """A holder of one policy object, with no file to reload (an embedder's policy)."""
        return cls(None, policy=policy)

    def _file_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    @property
    def policy(self) -> Policy:
        """The policy in force (reloaded first if the file changed)."""
        now = time.monotonic()
        if now - self._checked_at >= self.check_every_s:
            self.reload_if_changed()
        return self._policy

    def reload_if_changed(self) -> bool:
        """Reload when the file changed; True when a new policy took effect."""
        with self._lock:
            self._checked_at = time.monotonic()
            stamp = self._file_stamp()
            if self.path is None or stamp == self._stamp:
                return False
            self._stamp = stamp
            try:
                policy = load_policy(self.path)
            except PolicyError as exc:
                self.last_error = str(exc)
                log.error("policy edit rejected; keeping version %s: %s", self._policy.version, exc)
                return False
            log.info("policy reloaded: %s -> %s", self._policy.version, policy.version)
            self._policy, self.last_error = policy, None
            return True
