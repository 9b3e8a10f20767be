"""The shipped demo artifacts (data/demo_features.pkl, model_checkpoints/demo_stage3_*) are
consistent with each other and with what their training recorded: a pickle regenerated without
retraining the checkpoints, or a checkpoint from another pickle, fails here.
Regenerate both with: bash scripts/make_demo_artifacts.sh"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from cgnn.checkpoint import load_checkpoint
from cgnn.conversation_pickle import config_path, read_conversations
from cgnn.eval import evaluate_checkpoint

REPO = Path(__file__).resolve().parents[1]
PICKLE = REPO / "data" / "demo_features.pkl"
CHECKPOINTS = REPO / "model_checkpoints"
REQUIRED = ("demo_stage3_a", "demo_stage3_t", "demo_stage3_at", "demo_stage3_atp")
SHIPPED_FILES = {"model.safetensors", "config.json", "metrics.json"}
HEADLINE = ("accuracy", "weighted_f1", "macro_f1")


def shipped_checkpoints():
    return sorted(p.parent for p in CHECKPOINTS.glob("*/config.json")
                  if json.loads(p.read_text(encoding="utf-8")).get("format") == "kemdy-erc-stage3-checkpoint")


@pytest.fixture(scope="module")
def demo():
    torch.set_num_threads(1)
    return read_conversations(PICKLE)


def test_pickle_loads_validates_and_matches_its_config_json(demo):
    summary = json.loads(config_path(PICKLE).read_text(encoding="utf-8"))
    assert summary["label_names"] == demo.label_names
    assert summary["feature_dims"] == demo.feature_dims
    assert summary["config"] == demo.config
    assert set(demo.feature_dims) >= {"t", "a", "fused", "p"}
    for split in ("train", "dev", "test"):
        dialogues = demo.in_split(split)
        utterances = sum(len(d["segment_ids"]) for d in dialogues)
        assert summary["counts"][split]["dialogues"] == len(dialogues) > 0
        assert summary["counts"][split]["utterances"] == utterances
        assert all((d["labels"] >= 0).all() for d in dialogues), f"unlabelled utterance in {split}"
    # the synthetic corpus holds sessions 19-20 out as test (feature_extractor/corpus/splits.py)
    assert {d["dialogue_id"][:6] for d in demo.in_split("test")} == {"Sess19", "Sess20"}


def test_every_required_checkpoint_is_shipped_without_run_cruft():
    names = [p.name for p in shipped_checkpoints()]
    assert set(REQUIRED) <= set(names), f"missing: {sorted(set(REQUIRED) - set(names))}"
    total = 0
    for directory in shipped_checkpoints():
        files = {p.name for p in directory.iterdir()}
        assert files == SHIPPED_FILES, f"{directory}: {sorted(files)}"
        total += sum(p.stat().st_size for p in directory.iterdir())
    assert total < 10 * 2**20, f"checkpoints take {total / 2**20:.1f} MiB"
    assert not list((REPO / "data").glob("**/comet*")) and not list(CHECKPOINTS.glob("**/comet*"))


@pytest.mark.parametrize("name", REQUIRED)
def test_checkpoint_was_trained_on_the_shipped_pickle(demo, name):
    checkpoint = load_checkpoint(CHECKPOINTS / name, "cpu")
    assert checkpoint.info["data"]["pickle_config"] == demo.config, "pickle regenerated, checkpoint not"
    assert checkpoint.modality == name.removeprefix("demo_stage3_")


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("split", ("dev", "test"))
def test_checkpoint_reproduces_its_recorded_metrics(demo, name, split, tmp_path):
    result = evaluate_checkpoint(CHECKPOINTS / name, PICKLE, split, tmp_path, device="cpu")
    recorded = json.loads((CHECKPOINTS / name / "config.json").read_text(encoding="utf-8"))["metrics"][split]
    utterances = sum(len(d["segment_ids"]) for d in demo.in_split(split))
    assert result["n"] == recorded["n"] == utterances
    for key in HEADLINE:
        assert result[key] == pytest.approx(recorded[key], abs=1e-9), key
    # accuracy counted by hand from the written predictions, not through erc_core.metrics
    rows = [line.split(",") for line in (tmp_path / "predictions.csv").read_text().splitlines()[1:]]
    assert np.mean([gold == predicted for _, _, _, gold, predicted, *_ in rows]) == pytest.approx(result["accuracy"])


def test_run_eval_sh_prints_one_line_per_shipped_checkpoint(tmp_path):
    env = {**os.environ, "EVAL_OUT": str(tmp_path)}
    result = subprocess.run(["bash", str(REPO / "run_eval.sh")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [p.name for p in shipped_checkpoints()]
    for line in lines:
        name = line.split()[0]
        recorded = json.loads((CHECKPOINTS / name / "config.json").read_text(encoding="utf-8"))["metrics"]["test"]
        assert f"wF1 {100 * recorded['weighted_f1']:.2f}" in line, line


def test_the_shipped_stage1_export_and_a_stage3_checkpoint_predict_a_new_conversation(tmp_path):
    """Right after setup, without training: a synthetic KEMDy dialogue through the shipped stage-1
    export and stage-3 checkpoint (predict checks that the checkpoint was trained on features of
    exactly these stage-1 weights)."""
    import pandas as pd

    from feature_extractor.extraction.predict import main as predict_main
    from feature_extractor.synthetic.generator import generate_corpus

    generate_corpus(tmp_path / "corpus", preset="tiny", dataset="KEMDy19", seed=3)
    out = tmp_path / "predictions.csv"
    code = predict_main(["--stage1", str(CHECKPOINTS / "demo_stage1"), "--stage3", str(CHECKPOINTS / "demo_stage3_at"),
                         "--corpus", str(tmp_path / "corpus"), "--dialogue", "Sess19_script01", "--out", str(out),
                         "--device", "cpu", "--threads", "1", "--allow-skips"])
    assert code == 0
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(rows) > 0 and set(rows["predicted"]) <= set(read_conversations(PICKLE).label_names)
    assert (rows["segment_id"].str.startswith("Sess19_script01")).all()
