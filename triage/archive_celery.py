"""Score an archive on Celery workers: the input is cut into chunk files, workers score them.

The coordinator (``triage score --celery``) writes the input's rows as chunk files in
``<output>.parts/``, sends one task per chunk to the ``archive`` queue and waits for each
chunk's decisions file; then it joins them in input order into the output. Workers (``celery
-A triage.worker worker -Q archive``, on as many machines as share that folder) route each
chunk with their own ``Triage`` and write its decisions atomically: a chunk whose decisions
exist is never scored again, so running the command again resumes. Delivery is at least once:
without ``--dry-run``, a chunk whose worker died half-way may open its cases a second time.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import Celery

from policies.decision import Decision
from triage.archive import (
    ArchiveSummary,
    decisions_file,
    read_rows,
    route_chunk,
    to_parquet,
    write_decisions,
)

if TYPE_CHECKING:
    from triage.facade import Triage

ARCHIVE_QUEUE = "archive"
SCORE_CHUNK = "triage.score_chunk"
MANIFEST = "manifest.json"


def parts_dir(output: Path) -> Path:
    """Where the chunks of ``output`` are kept while workers score them."""
    return output.with_name(output.name + ".parts")


def split_archive(source: Path, parts: Path, text_column: str, chunk_size: int) -> list[int]:
    """Write the input's rows as chunk files; the rows per chunk.

    Chunks written for the same input and chunk size by an earlier run are reused.
    """
    stat = source.stat()
    key = {
        "source": str(source.resolve()),
        "bytes": stat.st_size,
        "modified": stat.st_mtime_ns,
        "text_column": text_column,
        "chunk_size": chunk_size,
    }
    manifest = parts / MANIFEST
    if manifest.exists():
        known = json.loads(manifest.read_text(encoding="utf-8"))
        if {k: known.get(k) for k in key} == key:
            return list(known["sizes"])
        shutil.rmtree(parts)  # another input or chunking: start again
    parts.mkdir(parents=True, exist_ok=True)
    rows = read_rows(source, text_column)
    sizes: list[int] = []
    while chunk := list(islice(rows, chunk_size)):
        path = chunk_input(parts, len(sizes))
        path.write_text("".join(json.dumps(r, default=str) + "\n" for r in chunk), "utf-8")
        sizes.append(len(chunk))
    manifest.write_text(json.dumps(key | {"sizes": sizes}), encoding="utf-8")
    return sizes


def chunk_input(parts: Path, index: int) -> Path:
    """The rows of chunk ``index``."""
    return parts / f"in-{index:06d}.jsonl"


def chunk_output(parts: Path, index: int) -> Path:
    """The decisions of chunk ``index`` (present only once complete)."""
    return parts / f"out-{index:06d}.jsonl"


def score_chunk(triage: Triage, parts: Path, index: int, text_column: str, dry_run: bool) -> int:
    """Route one chunk and write its decisions atomically; the rows routed (0 if done before)."""
    done = chunk_output(parts, index)
    if done.exists():
        return 0
    with chunk_input(parts, index).open(encoding="utf-8") as fh:
        chunk = [json.loads(line) for line in fh]
    decisions = route_chunk(triage, chunk, text_column, dry_run)
    tmp = done.with_name(f".{done.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        write_decisions(out, decisions)
    os.replace(tmp, done)
    return len(chunk)


def register_archive_task(app: Celery, triage_for: Callable[[str | None], Triage]) -> None:
    """Register the chunk-scoring task; ``triage_for(policy_path)`` gives the worker's Triage."""

    @app.task(name=SCORE_CHUNK)  # type: ignore[untyped-decorator]
    def score(parts: str, index: int, text_column: str, dry_run: bool, policy: str | None) -> int:
        return score_chunk(triage_for(policy), Path(parts), index, text_column, dry_run)


def score_on_workers(
    app: Celery,
    source: Path,
    output: Path,
    *,
    text_column: str = "text",
    chunk_size: int = 256,
    dry_run: bool = False,
    policy: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout_s: float = 24 * 3600,
) -> ArchiveSummary:
    """Send the chunks not yet scored to the workers, wait for them, join their decisions.

    ``TimeoutError`` naming the chunks still missing after ``timeout_s`` (run again to resume).
    """
    parts = parts_dir(output)
    sizes = split_archive(source, parts, text_column, chunk_size)
    pending = {i for i in range(len(sizes)) if not chunk_output(parts, i).exists()}
    args: list[Any] = [str(parts.resolve()), 0, text_column, dry_run, policy and str(policy)]
    for index in sorted(pending):
        args[1] = index
        app.send_task(SCORE_CHUNK, args=list(args), queue=ARCHIVE_QUEUE)
    deadline = time.monotonic() + timeout_s
    total = sum(sizes)
    while pending:
        pending = {i for i in pending if not chunk_output(parts, i).exists()}
        if progress is not None:
            progress(total - sum(sizes[i] for i in pending), total)
        if pending and time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(pending)} chunks not scored after {timeout_s:.0f} s (first: "
                f"{chunk_input(parts, min(pending)).name}); run again to resume"
            )
        time.sleep(0.2 if pending else 0)
    summary = _join(parts, len(sizes), output)
    shutil.rmtree(parts)
    return summary


def _join(parts: Path, chunks: int, output: Path) -> ArchiveSummary:
    summary = ArchiveSummary()
    lines = decisions_file(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with lines.open("w", encoding="utf-8") as out:
        for index in range(chunks):
            text = chunk_output(parts, index).read_text(encoding="utf-8")
            out.write(text)
            summary.add([Decision.model_validate_json(line) for line in text.splitlines()])
    if lines != output:
        to_parquet(lines, output)
    return summary
