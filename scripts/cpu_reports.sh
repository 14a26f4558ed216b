#!/usr/bin/env bash
# The runs behind the committed reports, on this project's 2-core CPU (no GPU was lent).
# Models land in models/ (git-ignored); reports in reports/ (committed).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export TRIAGE_DATA_DIR=${TRIAGE_DATA_DIR:-$(realpath ../shared/data)}
T=.venv/bin/triage

# Stage one (crisis-specific supervision) and its crisis report.
[ -f models/crisis/triage_stage.yaml ] || $T train --task crisis --output models/crisis --recipe cpu
# Overlapping windows with max pooling flagged fewer validation negatives than head+tail at
# equal recall (reports/crisis, "Long posts"), so stage one scores long texts in 8 windows.
$T tune-thresholds models/crisis --task crisis --target-recall 0.97 --max-windows 8
$T evaluate models/crisis --stage crisis --output reports/crisis
# What `make demo` trains (reports/crisis-demo/recipes.md compares its variants by hand).
[ -f models/crisis-demo/triage_stage.yaml ] || $T train --task crisis --output models/crisis-demo --recipe demo
$T evaluate models/crisis-demo --stage crisis --output reports/crisis-demo
# Stage two as `make demo` trains it: a head on that stage one's encoder.
[ -f models/support-demo-head/triage_stage.yaml ] || $T export models/crisis-demo --validate-on 0
[ -f models/support-demo-head/triage_stage.yaml ] || \
  $T train --task support --output models/support-demo-head --recipe demo --encoder models/crisis-demo
$T evaluate models/support-demo-head --stage support --output reports/support-demo-head
# Conversation context (rules.rising_risk) on validation conversations, with stage one above.
.venv/bin/python benchmarks/conversation_eval.py --models models

# Stage two on GoEmotions -> support classes, full test split (5,427).
[ -f models/support/triage_stage.yaml ] || $T train --task support --output models/support --recipe cpu
$T evaluate models/support --stage support --output reports/support-goemotions

# Multi-label rule comparison at equal (demo) budget.
for rule in most_severe first_listed; do
  [ -f models/support-$rule/triage_stage.yaml ] || \
    $T train --task support --output models/support-$rule --recipe demo --multi-label-rule $rule
  $T evaluate models/support-$rule --stage support --multi-label-rule $rule \
    --output reports/support-rule-$rule
done

# Plain emotion classifiers on the public benchmarks.
for task in dair_emotion tweeteval_emotion; do
  [ -f models/$task/triage_stage.yaml ] || $T train --task $task --output models/$task --recipe cpu
  $T evaluate models/$task --stage $task --output reports/$task
done
