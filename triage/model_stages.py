"""The model stages the settings name, and shadow candidates, built with one set of options."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stages.backends import resolve_backend
from stages.head import encoder_dir_of, load_model_stage, same_dir
from stages.protocol import Stage
from stages.transformer import SharedTokens, TransformerStage
from triage.settings import Settings


class ModelStages:
    """Builds transformer stages on the device, backend and threads chosen once.

    Stage one, stage two (its own model, or a head reading stage one's encoder) and shadow
    candidates. ``beside`` is the thread that runs stage two beside stage one, when the two
    run their own models on ONNX with a core each; None when they run in turn.
    """

    def __init__(
        self, options: dict[str, Any] | None = None, beside: ThreadPoolExecutor | None = None
    ) -> None:
        self.options = options or {}
        self.beside = beside
        self._candidates: dict[tuple[str, str], Stage] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelStages:
        """Options for the models the settings name: device, backend, threads per stage."""
        s = settings
        device = s.resolved_device()
        # Stage two as a head on stage one's encoder reads stage one's pass: nothing to run
        # beside it. Otherwise its backend is that of the model it runs.
        support_encoder = encoder_dir_of(s.support_model)
        shared = support_encoder is not None and same_dir(s.crisis_model, support_encoder)
        parallel, threads = s.stage_threads(
            [
                resolve_backend(s.backend, m, device)
                for m in (s.crisis_model, support_encoder or s.support_model)
            ],
            shared=shared,
        )
        options = {
            "device": device,
            "batch_size": s.batch_size,
            "backend": s.backend,
            "threads": threads,
            "tokens": SharedTokens(),  # both stages usually share a vocabulary: tokenise once
        }
        beside = ThreadPoolExecutor(1, thread_name_prefix="stage-two") if parallel else None
        return cls(options, beside)

    def crisis(self, name_or_path: str) -> Stage:
        """Stage one from a model directory or hub name."""
        return TransformerStage("crisis", name_or_path, **self.options)

    def support(self, name_or_path: str, crisis: Stage) -> Stage:
        """Stage two: its own model, or a head that reads ``crisis``'s encoder pass."""
        encoder = crisis if isinstance(crisis, TransformerStage) else None
        return load_model_stage("support", name_or_path, encoder=encoder, **self.options)

    def candidate(self, role: str, name_or_path: str, crisis: Stage) -> Stage:
        """A shadow candidate's stage, built once and kept."""
        key = (role, name_or_path)
        if key not in self._candidates:
            self._candidates[key] = (
                self.crisis(name_or_path)
                if role == "crisis"
                else self.support(name_or_path, crisis)
            )
        return self._candidates[key]
