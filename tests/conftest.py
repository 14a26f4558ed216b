"""Shared fixtures: tiny real models on disk, a Triage on a fresh state folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))

from local_services import RedisServer  # noqa: E402
from tiny_models import tiny_stage  # noqa: E402

from triage import Triage  # noqa: E402


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny crisis stage and a tiny support stage (random weights, real files)."""
    root = tmp_path_factory.mktemp("models")
    return {
        "crisis": tiny_stage(root / "crisis", "crisis", thresholds={"crisis": 0.99}),
        "support": tiny_stage(root / "support", "support"),
    }


@pytest.fixture
def make_triage(tiny_models: dict[str, Path], tmp_path: Path) -> Callable[..., Triage]:
    """Build a Triage on the tiny models and a fresh state folder; kwargs override settings."""

    def build(**overrides: Any) -> Triage:
        settings: dict[str, Any] = {
            "crisis_model": str(tiny_models["crisis"]),
            "support_model": str(tiny_models["support"]),
            "state_dir": tmp_path / "state",
            "device": "cpu",
        }
        settings.update(overrides)
        return Triage(**settings)

    return build


@pytest.fixture
def triage(make_triage: Callable[..., Triage]) -> Triage:
    return make_triage()


_SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if "TRIAGE_DATA_DIR" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["TRIAGE_DATA_DIR"] = str(_SHARED_DATA)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server for the queue (AOF on), killed after the test."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()
