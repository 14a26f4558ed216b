#!/usr/bin/env bash
# Full fine-tunes on a lent GPU machine (H100/H200), all jobs at once on the one GPU.
# Usage there: bash scripts/gpu_reports.sh OUT_DIR [BASE_DIR] ; needs TRIAGE_DATA_DIR.
# Reports land in OUT_DIR/reports/<job>/ (copy into reports/gpu/); weights stay on the machine.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$1; base=${2:-auto}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
T="python3 -m triage.cli"
mkdir -p "$out/reports" /tmp/models

job() {  # name task train-options...
  local name=$1 task=$2; shift 2
  local start=$SECONDS
  $T train --task "$task" --output "/tmp/models/$name" --base "$base" --recipe full "$@" \
    >"$out/reports/$name.log" 2>&1 || { echo "$name train failed" >>"$out/jobs.tsv"; return; }
  local trained=$((SECONDS - start))
  if [ "$task" = crisis ]; then
    $T tune-thresholds "/tmp/models/$name" --task crisis --target-recall 0.97 --max-windows 4 \
      >>"$out/reports/$name.log" 2>&1
  fi
  $T evaluate "/tmp/models/$name" --stage "$task" --output "$out/reports/$name" \
    >>"$out/reports/$name.log" 2>&1
  cp "/tmp/models/$name/triage_stage.yaml" "$out/reports/$name/" 2>/dev/null
  printf '%s\t%s\ttrain_s=%s\ttotal_s=%s\n' "$name" "$task" "$trained" $((SECONDS - start)) \
    >>"$out/jobs.tsv"
}

# Stage one: the recipe, then the two data choices that move false alarms most.
job crisis-full crisis &
job crisis-dep1 crisis --depression-weight 1.0 &
job crisis-dep1-goall crisis --depression-weight 1.0 --goemotions-train 0 &
job crisis-dep1-goall-256 crisis --depression-weight 1.0 --goemotions-train 0 \
  --max-length 256 --epochs 6 --learning-rate 3e-5 &
# Stage two and the public emotion benchmarks.
job support-full support &
job dair-full dair_emotion &
job dair-full-lr1e4 dair_emotion --learning-rate 1e-4 --epochs 6 &
job tweeteval-full tweeteval_emotion &
wait
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >>"$out/jobs.tsv"
