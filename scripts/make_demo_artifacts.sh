#!/usr/bin/env bash
# Regenerate the shipped demo artifacts with the real pipeline:
#   model_checkpoints/demo_stage1/                  the stage-1 export (tiny text model + acoustic audio)
#   data/demo_features.pkl (+ .config.json)         stage 2 of that export on the synthetic demo corpus
#   model_checkpoints/demo_stage3_{a,t,at,atp}/     stage 3 on that pickle (configs/stage3/demo.yaml)
# Usage: bash scripts/make_demo_artifacts.sh   (work folder: ARTIFACT_WORK, default demo_work/artifacts)
# Only model.safetensors, config.json and metrics.json of each stage-3 run are kept; the resume
# state and tracking archives stay in the work folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup_env.sh
# One CPU thread: the numbers then do not depend on the core count (float sums run in one order).
export OMP_NUM_THREADS=1
work="${ARTIFACT_WORK:-demo_work/artifacts}"
modalities=(a t at atp)

mkdir -p "$work"
echo "== corpus and index =="
kemdy-synthetic-corpus --out "$work/corpus" --preset demo --seed 0
kemdy-index --corpus "$work/corpus" --out "$work/index"

echo "== stage 1 =="
rm -rf "$work/stage1"
kemdy-stage1-train --config configs/stage1/demo.yaml \
  data.index="$work/index" run_dir="$work/stage1" trainer.progress_bar=false tracking.comet=false

echo "== stage 2 -> data/demo_features.pkl =="
kemdy-extract --checkpoint "$work/stage1" --index "$work/index" \
  --out "$work/features.pkl" --threads 1
rm -rf model_checkpoints/demo_stage1.tmp
cp -r "$work/stage1/export" model_checkpoints/demo_stage1.tmp
rm -rf model_checkpoints/demo_stage1
mv model_checkpoints/demo_stage1.tmp model_checkpoints/demo_stage1
mkdir -p data
cp "$work/features.pkl" data/demo_features.pkl.tmp
cp "$work/features.pkl.config.json" data/demo_features.pkl.config.json.tmp
mv data/demo_features.pkl.tmp data/demo_features.pkl
mv data/demo_features.pkl.config.json.tmp data/demo_features.pkl.config.json
cp "$work/stage1/metrics.json" "$work/stage1_metrics.json"

for modality in "${modalities[@]}"; do
  echo "== stage 3: modality $modality =="
  run="$work/stage3_$modality"
  rm -rf "$run"
  kemdy-stage3-train --config configs/stage3/demo.yaml data.path=data/demo_features.pkl \
    data.modality="$modality" run_dir="$run" tracking.comet=false trainer.progress_bar=false
  target="model_checkpoints/demo_stage3_$modality"
  rm -rf "$target.tmp"
  mkdir -p "$target.tmp"
  cp "$run/model.safetensors" "$run/config.json" "$run/metrics.json" "$target.tmp/"
  rm -rf "$target"
  mv "$target.tmp" "$target"
done

echo "== stage-1 test metrics of this run (for docs/demo.md) =="
"$PY" scripts/demo_summary.py --stage1 "$work/stage1/metrics.json" \
  $(for m in "${modalities[@]}"; do kemdy-stage3-eval --checkpoint "model_checkpoints/demo_stage3_$m" \
      --data data/demo_features.pkl --split test --out "$work/eval/$m" --quiet >&2
    echo --stage3 "$work/eval/$m/metrics.json"; done)
du -sh data/demo_features.pkl model_checkpoints/demo_stage1 model_checkpoints/demo_stage3_*
