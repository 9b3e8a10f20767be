"""The runner in pickle mode on tiny synthetic pickles: its tables equal the statistics of its
per-run rows, finished runs are never redone, a stale folder is refused, leakage through stage-1
training utterances is refused, and users' mistakes are one error line with exit code 2."""

import csv
import json
import statistics
from pathlib import Path

import pytest

import cgnn.train
from cgnn.conversation_pickle import read_conversations
from erc_core.config import load_config
from erc_experiments.config import RunnerConfig, check_runner_config
from erc_experiments.runner import main, run_experiment
from erc_experiments.stages import stage3_config
from tests.cgnn_fixtures import SMALL_RUN, make_dialogues, write_pickle

STAGE3 = [item for item in SMALL_RUN if not item.startswith("trainer.max_epochs")] + ["trainer.max_epochs=2"]


@pytest.fixture
def pickle_path(tmp_path):
    # 12 dialogues, one per session Sess00..Sess11
    return write_pickle(tmp_path / "data.pkl", dialogues=make_dialogues(count=12, noise=0.3)).source


def runner_args(pickle_path, run_dir, *extra):
    return [f"data.pickle={pickle_path}", f"run_dir={run_dir}", "configs.small.file=configs/stage3/default.yaml",
            f"configs.small.overrides=[{','.join(STAGE3)}]", "configs.wide.file=configs/stage3/default.yaml",
            f"configs.wide.overrides=[{','.join(STAGE3)},model.hidden=24]", *extra]


def run(pickle_path, run_dir, *extra):
    return run_experiment(load_config(RunnerConfig, None, runner_args(pickle_path, run_dir, *extra)))


@pytest.fixture
def count_training(monkeypatch):
    calls = []
    real = cgnn.train.train

    def counting(config):
        calls.append((config.run_dir, config.seed))
        return real(config)

    monkeypatch.setattr(cgnn.train, "train", counting)
    return calls


