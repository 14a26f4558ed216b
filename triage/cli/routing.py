"""Commands that route: one message, the demo, the load report, the HTTP service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from triage.cli.app import app, console, data_root, fail, progress_bar
from triage.cli.training import ensure_demo_models

# One message per tier and kind of answer (see the default policy): urgent, reviewed,
# guidance about someone else, automatic support, logged.
DEMO_MESSAGES = [
    "I can't do this anymore. I'm going to kill myself tonight.",
    "i just want to k1ll mys3lf, nobody would even notice",
    "i took like twenty of my mom's sleeping pills an hour ago",
    "I used to cut myself in high school, I've been clean for two years",
    "what are the warning signs of suicide?",
    "my brother keeps saying he wants to die, how can i help him",
    "I've been so stressed about exams and I can't sleep",
    "What time does the support group meet on Thursdays?",
    "this traffic is killing me lol",
    "ok",
    "",
]
# No turn needs a person alone; together they do (rules.rising_risk).
DEMO_CONVERSATION = ["i feel so empty", "im so lonely", "what is even the point"]


@app.command()
def route(
    message: str = typer.Argument(..., help="The message to route."),
    conversation_id: str | None = typer.Option(None, help="Conversation it belongs to."),
    region: str | None = typer.Option(None, help="User's region for resource texts, e.g. GB."),
) -> None:
    """Route one message with the configured models and policy; print the decision."""
    from triage import Triage

    decision = Triage().route(message, conversation_id=conversation_id, region=region)
    console.print_json(decision.model_dump_json())


@app.command()
def demo() -> None:
    """Train small local models if missing, then route sample messages and show decisions."""
    from triage import Settings, Triage

    settings = Settings()
    ensure_demo_models(Path(settings.crisis_model), Path(settings.support_model))
    triage = Triage(settings)
    table = Table(title=f"crisis-triage demo (policy {triage.policy.version})")
    table.add_column("message", overflow="fold", ratio=1)
    table.add_column("decision", overflow="fold", ratio=1)
    for message, d in zip(DEMO_MESSAGES, triage.route_many(DEMO_MESSAGES), strict=True):
        table.add_row(repr(message), _decision_cell(d))
    console.print(table)
    console.print("[bold]One conversation, turn by turn (rules.rising_risk):[/bold]")
    alone = triage.route(DEMO_CONVERSATION[-1])
    console.print(f"  the last turn alone -> {alone.tier}: {alone.action}", markup=False)
    for message in DEMO_CONVERSATION:
        d = triage.route(message, conversation_id="demo-conversation", region="US")
        console.print(f"  turn {d.turn}: {message!r}", markup=False)
        console.print("    -> " + _decision_cell(d).replace("\n", "\n       "), markup=False)
        if d.context_turns:
            console.print(f"    turns behind it: {list(d.context_turns)}", markup=False)


def _decision_cell(d: Any) -> str:
    """A decision in a few words: tier, action, risk, reasons, case."""
    case = f" case {d.case_id[:8]}" if d.case_id else ""
    return f"{d.tier}: {d.action} (risk {d.crisis_score:.2f}){case}\n{', '.join(d.reasons)}"


@app.command("load-report")
def load_report(
    policy: Path | None = typer.Option(None, help="Policy to measure (default: the one in force)."),
    sample: Path | None = typer.Option(
        None, help="Your own traffic: JSON lines with 'text' and optionally 'at_risk' (bool)."
    ),
    output: Path = typer.Option(Path("reports/load"), help="Report folder to write."),
    everyday: int | None = typer.Option(None, help="Cap the everyday messages scored."),
    cached: bool = typer.Option(
        False, help="Apply the policy to the traffic scored last time (state folder)."
    ),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Cases per 10,000 messages by risk tier, on reference traffic or your own sample."""
    from policies.load import load_table
    from policies.loader import load_policy
    from stages.errors import TriageError
    from triage import Settings, Triage
    from triage.load_report import (
        LOAD_SAMPLE_FILE,
        read_sample,
        save_sample,
        to_markdown,
        write_report,
    )

    settings = Settings()
    cache = Path(settings.state_dir) / LOAD_SAMPLE_FILE
    try:
        in_force = load_policy(policy or settings.policy_path)
        if cached:
            messages = read_sample(cache)
        else:
            scored = _score_traffic(Triage(settings), sample, everyday, data_root(data_dir))
            save_sample(scored, cache)
            messages = scored
    except (TriageError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if not messages:
        fail(f"no scored traffic in {cache}: run `triage load-report` without --cached")
    table = load_table(in_force, messages)
    write_report(in_force, table, output)
    console.print(to_markdown(in_force, table), markup=False)
    console.print(f"[green]report written to {output}[/green]; scored traffic kept in {cache}")


def _score_traffic(
    triage: Any, sample: Path | None, everyday: int | None, root: Path | None
) -> list[Any]:
    """Score a platform's sample, or the reference traffic, with a progress bar."""
    from triage.load_report import read_jsonl_sample, score_texts

    if sample is not None:
        texts, at_risk = read_jsonl_sample(sample)
        groups = {
            value: [t for t, r in zip(texts, at_risk, strict=True) if r is value]
            for value in (True, False, None)
        }
        names = {True: "sample: at risk", False: "sample: not at risk", None: "sample"}
        return [
            m
            for value, chosen in groups.items()
            if chosen
            for m in score_texts(triage, names[value], chosen, at_risk=value)
        ]
    from training.reference import reference_traffic

    sets = reference_traffic(root, everyday=everyday)
    progress, update = progress_bar("scoring reference traffic")
    out: list[Any] = []
    with progress:
        for k, ref in enumerate(sets):
            update(k, len(sets))
            out += score_texts(triage, ref.name, ref.texts, at_risk=ref.at_risk, units=ref.units)
        update(len(sets), len(sets))
    return out


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    demo_data: bool = typer.Option(
        False, "--demo", help="Train demo models if missing, route the demo messages, make keys."
    ),
) -> None:
    """Serve the HTTP API and the counselor console."""
    import shutil

    import uvicorn

    from policies.loader import default_policy_file
    from review_queue.accounts import add_principal
    from triage import Settings, Triage
    from triage.service import create_app

    settings = Settings()
    if settings.policy_path is None:  # leads edit a copy in the state folder, never the package
        editable = Path(settings.state_dir) / "policy.yaml"
        if not editable.exists():
            editable.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(default_policy_file(), editable)
        settings = settings.model_copy(update={"policy_path": editable})
    if demo_data:
        ensure_demo_models(Path(settings.crisis_model), Path(settings.support_model))
    triage = Triage(settings)
    if demo_data:
        triage.route_many(DEMO_MESSAGES)
        for name, role in (
            ("platform-demo", "platform"),
            ("counselor", "counselor"),
            ("lead", "lead"),
        ):
            console.print(f"{role:9} {name:14} key: {add_principal(triage.store, name, role)}")
    console.print(f"console: http://{host}:{port}/console   API docs: http://{host}:{port}/docs")
    uvicorn.run(create_app(triage), host=host, port=port, log_level="info")


