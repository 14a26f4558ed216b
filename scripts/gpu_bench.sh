#!/usr/bin/env bash
# GPU inference benchmark on a lent machine: train stage one and a stage two of its own with
# the full recipes (if missing), stage two as a head on stage one (seconds), then
# benchmarks/inference_bench.py --device cuda (fp32, fp16, bf16, and fp16 with two encoders).
# Usage there: bash scripts/gpu_bench.sh MODELS_DIR BASE_DIR ; needs TRIAGE_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
models=$1; base=$2
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
T="python3 -m triage.cli"
[ -f "$models/crisis/triage_stage.yaml" ] || {
  $T train --task crisis --output "$models/crisis" --base "$base" --recipe full \
    >"$models/crisis.log" 2>&1 &&
  $T tune-thresholds "$models/crisis" --task crisis --target-recall 0.97 --max-windows 4; } &
[ -f "$models/support-finetuned/triage_stage.yaml" ] || \
  $T train --task support --output "$models/support-finetuned" --base "$base" --recipe full \
    >"$models/support-finetuned.log" 2>&1 &
wait
[ -f "$models/support/triage_stage.yaml" ] || \
  $T train --task support --encoder "$models/crisis" --output "$models/support" --recipe full \
    >"$models/support.log" 2>&1
python3 benchmarks/inference_bench.py --device cuda --models "$models" \
  --two-encoders "$models/support-finetuned"
