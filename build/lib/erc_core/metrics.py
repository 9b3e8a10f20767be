"""The one definition of every reported number, for stage 1, stage 3, eval and the runner.

Weighted- and macro-F1 follow scikit-learn's convention: they average over the classes present
in the gold labels or the predictions, so a class absent from both does not count as an F1 of 0
(papers on IEMOCAP / MELD / KEMDy compute them this way). `macro_f1_classes` in every metrics
file names the classes the macro average covered. Per-class rows and the confusion matrix list
every class of `label_names`. Only labelled utterances (gold >= 0) count."""

import numpy as np
import torch
from sklearn import metrics as skm

VA_NAMES = ("valence", "arousal")
HEADLINE = ("accuracy", "weighted_f1", "macro_f1")


def classification_metrics(gold, predicted, label_names) -> dict:
    """n, accuracy, weighted / macro F1, per-class precision / recall / F1 / support and the
    confusion matrix (rows = gold, columns = predicted)."""
    gold = np.asarray(gold, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if gold.shape != predicted.shape:
        raise ValueError(f"metrics need one prediction per label; got {gold.shape} labels and {predicted.shape} predictions")
    keep = gold >= 0
    gold, predicted = gold[keep], predicted[keep]
    if gold.size == 0:
        return {"n": 0}
    present = np.union1d(gold, predicted)
    every_class = np.arange(len(label_names))
    report = skm.classification_report(gold, predicted, labels=every_class, target_names=list(label_names),
                                       output_dict=True, zero_division=0)
    return {
        "n": int(gold.size),
        "accuracy": float(skm.accuracy_score(gold, predicted)),
        "weighted_f1": float(skm.f1_score(gold, predicted, labels=present, average="weighted", zero_division=0)),
        "macro_f1": float(skm.f1_score(gold, predicted, labels=present, average="macro", zero_division=0)),
        "macro_f1_classes": [label_names[i] for i in present],
        "per_class": {name: {key: float(report[name][key]) for key in ("precision", "recall", "f1-score", "support")}
                      for name in label_names},
        "confusion_matrix": skm.confusion_matrix(gold, predicted, labels=every_class).tolist(),
    }


def headline(metrics: dict) -> dict:
    """The numbers a summary line or a table shows."""
    return {k: metrics[k] for k in ("loss", *HEADLINE, "n") if k in metrics}


def report_text(gold, predicted, label_names) -> str:
    gold = np.asarray(gold)
    keep = gold >= 0
    return skm.classification_report(gold[keep], np.asarray(predicted)[keep],
                                      labels=np.arange(len(label_names)), target_names=list(label_names),
                                      digits=4, zero_division=0)


def concordance_correlation(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Lin's CCC of two vectors [N] (population moments): 2 cov / (var_p + var_t + (mu_p - mu_t)^2).
    Differentiable: the CCC loss of stage 1 is 1 - this."""
    if pred.shape != target.shape or pred.dim() != 1:
        raise ValueError(f"concordance_correlation: expected two [N] vectors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    pred = pred.float()
    target = target.float()
    pred_mean, target_mean = pred.mean(), target.mean()
    covariance = ((pred - pred_mean) * (target - target_mean)).mean()
    denominator = pred.var(unbiased=False) + target.var(unbiased=False) + (pred_mean - target_mean) ** 2
    return 2.0 * covariance / (denominator + eps)


def va_metrics(predicted, target) -> dict:
    """{'ccc_valence', 'ccc_arousal', 'va_n'} over the rows whose two targets are both known
    (a blank valence / arousal cell in the annotation is NaN and is left out)."""
    predicted = torch.as_tensor(np.asarray(predicted, dtype=np.float32))
    target = torch.as_tensor(np.asarray(target, dtype=np.float32))
    known = torch.isfinite(target).all(dim=1)
    if int(known.sum()) < 2:
        return {"va_n": int(known.sum())}
    result = {f"ccc_{name}": float(concordance_correlation(predicted[known, i], target[known, i]))
              for i, name in enumerate(VA_NAMES)}
    return {**result, "va_n": int(known.sum())}
