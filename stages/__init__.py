"""Everything that scores text: the Stage protocol, its results, model stages, the safety net."""

from stages.protocol import Stage
from stages.results import Evidence, StageResult, StageStatus

__all__ = ["Evidence", "Stage", "StageResult", "StageStatus"]
