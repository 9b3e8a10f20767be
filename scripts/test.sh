#!/usr/bin/env bash
# Quick start, command 2: set up .venv if needed, then run the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup_env.sh
exec "$PY" -m pytest "$@"
