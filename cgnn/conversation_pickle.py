"""The conversation pickle: the one contract between stage 2 and stage 3 (docs/contracts.md).

    write_conversations(path, dialogues, label_names, config)   # validate, then write atomically
    data = read_conversations(path)                              # restricted unpickling + validation
    x = modality_matrix(data.dialogues[0], "at")                 # [n, d_a + d_t]

Every error names the file, the dialogue (position and id) and what was expected."""

import dataclasses
import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np

from cgnn.safe_unpickle import safe_load
from erc_core.errors import UserError
from erc_core.files import atomic_open, file_sha256, write_json

FORMAT_NAME = "kemdy-erc-conversations"
FORMAT_VERSION = 1
SPLITS = ("train", "dev", "test", "predict")
TOP_LEVEL_KEYS = ("format", "version", "label_names", "feature_dims", "config", "dialogues")
REQUIRED_DIALOGUE_KEYS = ("dialogue_id", "split", "segment_ids", "speakers", "labels", "features")
OPTIONAL_DIALOGUE_KEYS = ("soft_labels", "valence", "arousal")
UNLABELLED = -1


class ConversationFormatError(UserError):
    """A conversation pickle (or the data about to become one) breaks the contract."""


@dataclasses.dataclass
class ConversationSet:
    label_names: list
    feature_dims: dict
    config: dict
    dialogues: list
    source: str = ""
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION

    def in_split(self, split: str) -> list:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return [d for d in self.dialogues if d["split"] == split]

    def to_payload(self) -> dict:
        return {"format": self.format, "version": self.version, "label_names": list(self.label_names),
                "feature_dims": dict(self.feature_dims), "config": self.config,
                "dialogues": self.dialogues}


# ---------------------------------------------------------------- writing and reading


def write_conversations(path, dialogues, label_names, config, feature_dims=None) -> ConversationSet:
    """Validate `dialogues` and write them to `path` (atomically), plus `<path>.config.json`.

    The old sidecar goes once the new pickle is complete, right before it takes its name, and the
    new sidecar records the pickle's SHA-256: a kill between the two renames leaves a pickle
    without a sidecar, never a sidecar describing another pickle (`sidecar_matches`); a failed
    write leaves the previous pair as it was."""
    path = Path(path)
    payload = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "label_names": list(label_names),
               "feature_dims": feature_dims, "config": _plain_json(config, path),
               "dialogues": list(dialogues)}
    data = validate(payload, source=str(path), derive_feature_dims=feature_dims is None)
    with atomic_open(path, "wb") as handle:
        pickle.dump(data.to_payload(), handle, protocol=4)
        handle.flush()
        config_path(path).unlink(missing_ok=True)
    write_json(config_path(path), {**_summary(data), "pickle_sha256": file_sha256(path)})
    return data


def read_conversations(path) -> ConversationSet:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: conversation pickle not found")
    return validate(safe_load(path), source=str(path))


def config_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".config.json")


