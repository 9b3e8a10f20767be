#!/usr/bin/env bash
# Evaluate every shipped stage-3 checkpoint (a folder whose config.json has format
# kemdy-erc-stage3-checkpoint) on the demo pickle's test split, one line each
# (accuracy / weighted-F1 / macro-F1, in %). Full outputs (metrics.json, classification report,
# confusion matrix, predictions.csv, report.html) go to $EVAL_OUT/<checkpoint name>/.
#   DATA=data/demo_features.pkl CHECKPOINTS=model_checkpoints SPLIT=test EVAL_OUT=runs/eval ./run_eval.sh
# TEXTS=work/index/index.csv (any CSV / TSV with segment_id + text) puts the utterances' text into each
# report.html; the pickle itself carries none.
# Relative paths given in DATA, CHECKPOINTS and EVAL_OUT are read from the folder you run it in;
# the defaults are the repository's own files.
set -euo pipefail
caller="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")"

# $1 when set (relative to the caller's folder), else the repository path $2
given_or_default() {
  case "$1" in
    "") printf '%s' "$2" ;;
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$caller" "$1" ;;
  esac
}
data="$(given_or_default "${DATA:-}" data/demo_features.pkl)"
checkpoints="$(given_or_default "${CHECKPOINTS:-}" model_checkpoints)"
split="${SPLIT:-test}"
eval_out="$(given_or_default "${EVAL_OUT:-}" runs/eval)"
texts=()
if [ -n "${TEXTS:-}" ]; then texts=(--texts "$(given_or_default "$TEXTS" "")"); fi
if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
export COMET_AUTO_LOG_ENV_DETAILS=false COMET_ERROR_TRACKING_ENABLE=false

if [ ! -f "$data" ]; then
  echo "run_eval.sh: conversation pickle not found: $data (set DATA=...)" >&2
  exit 1
fi
found=0
status=0
for config in "$checkpoints"/*/config.json; do
  [ -f "$config" ] || continue
  dir="$(dirname "$config")"
  [ -f "$dir/model.safetensors" ] || continue
  # stage-1 checkpoints may live here too; only stage-3 ones are evaluated
  grep -q '"format": "kemdy-erc-stage3-checkpoint"' "$config" || continue
  found=$((found + 1))
  name="$(basename "$dir")"
  "$py" -m cgnn.eval --checkpoint "$dir" --data "$data" --split "$split" \
    --out "$eval_out/$name" "${texts[@]}" --quiet || status=1
done
if [ "$found" -eq 0 ]; then
  echo "run_eval.sh: no stage-3 checkpoints (model.safetensors + config.json) under $checkpoints" >&2
  exit 1
fi
exit "$status"
