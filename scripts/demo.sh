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
"$PY" scripts/make_synthetic_corpus.py --out "$work/corpus" --preset demo --seed 0

echo "== building the utterance index =="
"$PY" scripts/build_index.py --corpus "$work/corpus" --out "$work/index"

echo "== corpus statistics vs the real KEMDy19 figures =="
"$PY" scripts/corpus_report.py --index "$work/index"
