"""Stage-1 evaluation numbers: accuracy, weighted / macro F1, a per-class report, the confusion
matrix and, when valence/arousal are predicted, their concordance correlation (CCC)."""

import numpy as np
import torch
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from feature_extractor.training.losses.loss import ccc_per_dimension


def classification_metrics(labels, predictions, label_names) -> dict:
    """All classes of `label_names` are reported, present in the data or not (support 0)."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if labels.shape != predictions.shape or labels.size == 0:
        raise ValueError(f"metrics need equal, non-empty label and prediction arrays; got {labels.shape} and {predictions.shape}")
    classes = list(range(len(label_names)))
    report = classification_report(
        labels, predictions, labels=classes, target_names=list(label_names), output_dict=True, zero_division=0
    )
    per_class = {
        name: {key: float(report[name][key]) for key in ("precision", "recall", "f1-score", "support")}
        for name in label_names
    }
    return {
        "n": int(labels.size),
        "accuracy": float(accuracy_score(labels, predictions)),
        "weighted_f1": float(f1_score(labels, predictions, labels=classes, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(labels, predictions, labels=classes, average="macro", zero_division=0)),
        "per_class": per_class,
        "confusion": confusion_matrix(labels, predictions, labels=classes).tolist(),
    }


def va_metrics(predicted, target) -> dict:
    """{'ccc_valence', 'ccc_arousal'} over rows whose targets are both finite."""
    predicted = torch.as_tensor(np.asarray(predicted, dtype=np.float32))
    target = torch.as_tensor(np.asarray(target, dtype=np.float32))
    known = torch.isfinite(target).all(dim=1)
    if int(known.sum()) < 2:
        return {}
    return ccc_per_dimension(predicted[known], target[known])
