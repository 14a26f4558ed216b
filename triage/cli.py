"""The ``triage`` command line: route, train, tune, evaluate, demo, audit, spool."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from training.thresholds import DEFAULT_TARGET_PRECISION, DEFAULT_TARGET_RECALL

app = typer.Typer(
    help="crisis-triage: route messages that need a person to a person, first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
spool_app = typer.Typer(
    help="The local spool of cases the database could not take.", no_args_is_help=True
)
queue_app = typer.Typer(help="The counselors' review queue.", no_args_is_help=True)
users_app = typer.Typer(help="Keys for platforms, counselors and leads.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(spool_app, name="spool")
console = Console()
err = Console(stderr=True, style="red")

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


def _fail(message: str) -> NoReturn:
    err.print(f"error: {message}")
    raise typer.Exit(1)


def _progress_bar(title: str) -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task(title, total=None)

    def update(step: int, total: int) -> None:
        progress.update(task, completed=step, total=total)

    return progress, update


def _data_root(data_dir: Path | None) -> Path | None:
    from training.data import data_dir as resolve

    return resolve(data_dir)


def _help(field: str) -> str:
    """A training option's help: the description of its ``TrainConfig`` field."""
    from training.config import TrainConfig

    return TrainConfig.model_fields[field].description or field.replace("_", " ")


