"""Figures for reports, drawn off-screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(size: tuple[float, float]) -> tuple[Any, Any]:
    """A new figure and its axes."""
    return plt.subplots(figsize=size)


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
