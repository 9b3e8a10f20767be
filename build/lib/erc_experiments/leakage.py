"""Refuse a fold whose dev or test utterances stage 1 trained on.

Stage 2 records, in the pickle's config, the utterances of each split its stage-1 model used
(`config['provenance']['stage1_splits']`, see feature_extractor/inputs/split_provenance.py). A
fold that puts any of the stage-1 training utterances into dev or test would score memorised
features, so the runner refuses it and names the sessions. A pickle without that record (e.g. an
imported COGMEN pickle) cannot be checked and passes."""

from erc_core.errors import UserError
from erc_experiments.folds import SESSION_ID

EVALUATED = ("dev", "test")


def stage1_train_segments(pickle_config: dict):
    """The stage-1 training segment ids recorded in a pickle's config, or None if none are recorded."""
    record = ((pickle_config or {}).get("provenance") or {}).get("stage1_splits")
    if not record:
        return None
    splits = record.get("splits", record)
    train = splits.get("train") or {}
    return set(train.get("segments", []))


def check_fold_against_stage1(dialogues, pickle_config: dict, where: str) -> None:
    """UserError when a dev / test utterance of `dialogues` was a stage-1 training utterance."""
    trained = stage1_train_segments(pickle_config)
    if not trained:
        return
    hits = {}
    for dialogue in dialogues:
        if dialogue["split"] not in EVALUATED:
            continue
        count = sum(segment in trained for segment in dialogue["segment_ids"])
        if count:
            key = (dialogue["split"], _session_name(dialogue["dialogue_id"]))
            hits[key] = hits.get(key, 0) + count
    if hits:
        parts = [f"{split} session {session} ({count} utterances)" for (split, session), count in sorted(hits.items())]
        raise UserError(f"{where}: {', '.join(parts)} were stage-1 training data of the model that made this "
                        "pickle; scoring them would measure memorised features. Use index mode (data.index), "
                        "which trains stage 1 per fold, or folds=0 for the pickle's own split")


def _session_name(dialogue_id: str) -> str:
    match = SESSION_ID.match(dialogue_id)
    return match.group(0) if match else dialogue_id
