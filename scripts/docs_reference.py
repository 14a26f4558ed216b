"""Reference pages made from the code: the policy schema, settings, CLI help, changelog."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("NoneType", "None")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "`" + json.dumps(value.model_dump() if isinstance(value, BaseModel) else value) + "`"
    return "`" + json.dumps(info.default, default=str) + "`"


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds (in an Optional or as a dict's values) and the path step."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "."
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is dict and args:
        model, _ = _nested(args[-1])
        return model, ".<name>."
    for arg in args:
        model, step = _nested(arg)
        if model is not None:
            return model, step
    return None, ""


def _rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| `{path}` | {_type_name(info.annotation)} | {_default(info)} | {description} |"
        )
        nested, step = _nested(info.annotation)
        if nested is not None:
            rows += _rows(nested, f"{path}{step}")
    return rows


def model_table(model: type[BaseModel]) -> str:
    """Every field of ``model`` (nested models flattened) with type, default and meaning."""
    head = "| field | type | default | meaning |\n|---|---|---|---|\n"
    return head + "\n".join(_rows(model)) + "\n"


def policy_schema() -> str:
    """The policy file's fields."""
    from policies.schema import Policy

    return model_table(Policy)


def settings_table() -> str:
    """``Settings``: each field is also ``TRIAGE_<NAME>`` in the environment."""
    from triage.settings import Settings

    return model_table(Settings)


def cli_help() -> str:
    """Every command's ``--help``, as the typer CLI prints it."""
    import typer
    from typer.testing import CliRunner

    from triage.cli import app

    runner = CliRunner()
    out = []

    def show(path: list[str]) -> None:
        shown = runner.invoke(
            app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}, prog_name="triage"
        )
        title = " ".join(["triage", *path])
        out.append(f"## `{title}`\n\n```text\n{shown.output.rstrip()}\n```\n")

    def walk(group: typer.Typer, path: list[str]) -> None:
        show(path)
        for command in group.registered_commands:
            assert command.callback is not None
            show([*path, command.name or command.callback.__name__.replace("_", "-")])
        for sub in group.registered_groups:
            assert sub.typer_instance is not None and sub.name is not None
            walk(sub.typer_instance, [*path, sub.name])

    walk(app, [])
    return "\n".join(out)


def changelog() -> str:
    """CHANGELOG.md without its title (the page has one)."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return text.split("\n", 1)[1] if text.startswith("# ") else text


GENERATORS: dict[str, Callable[[], str]] = {
    "policy-schema": policy_schema,
    "settings": settings_table,
    "cli": cli_help,
    "changelog": changelog,
}
