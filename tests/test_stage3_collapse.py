"""The collapse guard (cgnn/collapse.py): a kept model that predicts (nearly) one class on dev is
flagged in the summary line and metrics.json, and model selection prefers any later epoch that
separates classes over it, whatever their dev weighted-F1."""

import json

import numpy as np
import pytest
import torch
from cgnn_fixtures import LABELS, stage3_config, write_pickle

from cgnn import train as cgnn_train
from cgnn.collapse import top_prediction
from erc_core.metrics import classification_metrics

torch.set_num_threads(1)


def dev_metrics(predicted, gold=(0, 0, 0, 1, 1, 2, 2, 2, 0, 1)):
    metrics = classification_metrics(np.array(gold), np.array(predicted), LABELS)
    return {"loss": 1.0, **metrics, "top_prediction": top_prediction(metrics, LABELS)}


MAJORITY = (0,) * 10                            # wF1 0.23: one class for every utterance
SEPARATES = (0, 1, 2, 0, 2, 0, 1, 1, 0, 2)      # wF1 0.20, three classes


def test_top_prediction_reads_the_predicted_class_counts():
    assert top_prediction(dev_metrics(MAJORITY), LABELS) == {"class": "neutral", "share": 1.0, "collapsed": True}
    nine_of_ten = top_prediction(dev_metrics((2,) * 9 + (0,)), LABELS)
    assert nine_of_ten["class"] == "angry" and nine_of_ten["collapsed"]
    assert not top_prediction(dev_metrics(SEPARATES), LABELS)["collapsed"]


def scripted_run(tmp_path, monkeypatch, per_epoch, final):
    """Train 3 epochs with dev results scripted per epoch; the final evaluations return `final`."""
    results = iter([dev_metrics(p) for p in per_epoch])
    monkeypatch.setattr(cgnn_train, "evaluate", lambda *args, **kwargs: next(results, dev_metrics(final)))
    data = write_pickle(tmp_path / "data.pkl")
    config = stage3_config(data.source, tmp_path / "run", "trainer.max_epochs=3", "baseline=false")
    summary = cgnn_train.train(config)
    stored = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    return summary, stored


def test_a_later_epoch_that_separates_classes_wins_over_a_better_scoring_collapsed_one(tmp_path, monkeypatch):
    better_majority = (0, 0, 0, 0, 0, 0, 0, 0, 0, 1)  # collapsed (90 %), yet wF1 above SEPARATES
    assert dev_metrics(better_majority)["weighted_f1"] > dev_metrics(SEPARATES)["weighted_f1"]
    summary, stored = scripted_run(tmp_path, monkeypatch, [better_majority, SEPARATES, better_majority], SEPARATES)
    assert summary["best_epoch"] == 2
    assert stored["collapse"]["collapsed"] is False
    assert "WARNING" not in cgnn_train.summary_line("run", summary)


def test_a_run_that_never_separates_classes_keeps_its_best_epoch_and_says_so(tmp_path, monkeypatch):
    summary, stored = scripted_run(tmp_path, monkeypatch, [MAJORITY, (0,) * 9 + (1,), MAJORITY], MAJORITY)
    assert summary["best_epoch"] == 2
    assert stored["collapse"] == {"class": "neutral", "share": 1.0, "collapsed": True, "rule": "cgnn/collapse.py"}
    line = cgnn_train.summary_line("run", summary)
    assert "WARNING: the kept model predicts 'neutral' for 100% of dev utterances" in line


@pytest.mark.parametrize("resumed_state", [{}, {"best_collapsed": True}])
def test_resume_states_without_the_flag_still_load(resumed_state):
    progress = cgnn_train._Progress(best_f1=0.5, best_epoch=3, best_state=None, history=[], epoch=4, **resumed_state)
    assert progress.best_collapsed == bool(resumed_state)
