#!/usr/bin/env bash
# Quick start, command 1: set up .venv if needed, then run the pipeline on the embedded demo
# (a synthetic KEMDy19-format corpus generated here; nothing is downloaded).
# Outputs go to demo_work/ (override with DEMO_WORK=...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup_env.sh
work="${DEMO_WORK:-demo_work}"
mkdir -p "$work"

echo "== generating the synthetic demo corpus (KEMDy19 layout) =="
kemdy-synthetic-corpus --out "$work/corpus" --preset demo --seed 0

echo "== building the utterance index =="
kemdy-index --corpus "$work/corpus" --out "$work/index"

echo "== corpus statistics vs the real KEMDy19 figures =="
kemdy-corpus-report --index "$work/index"

# One CPU thread for the models: tiny models run fastest so on a small CPU, and the numbers do not
# depend on the core count. Stage 1 refuses a folder that already holds a run: a re-run starts afresh.
export OMP_NUM_THREADS=1
echo "== stage 1: audio + text feature extractor (tiny text model, acoustic audio encoder) =="
rm -rf "$work/stage1"
kemdy-stage1-train --config configs/stage1/demo.yaml \
  data.index="$work/index" run_dir="$work/stage1" trainer.progress_bar=false

echo "== stage 2: per-utterance features -> conversation pickle =="
kemdy-extract --checkpoint "$work/stage1" --index "$work/index" \
  --out "$work/features.pkl" --threads 1

echo "== stage 3: contextual GNN (modality at) =="
rm -rf "$work/stage3_at"
kemdy-stage3-train --config configs/stage3/demo.yaml data.path="$work/features.pkl" \
  data.modality=at run_dir="$work/stage3_at"

echo "== evaluation on the test sessions =="
kemdy-stage3-eval --checkpoint "$work/stage3_at" --data "$work/features.pkl" --split test \
  --out "$work/eval/stage3_at"

echo "== stage 1 (utterance-level) vs stage 3 (contextual GNN), test split =="
"$PY" scripts/demo_summary.py --stage1 "$work/stage1/metrics.json" \
  --stage3 "$work/eval/stage3_at/metrics.json"
