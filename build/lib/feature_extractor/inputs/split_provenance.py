"""Which utterances a stage-1 model saw, and the check that keeps them out of evaluation.

Stage 1 records, in its export, the dialogues / segments / sessions of each split it used and a
hash of the index it read (`split_record`). Stage 2 refuses to write a pickle whose dev or test
utterances stage 1 trained on (`check_no_training_overlap`): a stage-3 score on such a pickle
would measure memorisation. Mixing up the per-fold indexes of `--folds K --fold I` does exactly
this, so the message names the sessions. `--allow-train-overlap` lets a deliberate use (e.g.
features for prediction only) through, and the pickle records that it was allowed."""

from pathlib import Path

import pandas as pd

from erc_core.errors import UserError
from erc_core.files import file_sha256

SPLITS = ("train", "dev", "test")
EVALUATED = ("dev", "test")


def index_sha256(index_dir) -> str | None:
    path = Path(index_dir) / "index.csv" if Path(index_dir).is_dir() else Path(index_dir)
    return file_sha256(path) if path.is_file() else None


def split_record(splits: dict, index_dir) -> dict:
    """{'index', 'index_sha256', 'splits': {split: {'dialogues', 'sessions', 'segments'}}} of the
    rows each split actually used (`splits`: split -> index rows)."""
    return {"index": str(index_dir), "index_sha256": index_sha256(index_dir),
            "splits": {name: _ids(frame) for name, frame in splits.items() if name in SPLITS}}


def check_no_training_overlap(stage1_record: dict | None, table: pd.DataFrame, source, checkpoint,
                              allow: bool = False) -> dict:
    """Refuse (UserError) when a dev / test row of `table` was a stage-1 training utterance.
    Returns what was checked, for the pickle's provenance."""
    if not stage1_record:
        return {"checked": False, "reason": f"{checkpoint} records no training split (an export from before "
                                            "split provenance); leakage could not be checked"}
    trained = set(stage1_record["splits"].get("train", {}).get("segments", []))
    overlap = table[table["split"].isin(EVALUATED) & table["segment_id"].isin(trained)]
    result = {"checked": True, "overlapping_utterances": int(len(overlap)), "allowed": bool(allow)}
    if len(overlap) and not allow:
        raise UserError(_overlap_message(overlap, source, checkpoint))
    return result


def _overlap_message(overlap: pd.DataFrame, source, checkpoint) -> str:
    parts = []
    for split in EVALUATED:
        rows = overlap[overlap["split"] == split]
        if len(rows):
            sessions = ", ".join(_session_names(rows))
            parts.append(f"{len(rows)} {split} utterance(s) from session(s) {sessions}")
    return (f"{source}: {' and '.join(parts)} were stage-1 training data of {checkpoint}; features for them "
            "would leak training labels into evaluation. Use the index the stage-1 run was trained with "
            "(same --folds/--fold), or pass --allow-train-overlap for a deliberate use such as prediction")


def _ids(frame: pd.DataFrame) -> dict:
    return {"dialogues": sorted(map(str, frame["dialogue_id"].unique())),
            "sessions": _session_names(frame),
            "segments": sorted(map(str, frame["segment_id"]))}


def _session_names(frame: pd.DataFrame) -> list:
    if "session" not in frame.columns:
        return []
    return sorted({str(value) for value in frame["session"]}, key=lambda s: (len(s), s))
