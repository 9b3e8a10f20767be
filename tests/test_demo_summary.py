"""scripts/demo_summary.py: the demo's stage-1 vs stage-3 comparison on hand-made metrics files."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo_summary.py"
spec = importlib.util.spec_from_file_location("demo_summary", SCRIPT)
demo_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_summary)


def write(path, payload):
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def stage1_file(tmp_path, wf1=0.40, n=148):
    return write(tmp_path / "s1.json", {"best_epoch": 3, "test": {"accuracy": 0.5, "weighted_f1": wf1,
                                                                  "macro_f1": 0.3, "n": n}})


def stage3_file(tmp_path, name, wf1, n=148, split="test"):
    return write(tmp_path / f"{name}.json", {"split": split, "modality": name, "accuracy": 0.55,
                                             "weighted_f1": wf1, "macro_f1": 0.35, "n": n})


def test_says_which_gnn_beat_stage1_and_by_how_much(tmp_path, capsys):
    code = demo_summary.main(["--stage1", str(stage1_file(tmp_path)),
                              "--stage3", str(stage3_file(tmp_path, "at", 0.45)),
                              "--stage3", str(stage3_file(tmp_path, "a", 0.3875))])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[1].split()[-3:] == ["50.00", "40.00", "30.00"]
    assert out[2].split()[-3:] == ["55.00", "45.00", "35.00"]
    assert out[-2] == "stage 3 GNN, modality at BEAT stage 1 on test weighted-F1 (+5.00 points)"
    assert out[-1] == "stage 3 GNN, modality a did NOT beat stage 1 on test weighted-F1 (-1.25 points)"


def test_refuses_different_test_sets_and_other_splits(tmp_path, capsys):
    stage1 = str(stage1_file(tmp_path))
    assert demo_summary.main(["--stage1", stage1, "--stage3", str(stage3_file(tmp_path, "at", 0.5, n=140))]) == 2
    assert "not the same test set" in capsys.readouterr().err
    assert demo_summary.main(["--stage1", stage1, "--stage3", str(stage3_file(tmp_path, "t", 0.5, split="dev"))]) == 2
    assert "expected 'test'" in capsys.readouterr().err
    assert demo_summary.main(["--stage1", str(tmp_path / "missing.json"), "--stage3", stage1]) == 2
    assert "not found" in capsys.readouterr().err
