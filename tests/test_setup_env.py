"""`source scripts/setup_env.sh` in a user's interactive shell leaves that shell's options as they
were (a later failing command must not close the terminal), also when the setup fails, and still
exports PY / PATH. The script runs in a copy of the repository layout whose .venv is a stub that is
already installed, so nothing is installed here."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stage12_fixtures import repo_root

OPTIONS = '{ set -o; shopt -p; trap -p; }'


@pytest.fixture
def checkout(tmp_path):
    """scripts/setup_env.sh next to a requirements.lock, a pyproject.toml and a .venv whose install
    stamp matches them (the state after a first setup)."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(repo_root() / "scripts" / "setup_env.sh", root / "scripts" / "setup_env.sh")
    (root / "requirements.lock").write_text("numpy==1.26.4\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")  # any call to it fails: an install attempt would show
    python.chmod(0o755)
    wanted = hashlib.sha256(((root / "requirements.lock").read_bytes() + (root / "pyproject.toml").read_bytes()))
    (root / ".venv" / ".install.sha256").write_text(wanted.hexdigest() + "\n")
    return root


def bash(script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_sourcing_keeps_the_callers_shell_options(checkout):
    result = bash(f'{OPTIONS} > before.txt; source scripts/setup_env.sh; echo "status $?"; {OPTIONS} > after.txt; '
                  'echo "PY=$PY"; echo "PATH=$PATH"', checkout)
    assert "status 0" in result.stdout, result.stderr
    assert (checkout / "after.txt").read_text() == (checkout / "before.txt").read_text()
    assert f"PY={checkout / '.venv' / 'bin' / 'python'}" in result.stdout
    assert f"PATH={checkout / '.venv' / 'bin'}:" in result.stdout


def test_a_failed_setup_returns_1_and_leaves_the_shell_running(checkout):
    (checkout / "requirements.lock").write_text("numpy==2.0.0\n")  # changed: an install is attempted and fails
    result = bash(f'{OPTIONS} > before.txt; source scripts/setup_env.sh; echo "status $?"; {OPTIONS} > after.txt; '
                  'false; echo "still here"', checkout)
    assert "status 1" in result.stdout and "still here" in result.stdout
    assert "install failed" in result.stderr
    assert (checkout / "after.txt").read_text() == (checkout / "before.txt").read_text()


def test_a_strict_script_that_sources_it_keeps_its_own_options(checkout):
    """scripts/demo.sh and scripts/test.sh run with `set -euo pipefail` and keep it."""
    result = bash('set -euo pipefail; source scripts/setup_env.sh; set -o | grep -E "^(errexit|nounset|pipefail) "',
                  checkout)
    assert result.returncode == 0, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["on", "on", "on"]
