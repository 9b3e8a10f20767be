import csv
import json
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from cgnn_fixtures import LABELS, make_dialogues, stage3_config, write_pickle

from cgnn import eval as cgnn_eval
from cgnn import train as cgnn_train
from cgnn.checkpoint import load_checkpoint
from cgnn.conversation_pickle import read_conversations
from cgnn.predict_core import predict_dialogue
from cgnn.train import train
from erc_core.files import file_sha256

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small training run shared by the eval tests: (pickle path, checkpoint dir, summary)."""
    root = tmp_path_factory.mktemp("stage3")
    data = root / "conv.pkl"
    write_pickle(data, count=16, seed=3)
    summary = train(stage3_config(data, root / "run", "trainer.max_epochs=6", "optim.lr=1e-2"))
    return data, root / "run", summary


def test_training_lowers_the_loss_and_writes_a_checkpoint(trained):
    data, run, summary = trained
    losses = [row["train_loss"] for row in summary["history"]]
    assert losses[-1] < 0.7 * losses[0]
    assert {"model.safetensors", "config.json", "metrics.json"} <= set(os.listdir(run))
    info = json.loads((run / "config.json").read_text())
    assert info["format"] == "kemdy-erc-stage3-checkpoint" and info["version"] == 2
    assert info["label_names"] == LABELS and info["modality"] == "at"
    assert info["feature_dims"] == {"a": 6, "t": 5} and info["input_dim"] == 11
    assert info["num_speakers"] == 2 and info["model"]["hidden"] == 16
    assert info["train"]["optim"]["lr"] == 1e-2
    assert info["metrics"]["best_epoch"] == summary["best_epoch"]
    assert set(info["metrics"]) >= {"dev", "test"}
    best_dev = max(row["dev_weighted_f1"] for row in summary["history"])
    assert summary["dev"]["weighted_f1"] == pytest.approx(best_dev)  # the best epoch is the one kept


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    data = tmp_path / "conv.pkl"
    write_pickle(data, count=8, seed=5)
    # a constant rate: a shorter first run then stands for an interrupted one (a per-step schedule
    # depends on the epoch budget; tests/test_stage3_training.py interrupts a scheduled run for real)
    constant = ("trainer.deterministic=true", "optim.scheduler=constant", "optim.warmup=0")
    straight = train(stage3_config(data, tmp_path / "straight", "trainer.max_epochs=3", *constant))
    train(stage3_config(data, tmp_path / "resumed", "trainer.max_epochs=2", *constant))
    resumed = train(stage3_config(data, tmp_path / "resumed", "trainer.max_epochs=3", "resume=true", *constant))
    torch.use_deterministic_algorithms(False)
    assert resumed["history"] == straight["history"]
    a = (tmp_path / "straight" / "model.safetensors").read_bytes()
    b = (tmp_path / "resumed" / "model.safetensors").read_bytes()
    assert a == b


def test_cli_reads_yaml_and_overrides(tmp_path):
    data = tmp_path / "conv.pkl"
    write_pickle(data, count=6)
    out = tmp_path / "cli_run"
    code = cgnn_train.main(["--config", str(REPO / "configs/stage3/default.yaml"), f"data.path={data}",
                            f"run_dir={out}", "trainer.max_epochs=1", "tracking.comet=false", "data.modality=t",
                            "model.hidden=8", "model.encoder_heads=2", "model.encoder=gru", "model.wp=-1"])
    assert code == 0
    info = json.loads((out / "config.json").read_text())
    assert info["modality"] == "t" and info["feature_dims"] == {"t": 5}
    assert info["model"]["encoder"] == "gru" and info["model"]["wp"] == -1


def test_eval_on_cpu_writes_consistent_outputs(trained, tmp_path):
    data, run, _ = trained
    out = tmp_path / "eval"
    assert cgnn_eval.main(["--checkpoint", str(run), "--data", str(data), "--split", "test",
                           "--out", str(out), "--quiet"]) == 0
    assert {"metrics.json", "classification_report.txt", "confusion_matrix.png",
            "predictions.csv"} <= set(os.listdir(out))
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((out / "metrics.json").read_text())
    with open(out / "predictions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # gold labels are matched to the pickle by segment id
    conversations = read_conversations(data)
    gold_by_segment = {s: LABELS[l] for d in conversations.in_split("test")
                       for s, l in zip(d["segment_ids"], d["labels"])}
    assert {r["segment_id"]: r["gold"] for r in rows} == gold_by_segment
    for row in rows:
        probs = [float(row[f"prob_{name}"]) for name in LABELS]
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)
        assert row["predicted"] == LABELS[int(np.argmax(probs))]
    accuracy = np.mean([r["gold"] == r["predicted"] for r in rows])
    assert metrics["accuracy"] == pytest.approx(accuracy)
    assert metrics["n"] == len(rows)
    assert np.sum(metrics["confusion_matrix"]) == len(rows)


def test_predict_core_matches_eval(trained, tmp_path):
    data, run, _ = trained
    out = tmp_path / "eval"
    cgnn_eval.evaluate_checkpoint(run, data, "test", out)
    dialogue = read_conversations(data).in_split("test")[0]
    record = {k: dialogue[k] for k in ("dialogue_id", "segment_ids", "speakers", "features")}
    probabilities = predict_dialogue(load_checkpoint(run), record)
    with open(out / "predictions.csv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["dialogue_id"] == dialogue["dialogue_id"]]
    expected = np.array([[float(r[f"prob_{n}"]) for n in LABELS] for r in rows])
    assert probabilities.shape == (len(dialogue["segment_ids"]), len(LABELS))
    np.testing.assert_allclose(probabilities, expected, atol=2e-6)


@pytest.mark.parametrize("change, message", [
    (dict(label_names=["neutral", "sad", "angry"]), "label_names .* differ from checkpoint"),
    (dict(dims={"a": 7, "t": 5}), r"feature widths \{'a': 7, 't': 5\} .* differ"),
    (dict(dims={"t": 5}), r"needs modality 'at' is not available; features present: t"),
])
def test_eval_rejects_a_mismatched_pickle(trained, tmp_path, capsys, change, message):
    _, run, _ = trained
    other = tmp_path / "other.pkl"
    dialogues = make_dialogues(count=6, dims=change.get("dims"), speakers=change.get("speakers", 2))
    write_pickle(other, dialogues, label_names=change.get("label_names"))
    assert cgnn_eval.main(["--checkpoint", str(run), "--data", str(other), "--out", str(tmp_path / "e")]) == 2
    assert message.split(" ")[0] in capsys.readouterr().err
    with pytest.raises(ValueError, match=message):
        cgnn_eval.evaluate_checkpoint(run, other, "test", tmp_path / "e")


def test_run_eval_sh_prints_one_line_per_checkpoint_with_its_baseline(trained, tmp_path):
    data, run, _ = trained
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "demo_stage3_at").symlink_to(run, target_is_directory=True)
    (checkpoints / "not_a_checkpoint").mkdir()
    stage1 = checkpoints / "demo_stage1"  # another stage's checkpoint with the same file names
    stage1.mkdir()
    (stage1 / "config.json").write_text('{"format": "kemdy-erc-stage1-checkpoint"}')
    (stage1 / "model.safetensors").write_bytes(b"")
    env = {**os.environ, "DATA": str(data), "CHECKPOINTS": str(checkpoints), "EVAL_OUT": str(tmp_path / "ev")}
    result = subprocess.run(["bash", str(REPO / "run_eval.sh")], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    metrics = json.loads((tmp_path / "ev" / "demo_stage3_at" / "metrics.json").read_text())
    baseline = metrics["context_free_baseline"]  # the same features and split (cgnn/baseline_report.py)
    assert baseline["modality"] == "at" and baseline["pickle_sha256"] == file_sha256(data)
    gap = 100 * (metrics["weighted_f1"] - baseline["test"]["weighted_f1"])
    assert lines[0] == (f"demo_stage3_at [test] acc {100 * metrics['accuracy']:.2f}  "
                        f"wF1 {100 * metrics['weighted_f1']:.2f}  mF1 {100 * metrics['macro_f1']:.2f}  "
                        f"(n={metrics['n']})  | context-free logreg (at) wF1 "
                        f"{100 * baseline['test']['weighted_f1']:.2f}, stage 3 {gap:+.2f}")
    empty = subprocess.run(["bash", str(REPO / "run_eval.sh")], capture_output=True, text=True, timeout=60,
                           env={**env, "CHECKPOINTS": str(tmp_path / "nothing")})
    assert empty.returncode == 1 and "no stage-3 checkpoints" in empty.stderr


def test_offline_comet_makes_no_network_attempt(tmp_path, monkeypatch):
    pytest.importorskip("comet_ml")
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(address))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    data = tmp_path / "conv.pkl"
    write_pickle(data, count=6)
    train(stage3_config(data, tmp_path / "run", "trainer.max_epochs=1", "tracking.comet=true"))
    assert attempts == []
    assert list((tmp_path / "run" / "comet").glob("*.zip"))
