"""Helpers for testing code that embeds crisis-triage: policies built by editing fields.

``policy_with`` edits the parsed policy, never its text, so a test stays right when the shipped
file's wording changes, and an edit that does not validate fails the test at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policies.loader import load_policy
from policies.schema import Policy


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
