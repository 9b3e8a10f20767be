"""run_eval.sh started from another folder reads the relative paths it is given from that folder,
not from the repository (which holds a file of the same name)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from cgnn.conversation_pickle import read_conversations, write_conversations

REPO = Path(__file__).resolve().parents[1]


def test_relative_data_and_outputs_are_the_callers(tmp_path):
    demo = read_conversations(REPO / "data" / "demo_features.pkl")
    mine = demo.in_split("test")[:3]  # a pickle of the repository's name, holding fewer utterances
    write_conversations(tmp_path / "data" / "demo_features.pkl", mine, demo.label_names, {"producer": "tests"})
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(REPO / "model_checkpoints" / "demo_stage3_at", checkpoints / "demo_stage3_at")
    env = {**os.environ, "DATA": "data/demo_features.pkl", "CHECKPOINTS": str(checkpoints), "EVAL_OUT": "out"}
    result = subprocess.run(["bash", str(REPO / "run_eval.sh")], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    utterances = sum(len(d["segment_ids"]) for d in mine)
    assert result.stdout.strip().endswith(f"(n={utterances})"), result.stdout
    metrics = json.loads((tmp_path / "out" / "demo_stage3_at" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n"] == utterances and Path(metrics["data"]) == tmp_path / "data" / "demo_features.pkl"
