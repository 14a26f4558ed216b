"""Commands that train, tune, evaluate and export models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from training.thresholds import DEFAULT_TARGET_PRECISION, DEFAULT_TARGET_RECALL
from triage.cli.app import app, console, data_root, fail, progress_bar


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
    supportive_weight: float | None = typer.Option(None, help=_help("supportive_weight")),
    feedback: Path | None = typer.Option(None, help=_help("feedback")),
    feedback_texts: Path | None = typer.Option(None, help=_help("feedback_texts")),
    feedback_weight: float | None = typer.Option(None, help=_help("feedback_weight")),
    drop_label_issues: bool | None = typer.Option(None, help=_help("drop_label_issues")),
    target_recall: float | None = typer.Option(None, help=_help("target_recall")),
    seed: int | None = typer.Option(None, help=_help("seed") + " (default: the recipe's)"),
    data_dir: Path | None = typer.Option(None, help="Local corpora (default TRIAGE_DATA_DIR)."),
) -> None:
    """Fine-tune a stage, then tune its thresholds on validation data (options: TrainConfig)."""
    # Every option but these is a TrainConfig field; those not given (None) keep the recipe's.
    # Read first, before any other local name exists.
    given = {k: v for k, v in locals().items() if k not in ("task", "output", "recipe", "data_dir")}
    from training.pipeline import build_config

    try:
        cfg = build_config(task, output, recipe, **given)
        if goemotions_train == 0:  # 0 means "all", which None (not given) cannot say
            cfg = cfg.model_copy(update={"goemotions_train": None})
        _train(cfg, data_dir)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))


def _train(cfg: Any, data_dir: Path | None) -> None:
    from training.pipeline import FEEDBACK_REPORT, train_and_tune

    progress, update = progress_bar(f"training {cfg.task}")
    with progress:
        thresholds = train_and_tune(cfg, data_root(data_dir), progress=update)
    console.print(f"[green]wrote {cfg.output_dir}[/green]; thresholds {thresholds}")
    report = Path(cfg.output_dir) / FEEDBACK_REPORT
    if cfg.feedback is not None and report.exists():
        found = json.loads(report.read_text(encoding="utf-8"))
        for when in ("before", "after"):
            if when in found:
                console.print(
                    f"feedback {when}: {found[when]['false_alarms_flagged']} of "
                    f"{found['false_alarms']} false alarms flagged, "
                    f"{found[when]['at_risk_flagged']} of {found['at_risk']} people at risk"
                )


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

    found = sdcnl_label_issues(data_root(data_dir), output)
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
            fail(f"{model_dir} is a head: it reads its encoder's windows; set them there")
        card.max_windows = max_windows
        card.save(model_dir)
    data = load_task(task, data_root(data_dir))
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

    from training.classification_report import classification_report
    from training.crisis_report import crisis_report
    from training.tasks import load_task

    options = {"rule": multi_label_rule} if stage == "support" else {}
    data = load_task(stage, data_root(data_dir), **options)
    if stage == "crisis":
        metrics = crisis_report(model_dir, data, output, root=data_root(data_dir))
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
    data = load_task(StageCard.load(model_dir).task, data_root(data_dir))
    texts = data.validation.shuffle(seed=13)["text"][:validate_on]
    return validate(model_dir, texts, ["onnx", "onnx-int8"] if quantize else ["onnx"])


def ensure_demo_models(crisis: Path, support: Path) -> None:
    """Train the small demo models (offline base encoder) where they are missing.

    Stage two is a head on stage one's encoder, so routing costs one encoder pass. Training
    exports the encoder to ONNX (fp32 and int8; the default backend runs int8 on CPU, see
    docs/results.md "Speed"); models trained before that are exported here.
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