@app.command()
def score(
    source: Path = typer.Argument(
        ..., help="Messages: .csv, .jsonl or .parquet with a text column."
    ),
    out: Path = typer.Option(..., help="Decisions: .jsonl, or .parquet."),
    text_column: str = typer.Option("text", help="The column that holds the message text."),
    dry_run: bool = typer.Option(
        False, help="Decide only: open no case, write no audit record (what it would have done)."
    ),
    policy: Path | None = typer.Option(None, help="Try another policy file."),
    chunk: int = typer.Option(256, min=1, help="Messages per batch (and per resume point)."),
    celery: bool = typer.Option(
        False,
        help="Chunks scored by Celery workers on the archive queue (`celery -A triage.worker "
        "worker -Q archive`), which must see the output's folder.",
    ),
    timeout: float = typer.Option(24 * 3600, help="With --celery: seconds to wait for workers."),
) -> None:
    """Score an archive; resumes after the last completed chunk if run again."""
    import time

    from triage import Settings, Triage
    from triage.archive import count_rows, score_archive, summary_plot

    settings = Settings()
    if policy is not None:
        settings = settings.model_copy(update={"policy_path": policy})
    progress, update = progress_bar(f"scoring {source.name}")
    try:
        started = time.perf_counter()
        if celery:
            from triage.archive_celery import score_on_workers
            from triage.worker import app as celery_app

            with progress:
                summary = score_on_workers(
                    celery_app,
                    source,
                    out,
                    text_column=text_column,
                    chunk_size=chunk,
                    dry_run=dry_run,
                    policy=policy,
                    progress=update,
                    timeout_s=timeout,
                )
            version = "of the workers"
        else:
            triage = Triage(settings)
            total = count_rows(source)
            with progress:
                summary = score_archive(
                    triage,
                    source,
                    out,
                    text_column=text_column,
                    chunk_size=chunk,
                    dry_run=dry_run,
                    progress=lambda n: update(n, total),
                )
            version = triage.policy.version
        seconds = time.perf_counter() - started
    except (ValueError, FileNotFoundError, TimeoutError) as exc:
        fail(str(exc))
    table = Table(title=f"{summary.rows} messages scored (policy {version})")
    table.add_column("tier / action")
    table.add_column("messages", justify="right")
    for name, count in [*summary.tiers.most_common(), *summary.actions.most_common()]:
        table.add_row(name, str(count))
    console.print(table)
    crisis = summary.crisis / max(summary.rows, 1)
    resumed = f"; resumed after row {summary.resumed_from}" if summary.resumed_from else ""
    rate = summary.rows / max(seconds, 1e-9)
    console.print(f"crisis share {crisis:.3f}; {rate:.0f} messages a second{resumed}")
    plot = out.with_suffix(".png")
    summary_plot(summary, plot)
    console.print(f"[green]decisions in {out}, plot in {plot}[/green]")
