"""The context-free logistic-regression baseline: learns separable classes, chooses on dev, uses
the features of the modality asked for."""

import numpy as np
import pytest

from cgnn.context_free_baseline import fit_context_free_baseline, utterance_matrix
from cgnn.conversation_pickle import read_conversations
from erc_core.errors import UserError
from tests.cgnn_fixtures import make_dialogues, write_pickle


def test_separable_classes_are_learned_well_above_chance(tmp_path):
    data = read_conversations(write_pickle(tmp_path / "d.pkl", dialogues=make_dialogues(count=24, noise=0.3)).source)
    result = fit_context_free_baseline(data, "at")
    assert result["test"]["n"] > 20
    assert result["test"]["accuracy"] > 0.8  # 3 classes: chance is ~0.33
    assert result["chosen"]["class_weight"] in (None, "balanced")
    assert len(result["grid"]) == 10
    best = max(result["grid"], key=lambda g: g["dev_weighted_f1"])["dev_weighted_f1"]
    assert result["dev"]["weighted_f1"] == pytest.approx(best)  # the chosen model is the best on dev


def test_uninformative_modality_stays_near_chance(tmp_path):
    dialogues = make_dialogues(count=24, noise=0.3, seed=1)
    rng = np.random.default_rng(0)
    for dialogue in dialogues:  # `a` carries no class signal any more
        dialogue["features"]["a"] = rng.normal(size=dialogue["features"]["a"].shape).astype(np.float32)
    data = read_conversations(write_pickle(tmp_path / "d.pkl", dialogues=dialogues).source)
    assert fit_context_free_baseline(data, "t")["test"]["accuracy"] > 0.8
    assert fit_context_free_baseline(data, "a")["test"]["accuracy"] < 0.6


def test_unlabelled_utterances_are_left_out():
    dialogues = make_dialogues(count=2)
    dialogues[0]["labels"][0] = -1
    features, labels = utterance_matrix(dialogues, "at")
    total = sum(len(d["labels"]) for d in dialogues)
    assert features.shape == (total - 1, 11) and labels.shape == (total - 1,) and (labels >= 0).all()


def test_no_dev_split_is_a_clear_error(tmp_path):
    data = read_conversations(write_pickle(tmp_path / "d.pkl", count=6, splits=("train", "test")).source)
    with pytest.raises(UserError, match="no labelled 'dev' utterances"):
        fit_context_free_baseline(data, "at")
