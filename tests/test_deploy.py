"""The deployment examples are valid: Kubernetes objects against the API's schemas, the Compose
file against the Compose specification, and every command they run exists."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from triage.cli import app

DEPLOY = Path(__file__).parent.parent / "deploy"
# The Compose specification's schema, from docker-compose 1.29.2 (Apache-2.0).
COMPOSE_SCHEMA = Path(__file__).parent / "fixtures" / "compose_spec.json"
runner = CliRunner()


def kubernetes_objects() -> list[dict[str, object]]:
    text = (DEPLOY / "kubernetes" / "triage.yaml").read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if d]


def test_kubernetes_objects_validate_against_the_api_schemas() -> None:
    objects = kubernetes_objects()
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Job", "StatefulSet", "ConfigMap"} <= kinds
    for obj in objects:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    (job,) = [o for o in objects if o["kind"] == "Job"]
    broken = json.loads(json.dumps(job))
    broken["spec"]["retries"] = 3  # a field the API does not have
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30.0", strict=True)


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(compose, schema)
    assert compose["services"]["memory"]["command"][1:5] == ["--save", "", "--appendonly", "no"]
    compose["services"]["relay"]["restart_policy"] = "always"  # not a service field
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, schema)


def _triage_commands() -> list[list[str]]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    commands = [s["command"] for s in compose["services"].values() if "command" in s]
    for obj in kubernetes_objects():
        spec = obj.get("spec", {})
        pod = spec.get("template", {}).get("spec", {}) if isinstance(spec, dict) else {}
        commands += [c["command"] for c in pod.get("containers", []) if "command" in c]
    return [c for c in commands if c[0] == "triage"]


@pytest.mark.parametrize("command", _triage_commands(), ids=" ".join)
def test_every_triage_command_the_examples_run_exists(command: list[str]) -> None:
    result = runner.invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output
