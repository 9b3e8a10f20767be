"""The runner in index mode, end to end on the tiny corpus: per fold a re-split index, stage 1
(1 epoch) -> stage 2 -> stage 3 and the logreg baseline, the stage-1 classifier as its own row,
one shared acoustic cache, and nothing redone on a second invocation."""

import csv
import json

import pytest
import torch

import feature_extractor.training.train as stage1_train
from cgnn.conversation_pickle import read_conversations
from erc_core.config import load_config
from erc_experiments.config import RunnerConfig
from erc_experiments.folds import fold_split
from erc_experiments.runner import run_experiment
from feature_extractor.corpus import read_index
from feature_extractor.export import Stage1Export
from tests.cgnn_fixtures import SMALL_RUN
from tests.stage12_fixtures import tiny_corpus

STAGE1 = ["model.text.name=tiny", "tiny_preset.hidden=32", "model.audio.acoustic_hidden=16",
          "data.max_audio_seconds=2.0", "data.batch_size=8", "data.eval_batch_size=16", "data.num_workers=0",
          "data.scan_workers=0", "trainer.max_epochs=1", "trainer.accelerator=cpu", "trainer.devices=1",
          "trainer.precision=32-true", "trainer.early_stopping_patience=0", "trainer.progress_bar=false",
          "trainer.cpu_threads=1", "tracking.comet=false"]
STAGE3 = [item for item in SMALL_RUN if not item.startswith("trainer.max_epochs")] + ["trainer.max_epochs=1"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    torch.set_num_threads(1)
    index = tiny_corpus(tmp_path_factory)["index"]
    out = tmp_path_factory.mktemp("runner_index") / "exp"
    args = [f"data.index={index}", f"run_dir={out}", "seeds=[0]", "folds=3", "baselines=[stage1,logreg]",
            "stage1.file=configs/stage1/demo.yaml", f"stage1.overrides=[{','.join(STAGE1)}]",
            "configs.gnn.file=configs/stage3/demo.yaml", f"configs.gnn.overrides=[{','.join(STAGE3)}]"]
    result = run_experiment(load_config(RunnerConfig, None, args))
    return {"index": index, "out": out, "args": args, "result": result}


def sessions_of(split, folds, fold, index):
    return fold_split(read_index(index)["session"], folds, fold).as_dict()[split]


def test_every_fold_runs_stage1_stage3_and_logreg(experiment):
    with open(experiment["out"] / "runs.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["config"], r["fold"]) for r in rows) == sorted(
        (c, str(f)) for c in ("gnn", "stage1", "logreg") for f in range(3))
    for row in rows:
        if row["config"] == "stage1":
            metrics = json.loads((experiment["out"] / "stage1" / f"seed0_fold{row['fold']}" / "metrics.json").read_text())
            assert float(row["test_weighted_f1"]) == pytest.approx(metrics["test"]["weighted_f1"])
    with open(experiment["out"] / "paired.csv", encoding="utf-8") as handle:
        paired = [p for p in csv.DictReader(handle) if (p["config_a"], p["config_b"]) == ("gnn", "stage1")]
    assert {p["n_pairs"] for p in paired} == {"3"}


def test_each_fold_trains_and_scores_on_its_own_sessions(experiment):
    index, out = experiment["index"], experiment["out"]
    for fold in range(3):
        spec = Stage1Export.read(out / "stage1" / f"seed0_fold{fold}" / "export").spec
        pickle = read_conversations(out / "features" / f"seed0_fold{fold}.pkl")
        for dialogue in pickle.dialogues:
            session = int(dialogue["dialogue_id"][4:6])
            assert session in sessions_of(dialogue["split"], 3, fold, index)
        recorded = spec["split_provenance"]["splits"]
        for split in ("train", "dev", "test"):
            assert sorted(int(s) for s in recorded[split]["sessions"]) == sessions_of(split, 3, fold, index)


def test_the_acoustic_cache_is_shared(experiment):
    out = experiment["out"]
    assert any((out / "acoustic_cache").iterdir())
    assert not any((out / "stage1").glob("*/acoustic_cache"))


def test_a_second_invocation_trains_nothing(experiment, monkeypatch):
    calls = []
    monkeypatch.setattr(stage1_train, "train_from_args", lambda argv: calls.append(argv))
    again = run_experiment(load_config(RunnerConfig, None, experiment["args"]))
    assert calls == []
    assert again["rows"] == experiment["result"]["rows"]


def test_stage1_is_no_row_unless_asked(experiment, monkeypatch):
    monkeypatch.setattr(stage1_train, "train_from_args", lambda argv: pytest.fail("stage 1 retrained"))
    result = run_experiment(load_config(RunnerConfig, None, [*experiment["args"], "baselines=[logreg]"]))
    assert {row["config"] for row in result["rows"]} == {"gnn", "logreg"}
