"""The context-free logistic regression next to every stage-3 result (cgnn/baseline_report.py):
the same features and split, fitted once per pickle (cached by SHA-256 and modality), in the
train summary line and metrics.json and in kemdy-stage3-eval's output."""

import json

import pytest
import torch
from cgnn_fixtures import SMALL_RUN, write_pickle

from cgnn import baseline_report
from cgnn import eval as cgnn_eval
from cgnn import train as cgnn_train
from cgnn.context_free_baseline import fit_context_free_baseline
from erc_core.metrics import headline

torch.set_num_threads(1)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KEMDY_ERC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fitted_once_per_pickle_and_modality(tmp_path, cache, monkeypatch):
    data = write_pickle(tmp_path / "data.pkl")
    first = baseline_report.baseline_for(data.source, "t")
    direct = fit_context_free_baseline(data, "t")
    assert first["test"] == headline(direct["test"]) and first["chosen"] == direct["chosen"]

    def no_second_fit(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(baseline_report, "fit_context_free_baseline", no_second_fit)
    assert baseline_report.baseline_for(data.source, "t") == first            # from the cache
    with pytest.raises(AssertionError, match="fitted again"):
        baseline_report.baseline_for(data.source, "at")                      # another modality: a new fit
    write_pickle(tmp_path / "data.pkl", seed=7)                              # the same path, new content
    with pytest.raises(AssertionError, match="fitted again"):
        baseline_report.baseline_for(data.source, "t")


def test_an_unwritable_cache_only_costs_a_refit(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KEMDY_ERC_CACHE", str(blocker))
    data = write_pickle(tmp_path / "data.pkl")
    assert baseline_report.baseline_for(data.source, "a")["modality"] == "a"


def test_train_and_eval_print_it_next_to_the_stage3_result(tmp_path, cache, capsys):
    data = write_pickle(tmp_path / "data.pkl")
    run = tmp_path / "run"
    assert cgnn_train.main(stage3_config_args(data.source, run)) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    stored = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    baseline = stored["context_free_baseline"]
    assert baseline == baseline_report.baseline_for(data.source, "at")
    gap = 100 * (stored["test"]["weighted_f1"] - baseline["test"]["weighted_f1"])
    assert printed[-1].startswith("context-free logistic regression on the same features (at, ")
    assert printed[-1].endswith(f"{gap:+.2f} wF1")

    assert cgnn_eval.main(["--checkpoint", str(run), "--data", str(data.source), "--split", "dev",
                           "--out", str(tmp_path / "ev")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and f"| context-free logreg (at) wF1 {100 * baseline['dev']['weighted_f1']:.2f}, " in lines[0]
    assert cgnn_eval.main(["--checkpoint", str(run), "--data", str(data.source), "--no-baseline",
                           "--out", str(tmp_path / "ev2")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert "context_free_baseline" not in json.loads((tmp_path / "ev2" / "metrics.json").read_text())


def stage3_config_args(data, run):
    """The command-line form of cgnn_fixtures.stage3_config (the same seconds-long run)."""
    return [f"data.path={data}", f"run_dir={run}", *SMALL_RUN]


def test_a_pickle_without_labelled_train_or_dev_has_no_baseline(tmp_path, cache):
    data = write_pickle(tmp_path / "test_only.pkl", splits=("test",))
    assert baseline_report.baseline_for(data.source, "t") is None
