#!/usr/bin/env bash
# Stage-one recipes over several seeds on a lent GPU machine (H100/H200), all jobs at once.
# Usage there: bash scripts/gpu_stage_one.sh OUT_DIR [BASE_DIR] [SET] ; needs
# TRIAGE_DATA_DIR. `signs`: with and without the warning signs; `balance`: ways to win
# back the everyday messages the warning signs cost; `full`: the full recipe as it now stands
# (reports/gpu/stage-one-seeds/README.md); `supportive`: the demo recipe with the Supportive
# users' posts as negatives, with and without more everyday negatives, judged on the held-out
# C-SSRS users (reports/2026-12-04-cssrs-negatives/study.py); `supportive-full`: the same
# question for the full recipe.
# Each job trains, tunes its threshold on validation and writes its crisis report (or, for
# `supportive`, the study's results); one line per job lands in OUT_DIR/summary.tsv as it
# finishes, reports in OUT_DIR/reports.tgz at the end. SEEDS (default 13-17) picks the demo
# seeds; EXTRA adds options to every job (a smoke test on a CPU: EXTRA="--max-train-examples 64").
set -uo pipefail
cd "$(dirname "$0")/.."
out=$1; base=${2:-auto}; set_name=${3:-signs}; seeds=${SEEDS:-13 14 15 16 17}
STUDY=reports/2026-12-04-cssrs-negatives/study.py
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
T="python3 -m triage.cli"
mkdir -p "$out" /tmp/models /tmp/reports

job() {  # name recipe train-options...
  local name=$1 recipe=$2; shift 2
  local start=$SECONDS
  timeout "${JOB_LIMIT_S:-540}" $T train --task crisis --output "/tmp/models/$name" --base "$base" \
    --recipe "$recipe" "$@" ${EXTRA:-} >"/tmp/reports/$name.log" 2>&1 \
    || { echo "$name failed" >>"$out/summary.tsv"; return; }
  if [[ "$set_name" == supportive* ]]; then
    mkdir -p "/tmp/reports/$name"
    timeout "${JOB_LIMIT_S:-540}" python3 "$STUDY" "/tmp/models/$name" --name "$name" \
      >>"/tmp/reports/$name.log" 2>&1 || { echo "$name study failed" >>"$out/summary.tsv"; return; }
    cp "$(dirname "$STUDY")/results-$name.json" "/tmp/reports/$name/"
    study_row "$name" "$((SECONDS - start))" "/tmp/reports/$name/results-$name.json" >>"$out/summary.tsv"
    return
  fi
  if [ "$recipe" = full ]; then  # the full recipe trains with head+tail; score posts in windows
    $T tune-thresholds "/tmp/models/$name" --task crisis --target-recall 0.97 --max-windows 4 \
      >>"/tmp/reports/$name.log" 2>&1
  fi
  $T evaluate "/tmp/models/$name" --stage crisis --output "/tmp/reports/$name" \
    >>"/tmp/reports/$name.log" 2>&1
  python3 - "$name" "$((SECONDS - start))" "/tmp/reports/$name/metrics.json" >>"$out/summary.tsv" <<'PY'
import json, sys
name, secs, path = sys.argv[1:]
m = json.load(open(path))
c = m["short_message_checks"]
print("\t".join(map(str, [name, secs, round(m["threshold"], 4),
    m["flag_rate_goemotions_validation"], m["flag_rate_goemotions_test"],
    m["flag_rate_not_stressed_validation"], m["flag_rate_stressed_validation"],
    m["roc_auc_suicidewatch_vs_depression_validation"],
    *(f'{c[k]["flagged_model"]}/{c[k]["flagged_with_safety_net"]}' for k in ("crisis", "implicit", "figurative"))])))
PY
}

study_row() {  # name seconds results.json: held-out C-SSRS users, then validation and checks
  python3 - "$@" <<'PY'
import json, sys
name, secs, path = sys.argv[1:]
m = json.load(open(path))
r = m["cssrs_report"]
cells = [r["auc_at_risk_vs_supportive"], r["at risk"]["urgent"], r["at risk"]["reach_person"],
         r["Supportive"]["urgent"], r["Indicator"]["urgent"], m["cssrs_tune"]["auc_at_risk_vs_supportive"]]
for key in ("goemotions_validation", "not_stressed", "suicidewatch"):
    cells += [m[key]["reach_person"], m[key]["urgent"]]
cells += [m[f"checks: {k}"]["urgent"] for k in ("crisis", "implicit", "attempts")]
print("\t".join(map(str, [name, secs, round(m["threshold"]["crisis"], 4), *cells])))
PY
}

if [[ "$set_name" == supportive* ]]; then
  printf 'job\tseconds\tthreshold\tauc_held\tat_risk_urgent\tat_risk_reach\tsupportive_urgent\tindicator_urgent\tauc_tune\tgo_reach\tgo_urgent\tcalm_reach\tcalm_urgent\tsw_reach\tsw_urgent\tcrisis_urgent\timplicit_urgent\tattempts_urgent\n' >"$out/summary.tsv"
else
printf 'job\tseconds\tthreshold\tgo_val\tgo_test\tnot_stressed\tstressed\tauc\tcrisis\timplicit\tfigurative\n' >"$out/summary.tsv"
fi
if [ "$set_name" = signs ]; then
  # The demo recipe (what `make demo` trains on CPU) without and with the warning signs.
  for seed in $seeds; do
    job "demo-ws0-s$seed" demo --seed "$seed" --warning-sign-weight 0 &
    job "demo-ws1-s$seed" demo --seed "$seed" --warning-sign-weight 1 &
  done
  # The full recipe, the same question, two seeds with the warning signs.
  job full-ws0-s13 full --seed 13 --warning-sign-weight 0 &
  job full-ws1-s13 full --seed 13 --warning-sign-weight 1 &
  job full-ws1-s14 full --seed 14 --warning-sign-weight 1 &
elif [ "$set_name" = supportive ]; then
  for seed in $seeds; do
    job "demo-s$seed" demo --seed "$seed" &
    job "sw1-s$seed" demo --seed "$seed" --supportive-weight 1 &
    job "sw1-go8k-s$seed" demo --seed "$seed" --supportive-weight 1 --goemotions-train 8000 &
    job "sw1-go5k-s$seed" demo --seed "$seed" --supportive-weight 1 --goemotions-train 5000 &
  done
elif [ "$set_name" = supportive-full ]; then
  for seed in 13 14; do
    job "full-s$seed" full --seed "$seed" &
    job "full-sw1-s$seed" full --seed "$seed" --supportive-weight 1 &
  done
elif [ "$set_name" = full ]; then
  job full-ws05-s13 full --seed 13 &
  job full-ws05-s14 full --seed 14 &
else
  for seed in $seeds; do
    # every crisis post and 2,000 GoEmotions messages (E7 in reports/crisis-demo/recipes.md)
    job "e7-ws1-s$seed" demo --seed "$seed" --goemotions-train 2000 --max-train-examples 100000 &
    # the demo's 6,000 examples with twice the GoEmotions share
    job "go6k-ws1-s$seed" demo --seed "$seed" --goemotions-train 6000 &
    # the warning signs and their look-alikes at half weight
    job "demo-ws05-s$seed" demo --seed "$seed" --warning-sign-weight 0.5 &
  done
  job full-go40k-ws1-s13 full --seed 13 --goemotions-train 40000 &
fi
wait
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >>"$out/summary.tsv"
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__)" >>"$out/summary.tsv"
tar czf "$out/reports.tgz" -C /tmp reports
