"""Load a policy YAML file, with errors that name the field and the line."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.migrate import migrate
from policies.schema import Policy
from stages.errors import PolicyError

log = logging.getLogger(__name__)


def default_policy_file() -> Path:
    """Path of the policy shipped with the library."""
    return Path(str(resources.files("policies") / "default_policy.yaml"))


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key or item on ``loc`` (a pydantic error location)."""
    node, line = root, None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML text; raise ``PolicyError`` naming field and line on failure.

    A policy in an older format is migrated, with a logged notice per change.
    """
    policy, notices = parse_policy_with_notices(text, source)
    for notice in notices:
        log.warning("%s: migrated from an older policy format: %s", source, notice)
    return policy


def parse_policy_with_notices(text: str, source: str = "<policy>") -> tuple[Policy, list[str]]:
    """``parse_policy``, also returning what migrating an older format changed."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    data, notices = migrate(data)
    try:
        return Policy.model_validate(data), notices
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if not loc:  # cross-field checks name their field at the start of the message
                named = str(err.get("ctx", {}).get("error", "")).split(":", 1)[0]
                loc = tuple(named.split(".")) if "." in named and " " not in named else ()
            field = ".".join(str(p) for p in loc) or "(policy)"
            line = _line_of(root, loc)
            where = f"line {line}, " if line else ""
            problems.append(f"{source}: {where}{field}: {err['msg']}")
        raise PolicyError("\n".join(problems)) from exc


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file (the shipped default when ``path`` is None)."""
    path = Path(path) if path is not None else default_policy_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc}") from exc
    return parse_policy(text, str(path))
