"""Settings: explicit arguments, then ``TRIAGE_*`` environment variables, then a YAML file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

if TYPE_CHECKING:
    from review_queue.store import CaseStore
    from triage.conversation import TurnMemory


class Settings(BaseSettings):
    """Everything ``Triage()`` needs; each field is also ``TRIAGE_<NAME>`` in the environment.

    A YAML file named by ``TRIAGE_SETTINGS_FILE`` (default ``triage.yaml`` if present) may set
    the same fields; explicit arguments win over the environment, which wins over the file.
    """

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="forbid")

    crisis_model: str = Field(
        default="models/crisis", description="Stage one: model directory or Hugging Face name."
    )
    support_model: str = Field(
        default="models/support",
        description="Stage two: model directory, head directory (a head on stage one's "
        "encoder: one forward pass for both) or Hugging Face name.",
    )
    policy_path: Path | None = Field(
        default=None, description="Policy YAML; the shipped default policy when unset."
    )
    phrases_path: Path | None = Field(
        default=None, description="Safety-net phrase lists; the shipped ones when unset."
    )
    state_dir: Path = Field(
        default=Path(".triage"), description="Local state: SQLite file, spool, HMAC key, anchor."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<state_dir>/triage.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db.",
    )
    database_timeout_s: float = Field(
        default=5.0, gt=0, description="How long a write waits for a locked/slow database."
    )
    audit_group_size: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Audit records of decisions that open no case committed together, at most "
        "this many (1: each before route() returns). A crash loses at most one open group.",
    )
    audit_group_seconds: float = Field(
        default=0.5, gt=0, le=60, description="An open audit group is committed this soon."
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Celery broker for the review queue."
    )
    conversation_redis_url: str | None = Field(
        default=None,
        description="Redis for conversation turns shared by several service processes (None: "
        "each process keeps its own). Use a Redis that never writes to disk, not the broker.",
    )
    visibility_timeout_s: int = Field(
        default=3600,
        ge=1,
        description="Seconds before the broker hands an unacknowledged task to another worker "
        "(longer than any task).",
    )
    tenants: dict[str, Path] = Field(
        default_factory=dict,
        description="Per-platform policy files by tenant id, chosen by route(tenant=...).",
    )
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda', 'cuda:1', ...")
    batch_size: int = Field(default=32, ge=1, le=4096, description="Texts per model batch.")
    threads: int | None = Field(
        default=None, ge=1, description="CPU threads for inference (default: all cores)."
    )
    parallel_stages: bool | None = Field(
        default=None,
        description="Run a stage two that has a model of its own beside stage one, each on "
        "half the threads (default: on CPU when both stages run on ONNX Runtime and there are "
        "at least two cores; a head on stage one's encoder has no pass of its own).",
    )
    backend: Literal["auto", "torch", "torch-fp16", "torch-bf16", "onnx", "onnx-int8"] = Field(
        default="auto",
        description="Stage inference: 'auto' takes the int8 ONNX graph written by "
        "`triage export` on CPU when present (the thresholds are tuned on its scores), else "
        "the fp32 graph ('onnx'), else PyTorch fp32; fp16/bf16 need a GPU.",
    )
    hmac_key: SecretStr | None = Field(
        default=None,
        description="Hex key for message HMACs; default: a key file in state_dir (0600).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then environment, then the YAML settings file."""
        path = os.environ.get("TRIAGE_SETTINGS_FILE", "triage.yaml")
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=path)

    def case_store(self) -> CaseStore:
        """The store these settings name: the one place a ``CaseStore`` is built."""
        from review_queue.store import CaseStore

        return CaseStore(
            self.resolved_database_url(),
            state_dir=self.state_dir,
            hmac_key=self.hmac_key_bytes(),
            timeout_s=self.database_timeout_s,
            audit_group_size=self.audit_group_size,
            audit_group_seconds=self.audit_group_seconds,
        )

    def conversation_memory(self) -> TurnMemory:
        """Where conversation turns are kept: the shared Redis if one is named, else here."""
        from triage.conversation import ConversationMemory
        from triage.redis_memory import RedisConversationMemory

        if self.conversation_redis_url:
            return RedisConversationMemory.from_url(self.conversation_redis_url)
        return ConversationMemory()

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in ``state_dir``."""
        return self.database_url or f"sqlite:///{self.state_dir / 'triage.db'}"

    def resolved_device(self) -> str:
        """``auto`` becomes ``cuda`` when a GPU is visible, else ``cpu``."""
        from stages.transformer import resolve_device

        return resolve_device(self.device)

    def stage_threads(
        self, backends: Sequence[str], *, shared: bool = False
    ) -> tuple[bool, int | None]:
        """Whether the two stages run side by side, and the threads each stage may use.

        On few cores two single-threaded ONNX runs side by side finish sooner than two
        multi-threaded runs in turn (reports/bench-inference.md). PyTorch keeps one
        process-wide thread pool, so its stages run in turn. Stages that ``shared`` one
        encoder pass have nothing to run side by side.
        """
        if shared:
            return False, self.threads
        cores = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
        threads = self.threads or cores
        parallel = self.parallel_stages
        if parallel is None:
            parallel = (
                self.resolved_device() == "cpu"
                and threads >= 2
                and all(b.startswith("onnx") for b in backends)
            )
        return parallel, max(1, threads // 2) if parallel else self.threads

    def hmac_key_bytes(self) -> bytes | None:
        """The configured HMAC key, if any."""
        return bytes.fromhex(self.hmac_key.get_secret_value()) if self.hmac_key else None


def settings_from(overrides: dict[str, Any]) -> Settings:
    """Settings with explicit overrides (None values ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
