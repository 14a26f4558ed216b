#!/usr/bin/env bash
# GPU inference benchmark on a lent machine: train the two stages with the full recipes (if
# missing), then benchmarks/inference_bench.py --device cuda (fp32, fp16, bf16).
# Usage there: bash scripts/gpu_bench.sh MODELS_DIR BASE_DIR ; needs TRIAGE_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
models=$1; base=$2
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
T="python3 -m triage.cli"
for task in crisis support; do
  [ -f "$models/$task/triage_stage.yaml" ] || \
    $T train --task $task --output "$models/$task" --base "$base" --recipe full >"$models/$task.log" 2>&1 &
done
wait
$T tune-thresholds "$models/crisis" --task crisis --target-recall 0.97 --max-windows 4
python3 benchmarks/inference_bench.py --device cuda --models "$models"
