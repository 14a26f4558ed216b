"""crisis-triage: route messages that need a person to a person, first."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policies.decision import Decision
    from stages.errors import (
        ConfigError,
        DatabaseUnavailableError,
        ModelDirError,
        PolicyError,
        QueueError,
        StageError,
        TriageError,
    )
    from triage.facade import Triage
    from triage.settings import Settings

# Imported on first use, so that `triage train` on a GPU box needs no queue or database packages.
_EXPORTS = {
    "ConfigError": "stages.errors",
    "DatabaseUnavailableError": "stages.errors",
    "QueueError": "stages.errors",
    "Decision": "policies.decision",
    "ModelDirError": "stages.errors",
    "PolicyError": "stages.errors",
    "Settings": "triage.settings",
    "StageError": "stages.errors",
    "Triage": "triage.facade",
    "TriageError": "stages.errors",
}
__all__ = [
    "ConfigError",
    "DatabaseUnavailableError",
    "QueueError",
    "Decision",
    "ModelDirError",
    "PolicyError",
    "Settings",
    "StageError",
    "Triage",
    "TriageError",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'triage' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
