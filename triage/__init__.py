"""crisis-triage: route messages that need a person to a person, first."""

from policies.decision import Decision
from stages.errors import ConfigError, ModelDirError, PolicyError, StageError, TriageError
from triage.facade import Triage
from triage.settings import Settings

__all__ = [
    "ConfigError",
    "Decision",
    "ModelDirError",
    "PolicyError",
    "Settings",
    "StageError",
    "Triage",
    "TriageError",
]
