"""The YAML data files shipped with the stages (phrase lists, frame rules), read and validated."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from stages.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def shipped_file(name: str) -> Path:
    """Path of a data file shipped in the ``stages`` package."""
    return Path(str(resources.files("stages") / name))


def load_yaml_model(model: type[Model], path: Path, what: str) -> Model:
    """Read a YAML file into ``model``; ``ConfigError`` naming ``what`` and the file otherwise."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{what} {path} is invalid: {exc}") from exc
