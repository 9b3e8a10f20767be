"""Import the COGMEN / DialogueRNN 9-tuple feature pickle:

    (video_ids, video_speakers, video_labels, video_text, video_audio, video_visual,
     video_sentence, train_ids, test_ids)

Elements 0-6 are dicts keyed by dialogue id (video_ids[vid] = the utterance ids, when it is a
dict). Dev, by one of two rules, named in the import report and the pickle's config:
- an explicit list of dev dialogue ids (`dev_ids`; the official validation ids of MELD, EmoryNLP
  or COSMIC-style pickles): each must be a dialogue of the pickle and not a test id; listed train
  ids move to dev, and listed ids in neither train nor test ids are imported as dev;
- otherwise the first 10 % of train_ids in the stored order, exactly as COGMEN's preprocess.py
  (`dev_size = int(len(trainVids) * 0.1)`; `trainVids[:dev_size]`; no sorting or shuffling). A
  set of ids has no order, so a set is sorted first. Speakers may be letters (M/F), ints or one-hot
vectors (MELD); any of text/audio/visual may be empty everywhere, or of width 0 (that feature
is left out). Sentences (element 6) are not imported."""

import dataclasses

import numpy as np

from cgnn.conversation_pickle import FORMAT_NAME, FORMAT_VERSION, validate
from cgnn.safe_unpickle import safe_load
from erc_core.errors import UserError

# Class order of each public feature pickle, as the COGMEN code (IEMOCAP, MOSEI) and the
# DialogueRNN / MELD loaders (MELD) number them.
LABEL_SETS = {
    "iemocap": ["hap", "sad", "neu", "ang", "exc", "fru"],
    "iemocap_4": ["hap", "sad", "neu", "ang"],
    "mosei": ["Negative", "Positive"],
    "meld": ["neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"],
}
FEATURE_SLOTS = (("t", 3), ("a", 4), ("v", 5))
TUPLE_FIELDS = ("video_ids", "video_speakers", "video_labels", "video_text", "video_audio",
                "video_visual", "video_sentence", "train_ids", "test_ids")
DEV_FRACTION = 0.1


class ImportFormatError(UserError):
    """The foreign pickle does not have the expected layout."""


@dataclasses.dataclass
class ImportReport:
    counts: dict                 # split -> number of dialogues
    features: list               # feature names imported
    empty_features: list         # feature slots left out: empty (or of width 0) everywhere
    unassigned: list             # dialogue ids in the dicts but in neither train_ids nor test_ids
    dev_rule: str = ""           # how dev was chosen

    def lines(self) -> list:
        out = ["dialogues: " + ", ".join(f"{k} {v}" for k, v in self.counts.items()),
               f"dev: {self.dev_rule}",
               f"features imported: {', '.join(self.features)}"]
        if self.empty_features:
            out.append(f"empty in the source, left out: {', '.join(self.empty_features)}")
        if self.unassigned:
            shown = ", ".join(self.unassigned[:5]) + (" ..." if len(self.unassigned) > 5 else "")
            out.append(f"{len(self.unassigned)} dialogue(s) in neither train nor test ids, not imported: "
                       f"{shown}")
        return out


def load_cogmen_tuple(path):
    payload = safe_load(path)
    if not isinstance(payload, (tuple, list)) or len(payload) != len(TUPLE_FIELDS):
        size = len(payload) if isinstance(payload, (tuple, list)) else type(payload).__name__
        raise ImportFormatError(f"{path}: expected the COGMEN 9-tuple ({', '.join(TUPLE_FIELDS)}), "
                                f"got {size}")
    return payload


