#!/usr/bin/env bash
# Create the project's virtualenv (.venv) if needed and install requirements.txt into it.
# Re-installs only when requirements.txt changed since the last successful install.
# Usage: source scripts/setup_env.sh   (exports PY = the venv's python)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
stamp="$venv/.requirements.sha256"
base_python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating virtualenv in .venv with $base_python"
  "$base_python" -m venv "$venv"
fi
wanted="$(sha256sum "$repo_root/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "[setup] installing requirements.txt (first run takes a few minutes)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$repo_root/requirements.txt"
  # Nothing else in requirements.txt may move the torch pin.
  "$venv/bin/python" -c "import torch, sys; v = torch.__version__.split('+')[0]; sys.exit(0 if v == '2.13.0' else f'torch {torch.__version__} installed, expected 2.13.0')"
  echo "$wanted" > "$stamp"
fi
export PY="$venv/bin/python"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export COMET_AUTO_LOG_ENV_DETAILS=false COMET_ERROR_TRACKING_ENABLE=false
