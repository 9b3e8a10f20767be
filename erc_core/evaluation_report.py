"""The files an evaluation leaves, the same for stage 1 and stage 3:

    predictions.csv              one row per utterance: ids, gold, predicted, one probability per class
    classification_report.txt    scikit-learn's per-class report
    confusion_matrix.png         row-normalised, counts in the cells, headline metrics in the title
    metrics.json                 erc_core.metrics numbers + whatever the caller adds (provenance, ...)
    report.html                  the page to read it all in, every dialogue as a timeline (erc_core/report_page.py)
"""

import csv
from pathlib import Path

import numpy as np

from erc_core.files import atomic_open, write_json
from erc_core.metrics import classification_metrics, report_text
from erc_core.plots import headline_title, save_confusion_matrix
from erc_core.report_page import PAGE_NAME, write_report_page


def write_evaluation(out, name: str, label_names, rows, gold, probabilities, extra: dict | None = None,
                     texts=None) -> dict:
    """`rows`: (dialogue_id, segment_id, speaker) per utterance; `gold`: class ids, -1 = no label;
    `probabilities`: [n, K]; `texts`: the utterances' text, one per row, or None (the report page
    then has no text column). Returns the metrics written to metrics.json."""
    out = Path(out)
    gold = np.asarray(gold, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    label_names = list(label_names)
    metrics = classification_metrics(gold, predicted, label_names)
    _write_predictions(out / "predictions.csv", rows, gold, probabilities, label_names)
    if metrics["n"]:
        with atomic_open(out / "classification_report.txt", "w", encoding="utf-8") as handle:
            handle.write(report_text(gold, predicted, label_names))
        save_confusion_matrix(metrics["confusion_matrix"], label_names, out / "confusion_matrix.png",
                              title=headline_title(name, metrics))
    else:  # nothing to score: leave no stale report from an earlier run
        for stale in ("classification_report.txt", "confusion_matrix.png"):
            (out / stale).unlink(missing_ok=True)
    write_report_page(out / PAGE_NAME, name, label_names, rows, gold, probabilities, texts, extra, metrics)
    result = {**(extra or {}), "utterances": int(gold.size), **metrics}
    write_json(out / "metrics.json", result)
    return result


def _write_predictions(path, rows, gold, probabilities, label_names) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dialogue_id", "segment_id", "speaker", "gold", "predicted"]
                        + [f"prob_{name}" for name in label_names])
        for (dialogue_id, segment_id, speaker), label, probs in zip(rows, gold, probabilities):
            writer.writerow([dialogue_id, segment_id, speaker, label_names[label] if label >= 0 else "",
                             label_names[int(probs.argmax())]] + [f"{p:.6f}" for p in probs])
