"""The collapse guard: a model that predicts (nearly) one class is never kept silently.

A run that barely trains (too few optimizer steps, a learning rate too low) ends where it
started: every utterance gets the majority class. On a skewed dev split that model can have the
best dev weighted-F1 of the first epochs, so plain "best dev epoch" keeps it.

Rule (docs/stage3.md): dev predictions are *collapsed* when one class takes at least
`COLLAPSE_SHARE` (90 %) of them. Model selection ranks epochs by (not collapsed, dev
weighted-F1): a collapsed epoch is kept only while no epoch so far separates classes, and a later
epoch that does replaces it whatever its score. If every epoch collapsed, the best one is kept
and flagged in the summary line and in metrics.json (`collapse`)."""

import numpy as np

COLLAPSE_SHARE = 0.9


def top_prediction(metrics: dict, label_names) -> dict:
    """{'class', 'share', 'collapsed'} of the class predicted most often (columns of the confusion matrix)."""
    predicted = np.asarray(metrics["confusion_matrix"]).sum(axis=0)
    top = int(predicted.argmax())
    share = float(predicted[top] / max(1, predicted.sum()))
    return {"class": label_names[top], "share": share, "collapsed": share >= COLLAPSE_SHARE}


def selection_key(weighted_f1: float, collapsed: bool) -> tuple:
    """Larger is better: any epoch that separates classes before any collapsed one, then dev weighted-F1."""
    return (not collapsed, weighted_f1)


def collapse_warning(top: dict, split: str = "dev") -> str:
    return (f"WARNING: the kept model predicts '{top['class']}' for {100 * top['share']:.0f}% of {split} "
            f"utterances (collapsed: no epoch separated the classes; more steps, trainer.min_steps, or a "
            f"smaller data.batch_size may help)")
