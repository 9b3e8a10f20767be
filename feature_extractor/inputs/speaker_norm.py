"""Conversation-aware normalisation of acoustic vectors: each utterance's vector z-normalised over
the utterances of its speaker, something an utterance-level toolkit cannot do because it does not
know who spoke. Voices differ more than one voice's emotions do; removing each speaker's own mean
and scale leaves what changes from utterance to utterance.

Scopes (which utterances form a speaker's group): `speaker` (every utterance of the speaker id in
the table), `session` (the speaker within one session), `dialogue` (within one dialogue). Each group's
mean is shrunk towards the whole table's mean, and its variance towards the pooled within-speaker
variance, with a weight of SHRINK pseudo-utterances: a speaker with one utterance keeps two thirds of
its difference from everyone else instead of becoming all zeros, one with 50 loses all but 4 %.
No labels are read; at test time the statistics come from the test speakers' own utterances
(transductive, as speaker normalisation is in the speech-emotion literature)."""

import numpy as np
import pandas as pd

SCOPES = ("none", "speaker", "session", "dialogue")
SHRINK = 2.0
GROUP_COLUMNS = {"speaker": ["speaker"], "session": ["session", "speaker"], "dialogue": ["dialogue_id", "speaker"]}


def speaker_normalise(vectors: np.ndarray, table: pd.DataFrame, scope: str) -> np.ndarray:
    """`vectors` [N, D] (rows follow `table`), normalised per speaker group of `scope`."""
    if scope == "none":
        return vectors
    if scope not in GROUP_COLUMNS:
        raise ValueError(f"speaker normalisation scope {scope!r}; expected one of {', '.join(SCOPES)}")
    values = np.asarray(vectors, dtype=np.float64)
    groups = _group_keys(table, GROUP_COLUMNS[scope])
    members = [groups == group for group in pd.unique(groups)]
    overall_mean = values.mean(axis=0)
    within_var = sum(rows.sum() * values[rows].var(axis=0) for rows in members) / len(values)
    normalised = np.empty_like(values)
    for rows in members:
        weight = rows.sum() / (rows.sum() + SHRINK)
        mean = weight * values[rows].mean(axis=0) + (1 - weight) * overall_mean
        var = weight * values[rows].var(axis=0) + (1 - weight) * within_var
        normalised[rows] = (values[rows] - mean) / np.sqrt(var + 1e-8)
    return normalised.astype(np.float32)


def _group_keys(table: pd.DataFrame, columns) -> np.ndarray:
    """One key per row; a column the table lacks (a conversation given to predict has no session)
    counts as one value for every row."""
    present = [column for column in columns if column in table.columns]
    return table[present].astype(str).agg("\x1f".join, axis=1).to_numpy()
