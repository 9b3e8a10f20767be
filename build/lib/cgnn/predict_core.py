"""Run a stage-3 model over dialogues and return per-utterance class probabilities.

    checkpoint = load_checkpoint("model_checkpoints/demo_stage3_at")
    probs = predict_dialogue(checkpoint, record)      # [n, K], rows in the record's utterance order

`record` is one dialogue as in the conversation pickle (docs/contracts.md); `labels` and `split`
may be left out for new conversations."""

import numpy as np
import torch

from cgnn.batching import iterate_batches
from cgnn.checkpoint import Stage3Checkpoint, check_compatible
from cgnn.conversation_pickle import FORMAT_NAME, FORMAT_VERSION, UNLABELLED, validate


@torch.no_grad()
def logits_by_dialogue(model, items, batch_size: int, device) -> list:
    """Eval-mode logits, one CPU tensor [n, K] per prepared dialogue, in the order of `items`."""
    model.eval()
    out = []
    for batch in iterate_batches(items, batch_size):
        logits = model(batch.to(device)).float().cpu()
        out.extend(torch.split(logits, batch.lengths.tolist()))
    return out


def predict_dialogues(checkpoint: Stage3Checkpoint, dialogues, device=None, batch_size: int = 32) -> list:
    """Probabilities [n, K] (numpy float32) for each dialogue dict, after checking it fits."""
    records = [_as_record(d) for d in dialogues]
    data = validate({"format": FORMAT_NAME, "version": FORMAT_VERSION,
                     "label_names": checkpoint.label_names, "feature_dims": None, "config": {},
                     "dialogues": records}, source="prediction input", derive_feature_dims=True)
    check_compatible(checkpoint, data.label_names, data.feature_dims, source="prediction input")
    items = checkpoint.prepare(data.dialogues, source="prediction input")
    device = device or next(checkpoint.model.parameters()).device
    logits = logits_by_dialogue(checkpoint.model, items, batch_size, device)
    return [torch.softmax(x, dim=-1).numpy() for x in logits]


def predict_dialogue(checkpoint: Stage3Checkpoint, record: dict, device=None) -> np.ndarray:
    return predict_dialogues(checkpoint, [record], device)[0]


def _as_record(dialogue: dict) -> dict:
    record = dict(dialogue)
    record.setdefault("split", "predict")
    record.setdefault("labels", np.full(len(record.get("segment_ids", ())), UNLABELLED, np.int64))
    return record
