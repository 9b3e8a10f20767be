"""Classification metrics over labelled utterances, and the confusion-matrix plot."""

import numpy as np
from sklearn import metrics as skm

from erc_core.files import atomic_path


def classification_metrics(gold, predicted, label_names) -> dict:
    """Accuracy, weighted / macro F1 over all classes in `label_names`, the per-class report and
    the confusion matrix (rows = gold, columns = predicted). Only labelled (gold >= 0) count."""
    gold = np.asarray(gold, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    keep = gold >= 0
    gold, predicted = gold[keep], predicted[keep]
    if gold.size == 0:
        return {"labelled": 0}
    classes = np.arange(len(label_names))
    report = skm.classification_report(gold, predicted, labels=classes, target_names=list(label_names),
                                       digits=4, zero_division=0, output_dict=True)
    return {
        "labelled": int(gold.size),
        "accuracy": float(skm.accuracy_score(gold, predicted)),
        "weighted_f1": float(skm.f1_score(gold, predicted, labels=classes, average="weighted",
                                          zero_division=0)),
        "macro_f1": float(skm.f1_score(gold, predicted, labels=classes, average="macro", zero_division=0)),
        "per_class": {name: report[name] for name in label_names},
        "confusion_matrix": skm.confusion_matrix(gold, predicted, labels=classes).tolist(),
    }


def report_text(gold, predicted, label_names) -> str:
    gold = np.asarray(gold)
    keep = gold >= 0
    return skm.classification_report(gold[keep], np.asarray(predicted)[keep],
                                      labels=np.arange(len(label_names)), target_names=list(label_names),
                                      digits=4, zero_division=0)


def save_confusion_matrix(matrix, label_names, path, title="") -> None:
    """Row-normalised colours with raw counts written in each cell; written atomically as PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    matrix = np.asarray(matrix)
    row_sums = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, row_sums, out=np.zeros(matrix.shape, float), where=row_sums > 0)
    size = 1.0 + 0.7 * len(label_names)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.subplots()
    image = axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
    axes.set_yticks(range(len(label_names)), label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    if title:
        axes.set_title(title)
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center",
                  color="white" if share[row, col] > 0.5 else "black", fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of gold row")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
