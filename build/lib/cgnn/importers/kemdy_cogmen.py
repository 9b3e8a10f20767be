"""Import the KEMDy19 COGMEN pipeline's feature pickle: a 10-element list, the COGMEN 9-tuple
plus, last, a dict dialogue id -> segment ids (`Sess01_script01_F001`, ...). Element 0 is a plain
list of dialogue ids there; speakers are the gender letters M/F.

That pipeline numbers its classes neutral, angry, happy, surprise, sad, fear, disgust; the
import re-numbers them into this project's class order (erc_core/labels.py EMOTIONS), so the
result trains and evaluates like a stage-2 pickle of this project."""

import numpy as np

from cgnn.importers.cogmen_tuple import DEV_FRACTION, TUPLE_FIELDS, ImportFormatError, import_cogmen_tuple
from cgnn.safe_unpickle import safe_load
from erc_core.labels import EMOTIONS, canonical_emotion

SOURCE_LABELS = ["neutral", "angry", "happy", "surprise", "sad", "fear", "disgust"]


def load_kemdy_cogmen(path):
    payload = safe_load(path)
    if not isinstance(payload, (tuple, list)) or len(payload) != len(TUPLE_FIELDS) + 1:
        size = len(payload) if isinstance(payload, (tuple, list)) else type(payload).__name__
        raise ImportFormatError(f"{path}: expected the KEMDy19 COGMEN 10-element list (the 9-tuple + "
                                f"segment ids per dialogue), got {size}")
    return payload


def import_kemdy_cogmen(fields, source, source_labels=None, dev_fraction=DEV_FRACTION, dev_ids=None):
    """Dialogues in EMOTIONS class order, and the ImportReport."""
    source_labels = list(source_labels or SOURCE_LABELS)
    segment_ids = fields[9]
    if not isinstance(segment_ids, dict):
        raise ImportFormatError(f"{source}: element 9 must be a dict dialogue id -> segment ids, "
                                f"got {type(segment_ids).__name__}")
    dialogues, report = import_cogmen_tuple(fields[:9], source_labels, source, segment_ids=segment_ids,
                                            dev_fraction=dev_fraction, dev_ids=dev_ids)
    to_project = _label_mapping(source_labels, source)
    for dialogue in dialogues:
        labels = dialogue["labels"]
        bad = (labels < 0) | (labels >= len(source_labels))
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise ImportFormatError(f"{source}: dialogue {dialogue['dialogue_id']!r}: label "
                                    f"{int(labels[position])} of segment {dialogue['segment_ids'][position]!r} "
                                    f"is outside 0..{len(source_labels) - 1}")
        dialogue["labels"] = to_project[labels]
    return dialogues, report


def _label_mapping(source_labels, source) -> np.ndarray:
    try:
        names = [canonical_emotion(name) for name in source_labels]
    except ValueError as error:
        raise ImportFormatError(f"{source}: {error}") from None
    if len(set(names)) != len(names):
        raise ImportFormatError(f"{source}: label names repeat: {source_labels}")
    return np.array([EMOTIONS.index(name) for name in names], dtype=np.int64)