def sidecar_matches(path) -> bool:
    """True when `<path>.config.json` exists and describes the pickle now at `path` (by SHA-256;
    a sidecar from before the hash was recorded counts when both files exist)."""
    path, sidecar = Path(path), config_path(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = json.loads(sidecar.read_text(encoding="utf-8")).get("pickle_sha256")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False
    return recorded is None or recorded == file_sha256(path)


def _summary(data: ConversationSet) -> dict:
    counts = {}
    for split in SPLITS:
        chosen = data.in_split(split)
        if chosen:
            labels = np.concatenate([d["labels"] for d in chosen])
            counts[split] = {"dialogues": len(chosen), "utterances": int(labels.size),
                             "labelled": int((labels != UNLABELLED).sum())}
    return {"format": data.format, "version": data.version, "label_names": data.label_names,
            "feature_dims": data.feature_dims, "counts": counts, "config": data.config}


def _plain_json(config, path):
    """Config as plain JSON types (the restricted unpickler admits nothing else)."""
    try:
        return json.loads(json.dumps(config if config is not None else {}, default=str))
    except (TypeError, ValueError) as error:
        raise ConversationFormatError(f"{path}: config is not JSON-serialisable: {error}") from None


# ---------------------------------------------------------------- validation


def validate(payload, source="conversations", derive_feature_dims=False) -> ConversationSet:
    """Check a whole pickle payload; return it as a ConversationSet with canonical dtypes."""
    _check_header(payload, source)
    label_names = _check_label_names(payload["label_names"], source)
    dialogues = payload["dialogues"]
    if not isinstance(dialogues, (list, tuple)) or not dialogues:
        raise ConversationFormatError(f"{source}: 'dialogues' must be a non-empty list")
    normalized = [_normalize_dialogue(raw, i, source) for i, raw in enumerate(dialogues)]
    for i, dialogue in enumerate(normalized):
        _check_dialogue(dialogue, _where(source, i, dialogue), len(label_names))
    feature_dims = _check_across_dialogues(normalized, source)
    declared = payload["feature_dims"]
    if not derive_feature_dims and declared != feature_dims:
        raise ConversationFormatError(
            f"{source}: feature_dims {declared} does not match the feature arrays {feature_dims}")
    config = payload["config"]
    if not isinstance(config, dict):
        raise ConversationFormatError(f"{source}: 'config' must be a dict, got {type(config).__name__}")
    return ConversationSet(label_names=label_names, feature_dims=feature_dims, config=config,
                           dialogues=normalized, source=source)


def _check_header(payload, source):
    if not isinstance(payload, dict):
        raise ConversationFormatError(
            f"{source}: expected a dict with keys {', '.join(TOP_LEVEL_KEYS)}, got {type(payload).__name__}"
            " (a COGMEN tuple? convert it with kemdy-import)")
    missing = [key for key in TOP_LEVEL_KEYS if key not in payload]
    if missing:
        raise ConversationFormatError(f"{source}: missing top-level key(s) {', '.join(missing)}")
    if payload["format"] != FORMAT_NAME:
        raise ConversationFormatError(
            f"{source}: format is {payload['format']!r}, expected {FORMAT_NAME!r}")
    version = payload["version"]
    if not isinstance(version, int) or version < 1:
        raise ConversationFormatError(f"{source}: version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ConversationFormatError(
            f"{source}: format version {version} is newer than this code reads ({FORMAT_VERSION}); "
            "update the toolkit")


def _check_label_names(names, source):
    if not isinstance(names, (list, tuple)) or not names:
        raise ConversationFormatError(f"{source}: label_names must be a non-empty list of strings")
    if not all(isinstance(n, str) and n for n in names):
        raise ConversationFormatError(f"{source}: label_names must all be non-empty strings: {names}")
    repeated = sorted(n for n, c in Counter(names).items() if c > 1)
    if repeated:
        raise ConversationFormatError(f"{source}: label_names repeat {', '.join(repeated)}")
    return [str(n) for n in names]


def _where(source, index, dialogue):
    return f"{source}: dialogue #{index} ({dialogue['dialogue_id']!r})"


def _normalize_dialogue(raw, index, source) -> dict:
    """Keys and types checked, arrays converted to the canonical dtypes."""
    where = f"{source}: dialogue #{index}"
    if not isinstance(raw, dict):
        raise ConversationFormatError(f"{where}: expected a dict, got {type(raw).__name__}")
    if isinstance(raw.get("dialogue_id"), str) and raw["dialogue_id"]:
        where = f"{where} ({raw['dialogue_id']!r})"
    missing = [key for key in REQUIRED_DIALOGUE_KEYS if key not in raw]
    if missing:
        raise ConversationFormatError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED_DIALOGUE_KEYS) - set(OPTIONAL_DIALOGUE_KEYS))
    if unknown:
        allowed = ", ".join(REQUIRED_DIALOGUE_KEYS + OPTIONAL_DIALOGUE_KEYS)
        raise ConversationFormatError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {allowed}")
    if not isinstance(raw["dialogue_id"], str) or not raw["dialogue_id"]:
        raise ConversationFormatError(f"{where}: dialogue_id must be a non-empty string")
    if raw["split"] not in SPLITS:
        raise ConversationFormatError(
            f"{where}: unknown split {raw['split']!r}; expected one of {', '.join(SPLITS)}")
    dialogue = {
        "dialogue_id": str(raw["dialogue_id"]),
        "split": str(raw["split"]),
        "segment_ids": _string_list(raw["segment_ids"], "segment_ids", where),
        "speakers": _string_list(raw["speakers"], "speakers", where),
        "labels": _array(raw["labels"], np.int64, "labels", where),
        "features": _features(raw["features"], where),
    }
    for key in OPTIONAL_DIALOGUE_KEYS:
        if key in raw and raw[key] is not None:
            dialogue[key] = _array(raw[key], np.float32, key, where)
    return dialogue


