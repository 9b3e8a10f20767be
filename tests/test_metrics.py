"""The one metrics module, against values worked out by hand."""

import pytest

from erc_core.labels import EMOTIONS
from erc_core.metrics import classification_metrics


def test_metrics_by_hand():
    # labels 0 0 1 2, predictions 0 1 1 2: class 0 P=1 R=.5, class 1 P=.5 R=1, class 2 perfect
    metrics = classification_metrics([0, 0, 1, 2], [0, 1, 1, 2], EMOTIONS)
    assert metrics["n"] == 4
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["weighted_f1"] == pytest.approx((2 * 2 / 3 + 2 / 3 + 1) / 4)
    assert metrics["per_class"]["happy"]["precision"] == pytest.approx(0.5)
    assert metrics["confusion_matrix"][0][:3] == [1, 1, 0]
    assert len(metrics["confusion_matrix"]) == len(EMOTIONS)


def test_macro_f1_leaves_out_a_class_absent_from_gold_and_predictions():
    # four of seven classes never occur: scikit-learn's convention averages over the three present
    metrics = classification_metrics([0, 0, 1, 2], [0, 1, 1, 2], EMOTIONS)
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert metrics["macro_f1_classes"] == list(EMOTIONS[:3])
    assert metrics["per_class"]["fear"]["support"] == 0


def test_a_predicted_class_missing_from_gold_still_counts_in_macro_f1():
    # class 3 is predicted once but never gold: its F1 is 0 and it is part of the average
    metrics = classification_metrics([0, 0, 1, 1], [0, 3, 1, 1], EMOTIONS)
    f1_0, f1_1, f1_3 = 2 / 3, 1.0, 0.0
    assert metrics["macro_f1"] == pytest.approx((f1_0 + f1_1 + f1_3) / 3)
    assert metrics["macro_f1_classes"] == [EMOTIONS[0], EMOTIONS[1], EMOTIONS[3]]


def test_unlabelled_rows_do_not_count():
    metrics = classification_metrics([0, -1, 1], [0, 1, 1], EMOTIONS)
    assert metrics["n"] == 2 and metrics["accuracy"] == 1.0
    assert classification_metrics([-1], [0], EMOTIONS) == {"n": 0}
