"""Scoring an archive: every row decided once, resumable, dry runs open nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlmodel import func, select
from tests_support import settings_env
from typer.testing import CliRunner

from review_queue.models import AuditRecord, Case
from triage import Triage
from triage.archive import score_archive
from triage.cli import app

MESSAGES = [
    "i want to kill myself tonight",
    "what time does the group meet?",
    "i took all my pills an hour ago",
    "ok",
    "this traffic is killing me lol",
    "",
    "nobody would miss me",
    "thanks, see you thursday",
    "i'm going to end my life",
    "lunch was great",
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    rows = [{"id": f"m{i}", "text": t, "region": "GB"} for i, t in enumerate(MESSAGES)]
    return write_csv(tmp_path / "archive.csv", rows)


def counts(triage: Triage) -> tuple[int, int]:
    triage.store.flush()
    with triage.store.session() as s:
        cases = s.exec(select(func.count()).select_from(Case)).one()
        records = s.exec(select(func.count()).select_from(AuditRecord)).one()
    return cases, records


def read_decisions(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_dry_run_decides_every_row_and_opens_nothing(
    triage: Triage, archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.jsonl"
    summary = score_archive(triage, archive, out, chunk_size=4, dry_run=True)
    decisions = read_decisions(out)
    assert [d["message_id"] for d in decisions] == [f"m{i}" for i in range(len(MESSAGES))]
    assert summary.rows == len(MESSAGES) and sum(summary.tiers.values()) == len(MESSAGES)
    live = [triage.route(m) for m in MESSAGES]  # the same decisions route() makes
    assert [d["action"] for d in decisions] == [d.action for d in live]
    assert all(d["case_id"] is None for d in decisions)
    assert counts(triage) == (sum(d.human for d in live), len(MESSAGES))  # only route()'s


def test_without_dry_run_cases_are_opened(triage: Triage, archive: Path, tmp_path: Path) -> None:
    summary = score_archive(triage, archive, tmp_path / "d.jsonl")
    humans = sum(n for tier, n in summary.tiers.items() if tier != "none")
    assert counts(triage)[0] == humans > 0


def test_a_crashed_run_resumes_after_its_last_completed_chunk(
    triage: Triage, archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.jsonl"

    def crash_after_first_chunk(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_archive(
            triage, archive, out, chunk_size=4, dry_run=True, progress=crash_after_first_chunk
        )
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"action": "torn')  # a chunk cut short before its progress was written
    summary = score_archive(triage, archive, out, chunk_size=4, dry_run=True)
    assert summary.resumed_from == 4 and summary.rows == len(MESSAGES) - 4
    ids = [d["message_id"] for d in read_decisions(out)]
    assert ids == [f"m{i}" for i in range(len(MESSAGES))]  # each row once, in order


def test_parquet_in_and_out(triage: Triage, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{"message": t} for t in MESSAGES]), source)
    out = tmp_path / "out.parquet"
    score_archive(triage, source, out, text_column="message", dry_run=True)
    table = pq.read_table(out)
    assert table.num_rows == len(MESSAGES) and "tier" in table.column_names


def test_json_lines_in_keep_ids_and_conversations(triage: Triage, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"id": f"j{i}", "text": t, "conversation_id": "c1"} for i, t in enumerate(MESSAGES)]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = score_archive(triage, source, out, dry_run=True)
    decisions = read_decisions(out)
    assert summary.rows == len(MESSAGES)  # the blank line is no row
    assert [d["message_id"] for d in decisions] == [r["id"] for r in rows]
    assert {d["conversation_id"] for d in decisions} == {"c1"}


def test_the_cli_scores_summarises_and_plots(
    make_triage: Callable[..., Triage], archive: Path, tmp_path: Path
) -> None:
    env = settings_env(make_triage())
    out = tmp_path / "decisions.jsonl"
    result = CliRunner().invoke(
        app, ["score", str(archive), "--out", str(out), "--dry-run"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "10 messages scored" in result.output and "messages a second" in result.output
    assert out.with_suffix(".png").stat().st_size > 0
    missing = CliRunner().invoke(
        app, ["score", str(archive), "--out", str(out), "--text-column", "body"], env=env
    )
    assert missing.exit_code != 0 and "column 'body'" in missing.output
