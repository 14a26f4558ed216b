"""MkDocs hooks: pages generated from the code, so the reference cannot drift from it.

A page holds a marker such as ``<!-- generated: policy-schema -->``; the hook replaces it at
build time with a table made from the pydantic schema, the typer CLI's help, the settings
model, or the changelog.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_reference import GENERATORS  # noqa: E402

_MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each generated-content marker with its content."""
    return _MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)
