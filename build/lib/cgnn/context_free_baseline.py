"""The context-free baseline: one logistic regression per utterance, no dialogue context.

    result = fit_context_free_baseline(read_conversations(path), modality="t")
    result["test"]["weighted_f1"], result["chosen"]    # {'C': 1.0, 'class_weight': 'balanced'}

Same input features as stage 3 (`modality`, as `data.modality`), standardised with the train
split's mean and std. C and class_weight (None or 'balanced') are chosen on dev weighted-F1; the
chosen model, trained on train only, is scored on dev and test with erc_core.metrics. A stage-3
model that does not beat this has learned nothing from context."""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cgnn.conversation_pickle import UNLABELLED, modality_matrix
from erc_core.errors import UserError
from erc_core.metrics import classification_metrics

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
CLASS_WEIGHTS = (None, "balanced")


def utterance_matrix(dialogues, modality: str):
    """(features [n, d], labels [n]) of the labelled utterances of `dialogues`."""
    if not dialogues:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    features = np.concatenate([modality_matrix(d, modality) for d in dialogues])
    labels = np.concatenate([d["labels"] for d in dialogues])
    keep = labels != UNLABELLED
    return features[keep], labels[keep]


def fit_context_free_baseline(data, modality: str, c_grid=C_GRID, class_weights=CLASS_WEIGHTS,
                              max_iter: int = 2000) -> dict:
    """{'dev', 'test': metrics, 'chosen': {'C', 'class_weight'}, 'grid': [{'C', 'class_weight',
    'dev_weighted_f1'}], 'seconds'} for the conversation set `data`."""
    started = time.time()
    splits = {name: utterance_matrix(data.in_split(name), modality) for name in ("train", "dev", "test")}
    for name in ("train", "dev"):
        if not len(splits[name][1]):
            raise UserError(f"{data.source}: no labelled '{name}' utterances; the baseline needs train and dev")
    scaler = StandardScaler().fit(splits["train"][0])
    inputs = {name: (scaler.transform(x) if len(y) else x, y) for name, (x, y) in splits.items()}
    grid, best = [], None
    for class_weight in class_weights:
        for c in c_grid:
            model = _fit(inputs["train"], c, class_weight, max_iter)
            dev_f1 = classification_metrics(inputs["dev"][1], model.predict(inputs["dev"][0]),
                                            data.label_names)["weighted_f1"]
            grid.append({"C": float(c), "class_weight": class_weight, "dev_weighted_f1": dev_f1})
            if best is None or dev_f1 > best[0]:
                best = (dev_f1, model, grid[-1])
    _, model, chosen = best
    result = {name: classification_metrics(y, model.predict(x), data.label_names)
              for name, (x, y) in inputs.items() if name != "train" and len(y)}
    return {**result, "chosen": {"C": chosen["C"], "class_weight": chosen["class_weight"]}, "grid": grid,
            "modality": modality, "seconds": round(time.time() - started, 2)}


def _fit(train, c, class_weight, max_iter) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the grid's weakest C may stop early
        return LogisticRegression(C=c, class_weight=class_weight, max_iter=max_iter).fit(*train)