def _string_list(values, key, where):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ConversationFormatError(f"{where}: {key} must be a list of strings")
    out = []
    for position, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise ConversationFormatError(
                f"{where}: {key}[{position}] is {value!r}; expected a non-empty string")
        out.append(str(value))
    return out


def _array(values, dtype, key, where):
    array = np.asarray(values)
    if dtype is np.int64 and array.size and not np.issubdtype(array.dtype, np.integer):
        raise ConversationFormatError(
            f"{where}: {key} must be integers (use {UNLABELLED} for no label), got dtype {array.dtype}")
    if dtype is np.float32 and array.size and not np.issubdtype(array.dtype, np.number):
        raise ConversationFormatError(f"{where}: {key} must be numbers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=dtype)


def _features(features, where):
    if not isinstance(features, dict) or not features:
        raise ConversationFormatError(f"{where}: features must be a non-empty dict of name -> [n, d] array")
    out = {}
    for name, values in features.items():
        if not isinstance(name, str) or not name:
            raise ConversationFormatError(f"{where}: feature name {name!r} is not a non-empty string")
        array = _array(values, np.float32, f"features[{name!r}]", where)
        if array.ndim != 2:
            raise ConversationFormatError(
                f"{where}: features[{name!r}] must be 2-D [utterances, dim], got shape {array.shape}")
        out[name] = array
    return out


def _check_dialogue(dialogue, where, num_labels):
    n = len(dialogue["segment_ids"])
    if n == 0:
        raise ConversationFormatError(f"{where}: has no utterances")
    for key in ("labels", "valence", "arousal"):
        if key in dialogue and dialogue[key].ndim != 1:
            raise ConversationFormatError(f"{where}: {key} must be 1-D, got shape {dialogue[key].shape}")
    lengths = {"speakers": len(dialogue["speakers"]), "labels": len(dialogue["labels"])}
    lengths.update({f"features[{k!r}] rows": len(v) for k, v in dialogue["features"].items()})
    lengths.update({key: len(dialogue[key]) for key in OPTIONAL_DIALOGUE_KEYS
                    if key in dialogue and dialogue[key].ndim >= 1})
    for key, length in lengths.items():
        if length != n:
            raise ConversationFormatError(
                f"{where}: segment_ids has {n} entries but {key} has {length} (ragged dialogue)")
    _check_label_range(dialogue, where, num_labels)
    for name, array in dialogue["features"].items():
        _check_finite(array, f"features[{name!r}]", dialogue, where)
    if "soft_labels" in dialogue:
        soft = dialogue["soft_labels"]
        if soft.shape != (n, num_labels):
            raise ConversationFormatError(
                f"{where}: soft_labels has shape {soft.shape}, expected ({n}, {num_labels})")
        _check_finite(soft, "soft_labels", dialogue, where)
        if (soft < 0).any():
            raise ConversationFormatError(f"{where}: soft_labels has negative values")


def _check_label_range(dialogue, where, num_labels):
    labels = dialogue["labels"]
    bad = np.flatnonzero((labels < UNLABELLED) | (labels >= num_labels))
    if bad.size:
        i = int(bad[0])
        raise ConversationFormatError(
            f"{where}: label {int(labels[i])} of segment {dialogue['segment_ids'][i]!r} is out of range; "
            f"expected 0..{num_labels - 1} (label_names) or {UNLABELLED} for no label")


def _check_finite(array, key, dialogue, where):
    finite = np.isfinite(array).reshape(array.shape[0], -1).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ConversationFormatError(
            f"{where}: {key} row {row} (segment {dialogue['segment_ids'][row]!r}) has NaN/inf values")


def _check_across_dialogues(dialogues, source) -> dict:
    seen_dialogues = {}
    seen_segments = {}
    reference = {name: array.shape[1] for name, array in dialogues[0]["features"].items()}
    for i, dialogue in enumerate(dialogues):
        where = _where(source, i, dialogue)
        if dialogue["dialogue_id"] in seen_dialogues:
            raise ConversationFormatError(
                f"{where}: dialogue_id repeats dialogue #{seen_dialogues[dialogue['dialogue_id']]}")
        seen_dialogues[dialogue["dialogue_id"]] = i
        for segment in dialogue["segment_ids"]:
            if segment in seen_segments:
                raise ConversationFormatError(
                    f"{where}: duplicate segment id {segment!r} (also in dialogue {seen_segments[segment]!r})")
            seen_segments[segment] = dialogue["dialogue_id"]
        dims = {name: array.shape[1] for name, array in dialogue["features"].items()}
        if dims != reference:
            raise ConversationFormatError(
                f"{where}: feature dims {dims} differ from dialogue #0 ({dialogues[0]['dialogue_id']!r}) "
                f"{reference}; every dialogue must carry the same features with the same widths")
    return reference


# ---------------------------------------------------------------- modalities


def resolve_modality(modality: str, available) -> list:
    """Feature names a modality string stands for: `all` = every one-letter feature of the pickle in
    its order (a COGMEN import: t, at, atv; a stage-2 pickle: t, a, p, not the derived `fused`), or
    its only feature; an exact name (`fused`); else one-letter names concatenated in the order
    written (`at` -> [a, t]). `available`: feature names, or a dict name -> array or width; a
    feature of width 0 carries nothing: `all` leaves it out, naming it is an error."""
    empty = [name for name, value in available.items() if _width(value) == 0] if isinstance(available, dict) else []
    present = [name for name in available if name not in empty]
    if modality == "all":
        letters = [name for name in present if len(name) == 1]
        if letters or len(present) == 1:
            return letters or present
        raise ValueError(f"modality 'all': no one-letter features in {present}; name one of them")
    names = [modality] if modality in available else list(modality or "")
    if empty and set(names) & set(empty):
        raise ValueError(f"modality {modality!r}: feature(s) {', '.join(sorted(set(names) & set(empty)))} "
                         f"have width 0 (empty); features present: {', '.join(present)}")
    if names and len(set(names)) == len(names) and all(x in available for x in names):
        return names
    raise ValueError(
        f"modality {modality!r} is not available; features present: {', '.join(present)}. "
        "Give one feature name (e.g. 'fused') or one-letter names concatenated (e.g. 'at').")


def _width(value):
    """A feature's width from its [n, d] array or its recorded width (None = not known)."""
    return value.shape[1] if hasattr(value, "shape") else value


def modality_matrix(dialogue: dict, modality: str) -> np.ndarray:
    """The [n, d] input matrix of one dialogue for `modality`."""
    names = resolve_modality(modality, dialogue["features"])
    return np.concatenate([dialogue["features"][name] for name in names], axis=1)


def concrete_modality(modality: str, available) -> str:
    """The modality string with `all` spelled out (`all` -> `tap` for a stage-2 pickle), for checkpoints."""
    names = resolve_modality(modality, available)
    return "".join(names) if all(len(name) == 1 for name in names) else names[0]


def modality_dims(feature_dims: dict, modality: str) -> dict:
    """Width of each feature a modality uses, in concatenation order."""
    return {name: feature_dims[name] for name in resolve_modality(modality, feature_dims)}
