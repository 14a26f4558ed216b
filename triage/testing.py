"""A test kit for code that embeds crisis-triage, and for this project's own tests.

- ``policy_with`` edits the parsed policy, never its text, so a test stays right when the
  shipped file's wording changes, and an edit that does not validate fails at once;
- ``FixedStage`` and ``FailingStage`` stand in for a model: ``Triage(crisis=..., support=...)``
  takes them through the ``Stage`` protocol, the seam the real stages use;
- ``crisis_result``, ``support_result`` build stage results; ``sqlite_store`` a store in a
  temporary folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from policies.loader import load_policy
from policies.schema import Policy
from stages.errors import StageError
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD, NOT_CRISIS, SUPPORT_LABELS
from stages.results import StageResult

if TYPE_CHECKING:
    from review_queue.store import CaseStore


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def policy_with(base: Policy | None = None, **changes: Any) -> Policy:
    """``base`` (the shipped policy by default) with fields changed, nested dicts merged.

    ``policy_with(version="strict", risk={"urgent_at": 0.5})`` keeps every other field.
    """
    data = (base or load_policy()).model_dump()
    return Policy.model_validate(_merged(data, changes))


def write_policy(policy: Policy, path: str | Path) -> Path:
    """Write a policy as YAML (for ``Settings.policy_path`` and tenant policies)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(policy.model_dump(), sort_keys=False), encoding="utf-8")
    return path


class FixedStage:
    """A stage that gives every text the same result: a scenario, or a misbehaving model.

    ``FixedStage("support", StageResult(stage="support", label="chit_chat", ...))`` plays a
    stage two trained on labels the policy does not know.
    """

    def __init__(self, name: str, result: StageResult) -> None:
        self.name = name
        self.result = result.model_copy(update={"stage": name})

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """The fixed result, once per text."""
        return [self.result for _ in texts]


class FailingStage:
    """A stage that raises on every batch, as a broken model or backend would."""

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error or StageError(f"stage {name!r} failed")

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Raise the stage's error."""
        raise self.error


def crisis_result(risk: float, threshold: float = DEFAULT_CRISIS_THRESHOLD) -> StageResult:
    """A stage-one result with calibrated ``risk`` against ``threshold``."""
    return StageResult(
        stage="crisis",
        label=CRISIS if risk >= threshold else NOT_CRISIS,
        scores={CRISIS: risk},
        threshold=threshold,
    )


def support_result(label: str, probability: float = 0.9) -> StageResult:
    """A stage-two result whose top class is ``label``."""
    rest = (1 - probability) / (len(SUPPORT_LABELS) - 1)
    scores = {name: probability if name == label else rest for name in SUPPORT_LABELS}
    return StageResult(stage="support", label=label, scores=scores)


def sqlite_store(state_dir: str | Path) -> CaseStore:
    """A case store in a SQLite file under ``state_dir`` (a temporary folder in tests)."""
    from triage.settings import Settings

    return Settings(state_dir=Path(state_dir)).case_store()