def import_cogmen_tuple(fields, label_names, source, segment_ids=None, dev_fraction=DEV_FRACTION, dev_ids=None):
    """Dialogues (conversation-pickle dicts) and an ImportReport from the 9 tuple fields.

    `segment_ids` (dict: dialogue id -> utterance ids) overrides video_ids; without either, ids
    are `<dialogue>_<position:03d>`. `dev_ids`: an explicit dev list (see the module docstring)."""
    video_ids, speakers, labels = fields[0], fields[1], fields[2]
    train_ids = ordered_ids(fields[7], f"{source}: train_ids")
    test_ids = ordered_ids(fields[8], f"{source}: test_ids")
    overlap = sorted(set(map(str, train_ids)) & set(map(str, test_ids)))
    if overlap:
        raise ImportFormatError(f"{source}: {len(overlap)} dialogue(s) in both train and test ids: "
                                f"{', '.join(overlap[:5])}")
    if dev_ids is None:
        assignment, dev_rule = _fraction_dev(train_ids, test_ids, dev_fraction)
    else:
        assignment, dev_rule = _explicit_dev(train_ids, test_ids, labels, dev_ids, source)
    wanted = [vid for vid, _ in assignment]
    slots = _present_feature_slots(fields, wanted, source)
    dialogues = []
    for vid, split in assignment:
        where = f"{source}: dialogue {vid!r}"
        dialogue_labels = _labels(_lookup(labels, vid, "video_labels", where), where)
        n = len(dialogue_labels)
        dialogues.append({
            "dialogue_id": _text(vid),
            "split": split,
            "segment_ids": _segment_ids(vid, n, video_ids, segment_ids, where),
            "speakers": speaker_names(_lookup(speakers, vid, "video_speakers", where), where),
            "labels": dialogue_labels,
            "features": {name: feature_rows(_lookup(fields[slot], vid, name, where), where, name)
                         for name, slot in slots},
        })
    counts = {split: sum(1 for _, s in assignment if s == split) for split in ("train", "dev", "test")}
    known = {str(k) for k in labels} if isinstance(labels, dict) else set()
    unassigned = sorted(known - set(map(str, wanted)))
    empty = [name for name, _ in FEATURE_SLOTS if name not in dict(slots)]
    return dialogues, ImportReport(counts, [name for name, _ in slots], empty, unassigned, dev_rule)


def check_dev_fraction(value, key="dev_fraction") -> None:
    if not 0 <= value < 1:  # NaN fails too
        raise UserError(f"{key} {value}: expected a share of the train ids in [0, 1) (0 = no dev dialogues "
                        "from train; the default is 0.1, COGMEN's rule)")


def _fraction_dev(train_ids, test_ids, dev_fraction):
    check_dev_fraction(dev_fraction)
    dev_size = int(len(train_ids) * dev_fraction)
    assignment = [(vid, "dev") for vid in train_ids[:dev_size]] + \
                 [(vid, "train") for vid in train_ids[dev_size:]] + [(vid, "test") for vid in test_ids]
    rule = (f"the first {dev_fraction:g} of train ids in stored order ({dev_size} dialogues; COGMEN's rule)")
    return assignment, rule


def _explicit_dev(train_ids, test_ids, labels, dev_ids, source):
    listed = [str(vid) for vid in dev_ids]
    in_test = sorted(set(listed) & set(map(str, test_ids)))
    if in_test:
        raise ImportFormatError(f"{source}: {len(in_test)} listed dev id(s) are test ids: {', '.join(in_test[:5])}")
    known = {str(k): k for k in labels} if isinstance(labels, dict) else {}
    unknown = [vid for vid in listed if vid not in known]
    if unknown:
        raise ImportFormatError(f"{source}: {len(unknown)} listed dev id(s) are not dialogues of the pickle: "
                                f"{', '.join(unknown[:5])}")
    dev = set(listed)
    assignment = [(vid, "dev" if str(vid) in dev else "train") for vid in train_ids]
    assigned = set(map(str, train_ids))
    assignment += [(known[vid], "dev") for vid in dict.fromkeys(listed) if vid not in assigned]
    assignment += [(vid, "test") for vid in test_ids]
    return assignment, f"an explicit list of {len(dev)} dev dialogue ids"


def check_dialogues(dialogues, label_names, source):
    """Validate imported dialogues against the conversation-pickle contract, naming the source."""
    return validate({"format": FORMAT_NAME, "version": FORMAT_VERSION, "label_names": list(label_names),
                     "feature_dims": None, "config": {}, "dialogues": dialogues},
                    source=f"{source} (imported)", derive_feature_dims=True)


# ---------------------------------------------------------------- field readers


def ordered_ids(ids, where) -> list:
    if isinstance(ids, (set, frozenset)):
        return sorted(ids, key=str)
    if isinstance(ids, dict):
        return list(ids)
    if isinstance(ids, (list, tuple, np.ndarray)):
        return list(ids)
    raise ImportFormatError(f"{where}: expected a list of dialogue ids, got {type(ids).__name__}")


