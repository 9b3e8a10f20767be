"""No network, ever, by default: every command, started as a user starts it (its console command,
in a fresh process whose environment holds none of our settings), runs the tiny pipeline without a
single connection attempt or name lookup. A guard loaded into each process (sitecustomize) records
and refuses every attempt."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stage12_fixtures import repo_root

GUARD = '''
import os, socket
_log = os.environ["NETWORK_GUARD_LOG"]

def _refuse(kind):
    def blocked(*args, **kwargs):
        target = args[1:] if kind.startswith("socket.") else args
        if kind.startswith("socket.") and args[0].family == socket.AF_UNIX:
            return _originals[kind](*args, **kwargs)  # local IPC, not the network
        with open(_log, "a") as handle:
            handle.write(f"{kind} {target!r}\\n")
        raise OSError(f"network disabled by the test guard ({kind})")
    return blocked

_originals = {"socket.connect": socket.socket.connect, "socket.connect_ex": socket.socket.connect_ex}
socket.socket.connect = _refuse("socket.connect")
socket.socket.connect_ex = _refuse("socket.connect_ex")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
'''


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("offline")
    guard = root / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    home = root / "home"
    home.mkdir()
    log = root / "attempts.log"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(guard),
           "NETWORK_GUARD_LOG": str(log), "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    return {"root": root, "env": env, "log": log}


def command(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip(f"console command {name} is not installed (scripts/setup_env.sh installs the toolkit)")
    return str(path)


def run(sandbox, name, *args):
    result = subprocess.run([command(name), *map(str, args)], cwd=sandbox["root"], env=sandbox["env"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name}: {result.stderr[-3000:]}"
    return result


def test_the_guard_records_attempts(sandbox, tmp_path):
    log = tmp_path / "guard_check.log"
    code = "import socket\ntry:\n    socket.create_connection(('huggingface.co', 443), timeout=1)\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", code], env={**sandbox["env"], "NETWORK_GUARD_LOG": str(log)},
                   check=True, timeout=60)
    assert "create_connection" in log.read_text()


def test_every_command_runs_the_pipeline_without_a_network_attempt(sandbox):
    root, configs = sandbox["root"], repo_root() / "configs"
    run(sandbox, "kemdy-synthetic-corpus", "--out", root / "corpus", "--preset", "tiny", "--seed", "1")
    run(sandbox, "kemdy-index", "--corpus", root / "corpus", "--out", root / "index")
    run(sandbox, "kemdy-corpus-report", "--index", root / "index")
    run(sandbox, "kemdy-stage1-train", "--config", configs / "stage1/demo.yaml", f"data.index={root / 'index'}",
        f"run_dir={root / 'stage1'}", "model.audio.kind=hf", "model.audio.name=tiny", "tiny_preset.hidden=32",
        "tiny_preset.conv_dim=16", "data.max_audio_seconds=2.0", "data.num_workers=0", "data.scan_workers=0",
        "trainer.max_epochs=1", "tracking.comet=true")
    assert list((root / "stage1" / "comet").glob("*.zip")), "the offline comet archive was not written"
    run(sandbox, "kemdy-extract", "--checkpoint", root / "stage1", "--index", root / "index",
        "--out", root / "features.pkl", "--num-workers", "0")
    run(sandbox, "kemdy-stage3-train", "--config", configs / "stage3/demo.yaml", f"data.path={root / 'features.pkl'}",
        f"run_dir={root / 'stage3'}", "trainer.max_epochs=2", "tracking.comet=true")
    assert list((root / "stage3" / "comet").glob("*.zip")), "the offline comet archive was not written"
    run(sandbox, "kemdy-stage3-eval", "--checkpoint", root / "stage3", "--data", root / "features.pkl")
    run(sandbox, "kemdy-embedding-map", "--data", root / "features.pkl", "--out", root / "map.png", "--max-points", "60")
    assert (root / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dialogue = json.loads((root / "features.pkl.config.json").read_text())  # a test dialogue of the corpus
    assert dialogue["counts"]["test"]["dialogues"] > 0
    run(sandbox, "kemdy-predict", "--stage1", root / "stage1", "--stage3", root / "stage3", "--corpus", root / "corpus",
        "--dialogue", "Sess19_script01", "--out", root / "predictions.csv", "--allow-skips")
    attempts = sandbox["log"].read_text() if sandbox["log"].exists() else ""
    assert attempts == "", f"network attempts:\n{attempts}"



def test_a_missing_local_model_folder_makes_no_hub_request(sandbox, tmp_path):
    """`model.text.name=models/text` next to a `models/` folder is a local path: "no such folder" at
    once, with the hub reachable (no HF_HUB_OFFLINE), instead of a minute of requests for it."""
    log = tmp_path / "attempts.log"
    (tmp_path / "models").mkdir()
    (tmp_path / "index").mkdir()
    result = subprocess.run([command("kemdy-stage1-train"), "data.index=index", "model.text.name=models/text",
                             f"run_dir={tmp_path / 'run'}"], cwd=tmp_path,
                            env={**sandbox["env"], "NETWORK_GUARD_LOG": str(log)}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 2
    assert result.stderr.startswith("error: model.text.name") and "no such folder" in result.stderr
    assert not log.exists(), log.read_text()