@app.command()
def train(
    task: str = typer.Option(..., help=_help("task")),
    output: Path = typer.Option(..., help=_help("output_dir")),
    recipe: str = typer.Option("full", help="full (GPU), cpu (about 25 min) or demo (minutes)."),
    base: str | None = typer.Option(None, help=_help("base")),
    encoder: Path | None = typer.Option(None, help=_help("encoder")),
    max_length: int | None = typer.Option(None, help=_help("max_length")),
    epochs: float | None = typer.Option(None, help=_help("epochs")),
    batch_size: int | None = typer.Option(None, help=_help("batch_size")),
    learning_rate: float | None = typer.Option(None, help=_help("learning_rate")),
    max_train_examples: int | None = typer.Option(None, help=_help("max_train_examples")),
    max_eval_examples: int | None = typer.Option(None, help=_help("max_eval_examples")),
    freeze_layers: int | None = typer.Option(None, help=_help("freeze_layers")),
    multi_label_rule: str | None = typer.Option(None, help=_help("multi_label_rule")),
    goemotions_train: int | None = typer.Option(None, help=_help("goemotions_train") + " (0: all)"),
    depression_weight: float | None = typer.Option(None, help=_help("depression_weight")),
    figurative_weight: float | None = typer.Option(None, help=_help("figurative_weight")),
    warning_sign_weight: float | None = typer.Option(None, help=_help("warning_sign_weight")),
    frame_weight: float | None = typer.Option(None, help=_help("frame_weight")),
    drop_label_issues: bool | None = typer.Option(None, help=_help("drop_label_issues")),
    target_recall: float | None = typer.Option(None, help=_help("target_recall")),
    seed: int | None = typer.Option(None, help=_help("seed") + " (default: the recipe's)"),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Fine-tune a stage, then tune its thresholds on validation data (options: TrainConfig)."""
    from training.pipeline import build_config

    # Every option but these is a TrainConfig field; those not given (None) keep the recipe's.
    given = {k: v for k, v in locals().items() if k not in ("task", "output", "recipe", "data_dir")}
    try:
        cfg = build_config(task, output, recipe, **given)
        if goemotions_train == 0:  # 0 means "all", which None (not given) cannot say
            cfg = cfg.model_copy(update={"goemotions_train": None})
    except ValueError as exc:
        _fail(str(exc))
    _train(cfg, data_dir)


def _train(cfg: Any, data_dir: Path | None) -> None:
    from training.pipeline import train_and_tune

    progress, update = _progress_bar(f"training {cfg.task}")
    with progress:
        thresholds = train_and_tune(cfg, _data_root(data_dir), progress=update)
    console.print(f"[green]wrote {cfg.output_dir}[/green]; thresholds {thresholds}")


@app.command("label-issues")
def label_issues(
    output: Path = typer.Option(
        Path("training/sdcnl_label_issues.yaml"), help="Where to write the flagged posts' keys."
    ),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Find SDCNL posts whose subreddit label the text contradicts (cleanlab).

    Stage one drops them when trained with ``drop_label_issues``.
    """
    from training.label_issues import sdcnl_label_issues

    found = sdcnl_label_issues(_data_root(data_dir), output)
    console.print_json(json.dumps(found))


@app.command("tune-thresholds")
def tune_thresholds(
    model_dir: Path = typer.Argument(..., help="A stage directory written by `triage train`."),
    task: str = typer.Option(..., help="The task its validation data comes from."),
    target_recall: float = typer.Option(DEFAULT_TARGET_RECALL, help=_help("target_recall")),
    target_precision: float = typer.Option(
        DEFAULT_TARGET_PRECISION, help=_help("target_precision")
    ),
    max_windows: int | None = typer.Option(
        None, help="Score long texts in up to N overlapping windows (1: head+tail); saved."
    ),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Re-tune an existing model's thresholds on validation data, without retraining."""
    from stages.model_dir import StageCard
    from training.evaluate import tune
    from training.tasks import load_task

    if max_windows is not None:
        card = StageCard.load(model_dir)
        if card.encoder is not None:
            _fail(f"{model_dir} is a head: it reads its encoder's windows; set them there")
        card.max_windows = max_windows
        card.save(model_dir)
    data = load_task(task, _data_root(data_dir))
    thresholds = tune(
        model_dir, data, target_recall=target_recall, target_precision=target_precision
    )
    console.print(f"[green]thresholds written to {model_dir}[/green]: {thresholds}")


@app.command()
def evaluate(
    model_dir: Path = typer.Argument(..., help="A stage directory."),
    stage: str = typer.Option(..., help="crisis, support, dair_emotion or tweeteval_emotion."),
    output: Path = typer.Option(..., help="Report folder to write."),
    split: str = typer.Option("test", help="test or validation (classification tasks)."),
    multi_label_rule: str = typer.Option("most_severe", help="Support labels: rule for ties."),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Write a report folder: metrics.json, summary.md and plots."""
    import numpy as np

    from training.evaluate import classification_report, crisis_report
    from training.tasks import load_task

    options = {"rule": multi_label_rule} if stage == "support" else {}
    data = load_task(stage, _data_root(data_dir), **options)
    if stage == "crisis":
        metrics = crisis_report(model_dir, data, output, root=_data_root(data_dir))
    else:
        ds = data.test if split == "test" and data.test is not None else data.validation
        metrics = classification_report(
            model_dir, ds["text"], np.array(ds["label"]), output, split=split
        )
    console.print_json(
        json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))})
    )
    console.print(f"[green]report written to {output}[/green]")


@app.command()
def export(
    model_dir: Path = typer.Argument(..., help="A stage directory written by `triage train`."),
    quantize: bool = typer.Option(True, help="Also write the dynamically quantised int8 graph."),
    validate_on: int = typer.Option(
        500, help="Validation texts to compare against PyTorch (0: skip)."
    ),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Export a stage to ONNX (fp32 + int8) and check it agrees with the PyTorch model."""
    report = _export(model_dir, quantize, validate_on, data_dir)
    if report is not None:
        console.print_json(json.dumps(report))


def _export(
    model_dir: Path, quantize: bool, validate_on: int, data_dir: Path | None
) -> dict[str, Any] | None:
    """Write the ONNX graphs; compare them with PyTorch on validation texts if asked."""
    from stages.head import encoder_dir_of
    from stages.model_dir import StageCard
    from training.export import export_onnx, validate
    from training.tasks import load_task

    encoder = encoder_dir_of(model_dir)
    if encoder is not None:  # a head has no graph: it reads its encoder's
        console.print(f"{model_dir} is a head on {encoder}: exporting that encoder")
        model_dir = encoder
    for path in export_onnx(model_dir, quantize=quantize):
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if not validate_on:
        return None
    data = load_task(StageCard.load(model_dir).task, _data_root(data_dir))
    texts = data.validation.shuffle(seed=13)["text"][:validate_on]
    return validate(model_dir, texts, ["onnx", "onnx-int8"] if quantize else ["onnx"])


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


def ensure_demo_models(crisis: Path, support: Path) -> None:
    """Train the small demo models (offline base encoder) where they are missing.

    Stage two is a head on stage one's encoder, so routing costs one encoder pass. The
    encoder is also exported to ONNX: fp32, which the default backend then runs on CPU
    (about twice as fast as PyTorch here, same scores), and int8 for ``backend: onnx-int8``
    (faster again, scores within quantisation noise; see README "Speed").
    """
    import shutil

    from stages.backends import LAYER_MEANS, onnx_outputs, onnx_path
    from stages.head import encoder_dir_of, head_fits_encoder
    from training.pipeline import build_config

    for task, out in (("crisis", crisis), ("support", support)):
        if encoder_dir_of(out) is not None and not head_fits_encoder(out):
            console.print(f"[bold]{out} was fit on an earlier stage one: training it again[/bold]")
            shutil.rmtree(out)
        if not (out / "triage_stage.yaml").exists():
            console.print(f"[bold]no {task} model in {out}: training the demo recipe[/bold]")
            head_on = {"encoder": crisis} if task == "support" else {}
            _train(build_config(task, out, "demo", **head_on), None)
        if encoder_dir_of(out) is not None:
            continue  # a head: its encoder's graph serves it
        graph = onnx_path(out, "onnx")
        if not graph.exists() or LAYER_MEANS not in onnx_outputs(graph):
            report = _export(out, quantize=True, validate_on=100, data_dir=None)
            if report is not None:
                console.print(
                    f"{task}: ONNX vs PyTorch on 100 validation texts, largest probability "
                    f"difference fp32 {report['onnx']['max_abs_prob_diff']:.1e}, "
                    f"int8 {report['onnx-int8']['max_abs_prob_diff']:.2f}"
                )


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
            scored = _score_traffic(Triage(settings), sample, everyday, _data_root(data_dir))
            save_sample(scored, cache)
            messages = scored
    except (TriageError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    if not messages:
        _fail(f"no scored traffic in {cache}: run `triage load-report` without --cached")
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
    progress, update = _progress_bar("scoring reference traffic")
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


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Who: a platform or a person."),
    role: str = typer.Option(..., help="platform, counselor or lead."),
) -> None:
    """Create a key (or replace one); it is printed once and only its hash is stored."""
    from review_queue.accounts import add_principal

    try:
        key = add_principal(_store(), name, role)
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"key for {name} ({role}): {key}")


def _store() -> Any:
    from triage import Settings

    return Settings().case_store()


def _queue() -> Any:
    from review_queue.queue import ReviewQueue

    return ReviewQueue(_store())


def _queue_action(action: Any) -> Any:
    from stages.errors import QueueError

    try:
        return action()
    except QueueError as exc:
        _fail(str(exc))


def _case_line(case: Any) -> str:
    return (
        f"{case.id}  p{case.priority}  {case.status.value:<9} {case.action:<20} "
        f"crisis={case.crisis} support={case.support} created={case.created_at:%H:%M:%S}"
    )


def _minutes(delta_s: float) -> str:
    sign = "-" if delta_s < 0 else ""
    return f"{sign}{int(abs(delta_s) // 60)}m{int(abs(delta_s) % 60):02d}s"


@queue_app.command("list")
def queue_list(limit: int = typer.Option(20, help="How many cases.")) -> None:
    """Open cases, most urgent first, then oldest, with waiting time and SLA countdown."""
    from review_queue.models import utcnow
    from review_queue.queue import as_utc

    now = utcnow()
    table = Table(title="review queue")
    for column in ("case", "pri", "status", "action", "support", "waiting", "SLA left"):
        table.add_column(column, no_wrap=True, min_width=len(column))
    table.columns[0].min_width = 8  # the id prefix that every queue command accepts
    for c in _queue().open_cases(limit):
        created, deadline = as_utc(c.created_at), as_utc(c.sla_deadline)
        table.add_row(
            c.id[:8],
            str(c.priority),
            c.status.value,
            c.action,
            c.support or "-",
            _minutes((now - created).total_seconds()) if created else "-",
            _minutes((deadline - now).total_seconds()) if deadline else "-",
        )
    console.print(table)


@queue_app.command("claim")
def queue_claim(
    counselor: str = typer.Option(..., help="Your counselor id."),
    case_id: str | None = typer.Argument(None, help="A case (default: the top one)."),
) -> None:
    """Claim a case; it is yours until you resolve, escalate or release it, or the lease ends."""
    queue = _queue()
    case = _queue_action(lambda: queue.claim(counselor, case_id and queue.find(case_id)))
    console.print(f"[green]claimed[/green] {_case_line(case)}")
    console.print(f"reasons: {json.loads(case.reasons)}")
    if case.message_text:
        console.print(f"message: {case.message_text}")


@queue_app.command("resolve")
def queue_resolve(
    case_id: str,
    counselor: str = typer.Option(...),
    outcome: str = typer.Option(
        ..., help="contacted, referred, emergency_services, no_action_needed or false_alarm"
    ),
    label: str | None = typer.Option(None, help="Corrected support class."),
    note: str | None = typer.Option(None),
) -> None:
    """Resolve a case you hold."""
    queue = _queue()
    case = _queue_action(
        lambda: queue.resolve(counselor, queue.find(case_id), outcome, label, note)
    )
    console.print(f"[green]resolved[/green] {_case_line(case)}")


@queue_app.command("escalate")
def queue_escalate(
    case_id: str, counselor: str = typer.Option(...), note: str | None = typer.Option(None)
) -> None:
    """Escalate a case you hold to a lead (top priority)."""
    queue = _queue()
    case = _queue_action(lambda: queue.escalate(counselor, queue.find(case_id), note))
    console.print(f"[yellow]escalated[/yellow] {_case_line(case)}")


@queue_app.command("release")
def queue_release(case_id: str, counselor: str = typer.Option(...)) -> None:
    """Put a case you hold back in the queue."""
    queue = _queue()
    case = _queue_action(lambda: queue.release(counselor, queue.find(case_id)))
    console.print(f"released {_case_line(case)}")


@queue_app.command("show")
def queue_show(case_id: str) -> None:
    """A case with its decision and audit history."""
    queue = _queue()
    case = _queue_action(lambda: queue.get(queue.find(case_id)))
    console.print(_case_line(case))
    console.print_json(case.decision)
    for event in queue.history(case.id):
        console.print(f"  #{event['seq']} {event['at']} {event['event']} by {event['actor']}")


@queue_app.command("export")
def queue_export(output: Path = typer.Option(..., help="JSON-lines file to write.")) -> None:
    """Counselor corrections as labelled data for retraining (text only if stored)."""
    count = _queue().export_corrections(output)
    console.print(f"wrote {count} corrections to {output}")


@app.command()
def relay(
    interval: float = typer.Option(0.2, help="Seconds between idle rounds."),
    sla_every: float = typer.Option(30.0, help="Seconds between SLA checks."),
) -> None:
    """Publish outbox rows to the broker and run SLA checks, until interrupted."""
    import threading
    import time

    from review_queue.celery_app import make_celery
    from review_queue.relay import Relay
    from review_queue.tasks import SLA_ALERT
    from triage import Settings

    queue = _queue()
    app_ = make_celery(Settings().broker_url)
    worker = Relay(queue.store, app_)
    stop = threading.Event()
    console.print("relay running (Ctrl-C to stop)")
    last_sla = 0.0
    try:
        while not stop.is_set():
            if worker.run_once() == 0:
                time.sleep(interval)
            if time.monotonic() - last_sla >= sla_every:
                last_sla = time.monotonic()
                for breach in queue.breach_sla():
                    app_.send_task(SLA_ALERT, args=[breach.case_id, breach.priority])
    except KeyboardInterrupt:
        stop.set()


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; name the first broken record."""
    from review_queue.audit import verify

    store = _store()
    with store.session() as session:
        report = verify(session, store.anchor)
    if not report.ok:
        _fail(f"audit chain broken at record {report.first_broken_seq}: {report.problem}")
    console.print(f"[green]audit chain intact: {report.records} records[/green]")


@app.command("shadow-report")
def shadow_report(
    candidate: str | None = typer.Option(None, help="Candidate name (default: the latest)."),
    since: str | None = typer.Option(None, help="ISO-8601 UTC start, e.g. 2026-11-20."),
    examples: int = typer.Option(10, min=0, help="Disagreements to show."),
    out: Path | None = typer.Option(None, help="Also write the report here (.md and .json)."),
) -> None:
    """Compare the shadow candidate's decisions with the live ones (from the audit log)."""
    from review_queue.shadow_report import shadow_report as build
    from review_queue.shadow_report import to_markdown

    with _store().session() as session:
        report = build(session, candidate=candidate, since=since, examples=examples)
    text = to_markdown(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    console.print(text, markup=False)


@spool_app.command("replay")
def spool_replay() -> None:
    """Move spooled cases into the database now."""
    console.print(f"replayed {_store().replay_spool()} spooled batches")


def main() -> None:
    """Entry point with plain logging."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
