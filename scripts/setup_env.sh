#!/usr/bin/env bash
# Create the project's virtualenv (.venv) if needed, install the tested environment
# (requirements.lock: exact versions) and the toolkit itself (editable, with its console
# commands: kemdy-index, kemdy-stage1-train, kemdy-extract, kemdy-stage3-train, ...).
# Re-installs only when requirements.lock or pyproject.toml changed since the last install.
# Usage: source scripts/setup_env.sh   (exports PY = the venv's python and puts .venv/bin on PATH)
#
# Sourced into an interactive shell it leaves that shell's options as they were: the install runs
# in a subshell with `set -euo pipefail`, and a failure returns 1 instead of closing the terminal.

_kemdy_setup_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_kemdy_install() {
  set -euo pipefail
  local repo_root="$1" venv="$1/.venv"
  local stamp="$venv/.install.sha256"
  local base_python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "[setup] creating virtualenv in .venv with $base_python"
    "$base_python" -m venv "$venv" || return 1
  fi
  local wanted
  wanted="$(cat "$repo_root/requirements.lock" "$repo_root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  echo "[setup] installing requirements.lock and the toolkit (first run takes a few minutes; log: .venv/install.log)"
  {
    "$venv/bin/python" -m pip install --upgrade pip &&
    "$venv/bin/python" -m pip install -r "$repo_root/requirements.lock" &&
    "$venv/bin/python" -m pip install --no-deps --editable "$repo_root"
  } > "$venv/install.log" 2>&1 || { tail -n 40 "$venv/install.log"; echo "[setup] install failed; see .venv/install.log" >&2; return 1; }
  # Nothing may move the torch pin.
  "$venv/bin/python" -c "import torch, sys; v = torch.__version__.split('+')[0]; sys.exit(0 if v == '2.13.0' else f'torch {torch.__version__} installed, expected 2.13.0')" || return 1
  echo "$wanted" > "$stamp"
}

# The subshell's `set -e` cannot reach the caller; its status decides what happens here.
( _kemdy_install "$_kemdy_setup_root" )
_kemdy_setup_status=$?
unset -f _kemdy_install
if [ "$_kemdy_setup_status" -ne 0 ]; then
  unset _kemdy_setup_root _kemdy_setup_status
  return 1 2>/dev/null || exit 1
fi
export PY="$_kemdy_setup_root/.venv/bin/python"
export PATH="$_kemdy_setup_root/.venv/bin:$PATH"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
unset _kemdy_setup_root _kemdy_setup_status