def speaker_names(raw, where) -> list:
    """Letters stay as they are; ints become their decimal string; one-hot rows become the
    index of their 1 (MELD: up to 9 speakers)."""
    if isinstance(raw, str):
        return list(raw)  # "MFMF"
    rows = list(raw)
    if rows and all(_is_vector(r) for r in rows):
        matrix = np.asarray([np.asarray(r, dtype=float).reshape(-1) for r in rows])
        valid = np.isin(matrix, (0.0, 1.0)).all(axis=1) & (matrix.sum(axis=1) == 1)
        if not valid.all():
            bad = int(np.flatnonzero(~valid)[0])
            raise ImportFormatError(f"{where}: speaker row {bad} {matrix[bad].tolist()} is not one-hot")
        return [str(i) for i in matrix.argmax(axis=1)]
    names = []
    for position, value in enumerate(rows):
        if isinstance(value, (str, bytes)):
            names.append(_text(value))
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            names.append(str(int(value)))
        else:
            raise ImportFormatError(f"{where}: speaker {position} is {value!r}; expected a letter, "
                                    "an int or a one-hot vector")
    return names


def feature_rows(raw, where, name) -> np.ndarray:
    """[n, d] float32 from an [n, d] array or a list of n vectors (shape (d,) or (1, d))."""
    rows = [np.asarray(r, dtype=np.float32) for r in raw]
    squeezed = [r.reshape(-1) if r.ndim > 1 and r.size == max(r.shape) else r for r in rows]
    widths = {r.shape for r in squeezed}
    if len(widths) != 1 or len(next(iter(widths))) != 1:
        raise ImportFormatError(f"{where}: feature {name!r} rows have shapes {sorted(widths)}; "
                                "expected one vector per utterance, all the same width")
    return np.stack(squeezed)


def _labels(raw, where) -> np.ndarray:
    values = np.asarray(list(raw))
    if values.ndim != 1:
        raise ImportFormatError(f"{where}: labels have shape {values.shape}; expected one class id each")
    if not np.issubdtype(values.dtype, np.integer):
        integral = np.issubdtype(values.dtype, np.floating) and np.all(values == np.round(values))
        if not integral:
            raise ImportFormatError(f"{where}: labels {values[:5].tolist()} are not class ids")
    return values.astype(np.int64)


def _segment_ids(vid, n, video_ids, segment_ids, where) -> list:
    given = segment_ids if segment_ids is not None else video_ids if isinstance(video_ids, dict) else None
    if given is None:
        return [f"{_text(vid)}_{i:03d}" for i in range(n)]
    ids = [_text(x) for x in _lookup(given, vid, "segment ids", where)]
    if len(ids) != n:
        raise ImportFormatError(f"{where}: {len(ids)} segment/utterance ids for {n} labels")
    return ids


def _present_feature_slots(fields, wanted, source) -> list:
    """(name, tuple position) of the feature slots with data; a slot empty for every wanted
    dialogue is left out, one empty for only some is an error."""
    slots = []
    for name, slot in FEATURE_SLOTS:
        container = fields[slot]
        if container is None or len(container) == 0:
            continue
        present = [_has_rows(container, vid, name, source) for vid in wanted]
        if all(present):
            slots.append((name, slot))
        elif any(present):
            missing = [_text(v) for v, p in zip(wanted, present) if not p]
            raise ImportFormatError(f"{source}: feature {name!r} is empty for {len(missing)} dialogue(s) "
                                    f"({', '.join(missing[:5])}) but present for others")
    if not slots:
        raise ImportFormatError(f"{source}: text, audio and visual features are all empty")
    return slots


def _has_rows(container, vid, name, source) -> bool:
    if not isinstance(container, dict):
        raise ImportFormatError(f"{source}: feature {name!r} must be a dict keyed by dialogue id, "
                                f"got {type(container).__name__}")
    value = next((container[k] for k in (vid, str(vid), _text(vid)) if k in container), None)
    # rows of width 0 (e.g. np.zeros((n, 0)) for "no video") carry nothing: the slot is empty
    return value is not None and len(value) > 0 and any(np.size(row) for row in value)


def _lookup(container, vid, what, where):
    if not isinstance(container, dict):
        raise ImportFormatError(f"{where}: {what} must be a dict keyed by dialogue id, "
                                f"got {type(container).__name__}")
    for key in (vid, str(vid), _text(vid)):
        if key in container:
            return container[key]
    raise ImportFormatError(f"{where}: not found in {what}")


def _is_vector(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray)) and np.asarray(value).ndim >= 1


def _text(value) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)
