"""Score an archive of messages: what the library would have done with last month's traffic.

Input: CSV, JSON lines or Parquet with a text column and optional ``id``, ``conversation_id``,
``user_id``, ``region`` columns. Output: one decision per row, as JSON lines written chunk by
chunk, or Parquet (its JSON lines are kept beside it while the run goes on); a ``.progress``
file records the rows done, so a run that crashed resumes after its last completed chunk.
With ``dry_run`` no case is opened and nothing is stored.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from policies.decision import Decision

if TYPE_CHECKING:
    from triage.facade import Triage

FORMATS = (".csv", ".jsonl", ".parquet")


@dataclass
class ArchiveSummary:
    """What the run decided: counts by action and tier, and how many rows it scored."""

    rows: int = 0
    resumed_from: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    crisis: int = 0

    def add(self, decisions: list[Decision]) -> None:
        """Count a chunk's decisions."""
        self.rows += len(decisions)
        self.actions.update(d.action for d in decisions)
        self.tiers.update(d.tier for d in decisions)
        self.crisis += sum(d.crisis for d in decisions)


def read_rows(path: Path, text_column: str = "text") -> Iterator[dict[str, Any]]:
    """The input's rows in order (``ValueError`` naming the file if the text column is missing)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown format {suffix!r}; use one of {FORMATS}")
    rows = _parquet(path) if suffix == ".parquet" else _text_rows(path, suffix)
    for number, row in enumerate(rows, 1):
        if not isinstance(row.get(text_column), str):
            raise ValueError(f"{path}: row {number} has no text in column {text_column!r}")
        yield row


def count_rows(path: Path) -> int:
    """How many rows the input holds (for a progress bar; cheap next to scoring them)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return sum(1 for _ in _text_rows(path, path.suffix.lower()))


def _text_rows(path: Path, suffix: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        if suffix == ".csv":
            yield from csv.DictReader(fh)
        else:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        yield from batch.to_pylist()


def _column(rows: list[dict[str, Any]], name: str) -> list[str | None]:
    return [None if row.get(name) in (None, "") else str(row[name]) for row in rows]


def score_archive(
    triage: Triage,
    source: Path,
    output: Path,
    *,
    text_column: str = "text",
    chunk_size: int = 256,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ArchiveSummary:
    """Route every row of ``source`` in chunks, appending decisions to ``output`` (JSON lines).

    Resumes after the rows a previous run completed (``output`` + ``.progress``); each chunk's
    decisions are on disk before the progress file counts them.
    """
    lines = decisions_file(output)
    marker = output.with_name(output.name + ".progress")
    done = int(marker.read_text()) if marker.exists() and lines.exists() else 0
    if done:
        _keep_first_lines(lines, done)  # a chunk cut short by a crash is scored again
    summary = ArchiveSummary(resumed_from=done)
    rows = read_rows(source, text_column)
    for _ in islice(rows, done):  # rows already scored: checked, not routed again
        pass
    output.parent.mkdir(parents=True, exist_ok=True)
    with lines.open("a" if done else "w", encoding="utf-8") as out:
        while chunk := list(islice(rows, chunk_size)):
            decisions = route_chunk(triage, chunk, text_column, dry_run)
            write_decisions(out, decisions)
            done += len(chunk)
            marker.write_text(str(done))
            summary.add(decisions)
            if progress is not None:
                progress(done)
    if lines != output:
        to_parquet(lines, output)
    return summary


def decisions_file(output: Path) -> Path:
    """Where decisions are appended as JSON lines: the output, or a file beside a Parquet one."""
    return output.with_name(output.name + ".jsonl") if output.suffix == ".parquet" else output


def route_chunk(
    triage: Triage, chunk: list[dict[str, Any]], text_column: str, dry_run: bool
) -> list[Decision]:
    """One chunk of rows through ``route_many``, with the platform's ids from its columns."""
    return triage.route_many(
        [row[text_column] for row in chunk],
        conversation_ids=_column(chunk, "conversation_id"),
        regions=_column(chunk, "region"),
        message_ids=_column(chunk, "id"),
        user_ids=_column(chunk, "user_id"),
        dry_run=dry_run,
    )


def write_decisions(out: TextIO, decisions: list[Decision]) -> None:
    """Append decisions as JSON lines and make them durable before anything counts them."""
    out.writelines(d.model_dump_json() + "\n" for d in decisions)
    out.flush()
    os.fsync(out.fileno())


def _keep_first_lines(path: Path, n: int) -> None:
    with path.open("rb+") as fh:
        for _ in range(n):
            if not fh.readline():
                raise ValueError(f"{path} holds fewer than the {n} rows its progress file counts")
        fh.truncate()


PARQUET_COLUMNS = (
    "message_id",
    "user_id",
    "conversation_id",
    "turn",
    "action",
    "tier",
    "human",
    "priority",
    "crisis",
    "crisis_score",
    "support",
    "reasons",
    "case_id",
    "policy_version",
)


def to_parquet(lines: Path, output: Path) -> None:
    """The decisions of a JSON-lines file as a Parquet table of their main fields."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with lines.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    table = pa.Table.from_pylist([{k: row.get(k) for k in PARQUET_COLUMNS} for row in rows])
    pq.write_table(table, output)


def summary_plot(summary: ArchiveSummary, path: Path) -> None:
    """Bars of the decisions by tier and by action (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, (title, counts) in zip(
        axes, (("risk tier", summary.tiers), ("action", summary.actions)), strict=True
    ):
        names = sorted(counts, key=counts.__getitem__, reverse=True)
        ax.barh(names, [counts[n] for n in names], color="#4c72b0")
        ax.invert_yaxis()
        ax.set_title(f"decisions by {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
