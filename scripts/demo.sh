#!/usr/bin/env bash
# Quick start, command 1: set up .venv if needed, then run the pipeline on the embedded demo
# (a synthetic KEMDy19-format corpus generated here; nothing is downloaded).
# Outputs go to demo_work/ (override with DEMO_WORK=...); a re-run starts afresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup_env.sh
work="${DEMO_WORK:-demo_work}"
mkdir -p "$work"

echo "== synthetic demo corpus (KEMDy19 layout) and its utterance index =="
kemdy-synthetic-corpus --out "$work/corpus" --preset demo --seed 0
kemdy-index --corpus "$work/corpus" --out "$work/index"
kemdy-corpus-report --index "$work/index" --json "$work/corpus_report.json" > "$work/corpus_report.txt"
echo "corpus statistics next to the real KEMDy19 figures: $work/corpus_report.txt"

# One CPU thread for the models: tiny models run fastest so on a small CPU, and the numbers do not
# depend on the core count.
export OMP_NUM_THREADS=1
echo "== stage 1: audio + text feature extractor (tiny text model, acoustic audio encoder) =="
kemdy-stage1-train --config configs/stage1/demo.yaml data.index="$work/index" run_dir="$work/stage1" overwrite=true

echo "== stage 2: per-utterance features -> conversation pickle =="
kemdy-extract --checkpoint "$work/stage1" --index "$work/index" --out "$work/features.pkl" --threads 1

echo "== stage 3: contextual GNN (modality at) =="
kemdy-stage3-train --config configs/stage3/demo.yaml data.path="$work/features.pkl" data.modality=at \
  run_dir="$work/stage3_at" overwrite=true
kemdy-stage3-eval --checkpoint "$work/stage3_at" --data "$work/features.pkl" --split test \
  --out "$work/eval/stage3_at" --quiet
kemdy-embedding-map --data "$work/features.pkl" --modality fused --out "$work/embedding_map.png"

echo "== stage 1 (utterance-level) vs stage 3 (contextual GNN), test sessions 19-20 =="
"$PY" scripts/demo_summary.py --stage1 "$work/stage1/metrics.json" \
  --stage3 "$work/eval/stage3_at/metrics.json" --reference docs/demo_reference.json

echo "== files written =="
for path in "$work/corpus_report.txt" "$work/index/index.csv" "$work/stage1/export" "$work/stage1/learning_curves.png" \
    "$work/stage1/eval_test/confusion_matrix.png" "$work/features.pkl" "$work/stage3_at/model.safetensors" \
    "$work/stage3_at/learning_curves.png" "$work/eval/stage3_at/confusion_matrix.png" \
    "$work/eval/stage3_at/predictions.csv" "$work/embedding_map.png"; do
  echo "  $path"
done
echo "  (comet offline archives in $work/stage1/comet and $work/stage3_at/comet)"
