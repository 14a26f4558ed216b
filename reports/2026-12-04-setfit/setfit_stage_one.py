"""SetFit-style contrastive fine-tuning of stage one against the Trainer recipe, same data.

Run beside the project (SetFit is not a dependency of the library):
    pip install --target /tmp/setfit setfit==1.2.0 evaluate --no-deps
    PYTHONPATH=/tmp/setfit TRIAGE_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 \
        .venv/bin/python reports/2026-12-04-setfit/setfit_stage_one.py [STEPS] [SEED]
It trains SetFit (contrastive pairs on the MiniLM body, then a logistic-regression head) on
the rows the `demo` recipe trains stage one on, for STEPS steps of 16 pairs (two encoder
passes a pair: 220 steps cost about what the recipe's one epoch of 16 texts a step does),
then scores the same validation sets as `models/crisis` (the `make demo` stage one), each at
a threshold tuned for recall 0.97 on validation r/SuicideWatch posts: models alone, no safety
net, no frames. It writes results-<steps>-<seed>.json beside this script.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from datasets import Dataset
from setfit import SetFitModel, Trainer, TrainingArguments
from sklearn.metrics import roc_auc_score

from stages.transformer import TransformerStage
from training.base_models import resolve_base
from training.cssrs import AT_RISK, load_cssrs
from training.finetune import training_sample
from training.pipeline import build_config, task_data
from training.reference import check_sets
from training.tasks import TaskData
from training.thresholds import crisis_threshold

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 220
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 15
ROOT = Path(os.environ["TRIAGE_DATA_DIR"])
HERE = Path(__file__).parent


def train_setfit(rows: Dataset) -> SetFitModel:
    """SetFit on the MiniLM base: contrastive pairs for ``STEPS`` steps, then the head."""
    model = SetFitModel.from_pretrained(resolve_base(None))
    model.model_body.max_seq_length = 96  # the recipe's tokens per text
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(),
        batch_size=16,
        num_epochs=1,
        max_steps=STEPS,
        num_iterations=1,  # one same-label and one other-label pair per row, then capped
        body_learning_rate=2e-5,
        seed=SEED,
        report_to="none",
        show_progress_bar=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows)
    trainer.train()
    model.model_body.max_seq_length = 256  # read more of a long post when scoring
    return model


def evaluate(run: Callable[[list[str]], list[float]], data: TaskData) -> dict[str, float]:
    """Model-only figures at a threshold for recall 0.97 on validation SW posts."""
    slices = data.slices
    sw = np.asarray(run(list(slices["suicidewatch"]["text"])))
    t = crisis_threshold(sw, np.ones_like(sw), 0.97)
    out = {"threshold": t}
    dep = np.asarray(run(list(slices["depression"]["text"])))
    labels = np.r_[np.ones_like(sw), np.zeros_like(dep)]
    out["auc_sw_vs_depression"] = round(float(roc_auc_score(labels, np.r_[sw, dep])), 4)
    for key in ("goemotions_validation", "not_stressed", "stressed", "depression"):
        scores = dep if key == "depression" else np.asarray(run(list(slices[key]["text"])))
        out[f"flag_{key}"] = round(float((scores >= t).mean()), 4)
    for check in check_sets():
        out[f"flag_{check.name}"] = round(float((np.asarray(run(check.texts)) >= t).mean()), 4)
    users = load_cssrs(ROOT)
    best: dict[str, float] = defaultdict(float)
    posts = [(u.id, p) for u in users for p in u.posts]
    for (uid, _), s in zip(posts, run([p for _, p in posts]), strict=True):
        best[uid] = max(best[uid], float(s))
    chosen = [u for u in users if u.label in AT_RISK or u.label == "Supportive"]
    y = [u.label in AT_RISK for u in chosen]
    out["auc_at_risk_vs_supportive"] = round(
        float(roc_auc_score(y, [best[u.id] for u in chosen])), 4
    )
    for label in ("Supportive", "Indicator"):
        group = [u for u in users if u.label == label]
        out[f"users_flagged_{label}"] = round(float(np.mean([best[u.id] >= t for u in group])), 4)
    at_risk = [u for u in users if u.label in AT_RISK]
    out["users_flagged_at_risk"] = round(float(np.mean([best[u.id] >= t for u in at_risk])), 4)
    return out


def main() -> None:
    """Train, score both models, write the figures."""
    cfg = build_config("crisis", Path(tempfile.mkdtemp()), "demo", seed=SEED)
    data = task_data(cfg, ROOT)
    rows = training_sample(cfg, data)
    rows = Dataset.from_dict({"text": list(rows["text"]), "label": list(rows["label"])})
    started = time.perf_counter()
    model = train_setfit(rows)
    train_s = time.perf_counter() - started

    def setfit_scores(texts: list[str]) -> list[float]:
        return [float(p[1]) for p in model.predict_proba(texts, batch_size=64)]

    cached = HERE / "trainer_demo_model.json"
    if not cached.exists():
        trainer_model = TransformerStage("crisis", "models/crisis")
        figures = evaluate(trainer_model.crisis_probabilities, data)
        cached.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "rows": len(rows),
        "setfit": {"steps": STEPS, "seed": SEED, "train_seconds": round(train_s)}
        | evaluate(setfit_scores, data),
        "trainer_demo_model": json.loads(cached.read_text(encoding="utf-8")),
    }
    path = HERE / f"results-{STEPS}-{SEED}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
