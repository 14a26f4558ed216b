"""Named training recipes: the small CPU ones `make demo` runs, and the full GPU ones."""

from __future__ import annotations

from typing import Any

# `make demo` on a 2-core CPU: a few minutes per stage with the offline MiniLM base.
DEMO: dict[str, dict[str, Any]] = {
    # 96 tokens x 6,000 corpus examples (+ the hand-written ones): about 7 minutes here, and
    # on validation far fewer false alarms than 128 tokens x 2,400 (reports/crisis-demo).
    "crisis": {
        "max_length": 96,
        "epochs": 1.0,
        "batch_size": 16,
        "learning_rate": 8e-5,
        "max_train_examples": 6000,
        "max_eval_examples": 600,
        "goemotions_train": 3000,
        "max_windows": 8,
        # With the carrier negatives, weight 1 wins back implicit warning signs that 0.5 lost,
        # with fewer false alarms too (two seeds, reports/crisis-demo/recipes.md, E11).
        "warning_sign_weight": 1.0,
        # Crisis words about someone else, recovered from, or as a topic, as negatives; and the
        # SDCNL posts whose subreddit the text contradicts left out: at-risk users ranked above
        # Supportive ones, fewer topic and someone-else messages urgent (four seeds,
        # reports/2026-12-04-stage-one-frames/).
        "frame_weight": 1.0,
        "drop_label_issues": True,
        # One epoch on this little data is a wide draw: of seeds 13-15, seed 15 flags the
        # fewest validation everyday and calm texts at the same recall (17 % together, against
        # 24 % for the others), and ranks at-risk users above Supportive ones best (AUC 0.72
        # against 0.64-0.66; reports/2026-12-04-stage-one-frames/). Re-draw when the data change.
        "seed": 15,
    },
    "support": {
        "max_length": 64,
        "epochs": 1.0,
        "batch_size": 32,
        "learning_rate": 8e-5,
        "max_train_examples": 4000,
        "max_eval_examples": 800,
    },
    # Stage two as a head on stage one's encoder (`--encoder`): features, then a regression.
    "support_head": {"max_train_examples": 20000, "max_eval_examples": 3000},
}

# A stronger stage one that still fits a 2-core CPU in about 20 minutes (all crisis posts).
CPU: dict[str, dict[str, Any]] = {
    "crisis": {
        "max_length": 160,
        "epochs": 1.0,
        "batch_size": 16,
        "learning_rate": 6e-5,
        "max_eval_examples": 800,
        "goemotions_train": 4000,
        "max_windows": 8,
        "frame_weight": 1.0,
        "drop_label_issues": True,
    },
    "support": {
        "max_length": 64,
        "epochs": 1.0,
        "batch_size": 32,
        "learning_rate": 6e-5,
        "max_train_examples": 12000,
        "max_eval_examples": 1000,
    },
    "support_head": {},
    "dair_emotion": {
        "max_length": 64,
        "epochs": 1.0,
        "batch_size": 32,
        "learning_rate": 8e-5,
        "max_train_examples": 12000,
        "class_weight_power": 0.0,
    },
    "tweeteval_emotion": {
        "max_length": 64,
        "epochs": 2.0,
        "batch_size": 32,
        "learning_rate": 8e-5,
        "class_weight_power": 0.0,
    },
}

# Full fine-tunes for a GPU: every training example, longer context, early stopping.
FULL: dict[str, dict[str, Any]] = {
    "crisis": {
        "max_length": 512,
        "epochs": 4.0,
        "batch_size": 32,
        "learning_rate": 4e-5,
        "goemotions_train": 20000,
        "frame_weight": 1.0,
        "drop_label_issues": True,
    },
    "support": {"max_length": 128, "epochs": 4.0, "batch_size": 64, "learning_rate": 5e-5},
    "support_head": {},
    # MiniLM-L6 wants a higher rate than DistilBERT: 5e-5 x 4 epochs gave 0.9225, this 0.930.
    "dair_emotion": {
        "max_length": 96,
        "epochs": 6.0,
        "batch_size": 64,
        "learning_rate": 1e-4,
        "class_weight_power": 0.0,
    },
    "tweeteval_emotion": {
        "max_length": 128,
        "epochs": 5.0,
        "batch_size": 32,
        "learning_rate": 5e-5,
        "class_weight_power": 0.0,
    },
}