def read_csv(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_tables_are_the_statistics_of_the_run_rows(pickle_path, tmp_path, count_training):
    out = tmp_path / "exp"
    run(pickle_path, out, "seeds=[0,1]", "folds=3")
    assert len(count_training) == 2 * 2 * 3  # configs x seeds x folds
    runs = read_csv(out / "runs.csv")
    assert len(runs) == 2 * 2 * 3 + 2 * 3  # + logreg
    assert {(r["config"], r["seed"], r["fold"]) for r in runs} == {
        (c, str(s), str(f)) for c in ("small", "wide", "logreg") for s in (0, 1) for f in (0, 1, 2)}
    for row in runs:  # each row is the stage's own metrics.json
        if row["config"] != "logreg":
            metrics = json.loads((tmp_path / row["run_dir"] / "metrics.json").read_text())
            assert float(row["test_weighted_f1"]) == pytest.approx(metrics["test"]["weighted_f1"])
            assert int(row["test_n"]) == metrics["test"]["n"]
    summary = {row["config"]: row for row in read_csv(out / "summary.csv")}
    for config in ("small", "wide", "logreg"):
        for column in ("test_weighted_f1", "dev_accuracy", "test_macro_f1"):
            values = [float(r[column]) for r in runs if r["config"] == config]
            assert float(summary[config][f"{column}_mean"]) == pytest.approx(statistics.mean(values))
            assert float(summary[config][f"{column}_std"]) == pytest.approx(statistics.stdev(values))
        assert int(summary[config]["runs"]) == 6
    paired = read_csv(out / "paired.csv")
    small_wide = next(p for p in paired if (p["config_a"], p["config_b"], p["metric"], p["unit"])
                      == ("small", "wide", "weighted_f1", "run"))
    differences = [float(a["test_weighted_f1"]) - float(b["test_weighted_f1"])
                   for a in runs if a["config"] == "small"
                   for b in runs if b["config"] == "wide" and (b["seed"], b["fold"]) == (a["seed"], a["fold"])]
    assert int(small_wide["n_pairs"]) == 6
    assert float(small_wide["mean_diff"]) == pytest.approx(statistics.mean(differences))
    markdown = (out / "summary.md").read_text()
    fold_means = [statistics.mean(float(r["test_weighted_f1"]) for r in runs
                                  if r["config"] == "wide" and r["fold"] == str(f)) for f in range(3)]
    assert "| wide | " + " | ".join(f"{100 * m:.2f}" for m in fold_means) + " |" in markdown
    assert "| small | 6 |" in markdown and "Paired tests" in markdown and (out / "seeds.png").stat().st_size > 0


def test_each_fold_pickle_holds_its_sessions(pickle_path, tmp_path):
    out = tmp_path / "exp"
    run(pickle_path, out, "seeds=[0]", "folds=3", "configs.wide.file=configs/stage3/default.yaml")
    folds = json.loads((out / "folds.json").read_text())
    for entry in folds:
        data = read_conversations(out / "folds" / f"fold{entry['fold']}.pkl")
        for dialogue in data.dialogues:
            assert int(dialogue["dialogue_id"][4:6]) in entry[dialogue["split"]]
        assert data.config["runner_fold"]["sessions"]["test"] == entry["test"]
    assert sorted(s for entry in folds for s in entry["test"]) == list(range(12))


def test_finished_runs_are_read_not_redone(pickle_path, tmp_path, count_training):
    out = tmp_path / "exp"
    first = run(pickle_path, out, "seeds=[0]", "folds=3")
    assert len(count_training) == 6
    count_training.clear()
    second = run(pickle_path, out, "seeds=[0]", "folds=3")
    assert count_training == []
    assert second["rows"] == first["rows"]
    (out / "small" / "seed0_fold1" / "run.json").unlink()  # as if interrupted before finishing
    run(pickle_path, out, "seeds=[0,1]", "folds=3")
    redone = sorted((str(d).split("exp/")[1], s) for d, s in count_training)
    assert redone == sorted([("small/seed0_fold1", 0)] + [(f"{c}/seed1_fold{f}", 1)
                                                            for c in ("small", "wide") for f in range(3)])


def test_a_folder_made_with_other_settings_is_refused(pickle_path, tmp_path, capsys):
    out = tmp_path / "exp"
    run(pickle_path, out, "seeds=[0]", "folds=0")
    code = main(runner_args(pickle_path, out, "seeds=[0]", "folds=0", f"configs.small.overrides=[{','.join(STAGE3)},model.hidden=8]"))
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert "runner.json" in error and "configs.small" in error and "model.hidden" in error


def with_stage1_record(tmp_path, train_sessions):
    dialogues = make_dialogues(count=12, noise=0.3)
    trained = [s for d in dialogues if int(d["dialogue_id"][4:6]) in train_sessions for s in d["segment_ids"]]
    config = {"provenance": {"stage1_splits": {"index": "x", "splits": {"train": {"segments": trained}}}}}
    from cgnn.conversation_pickle import write_conversations

    return write_conversations(tmp_path / "stage2.pkl", dialogues, ["neutral", "happy", "angry"], config).source


def test_folds_that_score_stage1_training_utterances_are_refused(tmp_path, capsys, count_training):
    source = with_stage1_record(tmp_path, train_sessions=range(8))
    code = main(runner_args(source, tmp_path / "exp", "seeds=[0]", "folds=3"))
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert "fold 0 of 3" in error and "test session Sess00" in error and "dev session Sess04" in error
    assert count_training == []  # refused before any training


def test_own_split_without_overlap_passes_the_check(tmp_path, count_training):
    dialogues = make_dialogues(count=12, noise=0.3)
    trained = [s for d in dialogues if d["split"] == "train" for s in d["segment_ids"]]
    config = {"provenance": {"stage1_splits": {"splits": {"train": {"segments": trained}}}}}
    from cgnn.conversation_pickle import write_conversations

    source = write_conversations(tmp_path / "ok.pkl", dialogues, ["neutral", "happy", "angry"], config).source
    result = run(source, tmp_path / "exp", "seeds=[0]", "folds=0", "baselines=[]")
    assert len(result["rows"]) == 2 and len(count_training) == 2
    assert {row["fold"] for row in result["rows"]} == {None}


@pytest.mark.parametrize("extra, message", [
    (["configs.small.file=nope.yaml"], "nope.yaml: config file not found"),
    (["data.index=somewhere"], "give exactly one of data.pickle"),
    (["baselines=[stage1]"], "stage1 needs index mode"),
    (["baselines=[knn]"], "unknown baseline(s) ['knn']"),
    (["folds=2"], "folds=2"),
    (["configs.logreg.file=configs/stage3/default.yaml"], "configs.logreg"),
    (["configs.small.overrides=[model.hiden=3]"], "did you mean model.hidden"),
])
def test_user_mistakes_are_one_error_line(pickle_path, tmp_path, capsys, extra, message):
    code = main(runner_args(pickle_path, tmp_path / "exp", *extra))
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("error: ") and error.count("\n") == 1
    assert message in error


def test_a_missing_pickle_is_named(tmp_path, capsys):
    code = main(runner_args(tmp_path / "absent.pkl", tmp_path / "exp"))
    assert code == 2 and "absent.pkl: conversation pickle not found" in capsys.readouterr().err


EXPERIMENT_CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs" / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("path", EXPERIMENT_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_experiment_config_loads_with_each_stage3_config(path, tmp_path):
    config = load_config(RunnerConfig, path, [])
    check_runner_config(config)
    for name, ref in config.configs.items():
        stage3 = stage3_config(ref, config.stage3_overrides, tmp_path / "data.pkl", seed=0, run_dir=tmp_path / name)
        assert stage3.seed == 0 and stage3.run_dir == str(tmp_path / name)
