"""Emotion words of the annotation files -> canonical labels, rater soft labels and tie policy.

A `Total Evaluation` emotion is the raters' majority; when the vote is tied the file writes the
tied emotions joined by `;` (`happy;neutral`). The tie policy decides what such a row becomes:
  drop  - the row is left out (reported as skipped with reason "tie"),
  soft  - kept; the tied emotion with the most rater votes, the listed order breaking equal counts,
  first - kept; the first listed emotion."""

import numpy as np
import pandas as pd

from erc_core.labels import EMOTION_TO_INDEX, EMOTIONS, canonical_emotion
from feature_extractor.corpus.annotation_csv import RATER_COLUMNS
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.schema import soft_columns

TIE_POLICIES = ("drop", "soft", "first")
SOFT_COLUMNS = soft_columns(EMOTIONS)
TIE_SEPARATOR = ";"


def add_emotion_columns(table: pd.DataFrame, tie_policy: str) -> pd.DataFrame:
    """Return `table` with `tied` (tuple of canonical emotions), `is_tie`, canonical
    `rater_01..10` ("" when blank), `soft_*`, `emotion` and `label`.

    `table` needs `annotation_file`, `line`, `emotion_raw` and raw `rater_*` columns; an unknown
    emotion word raises CorpusError naming the file, line, word and the allowed names."""
    if tie_policy not in TIE_POLICIES:
        raise CorpusError(f"unknown tie policy {tie_policy!r}", expected=" / ".join(TIE_POLICIES))
    table = table.copy()
    table["tied"] = _parse_totals(table)
    table["is_tie"] = table["tied"].map(len) > 1
    for column in RATER_COLUMNS:
        table[column] = _canonical_words(table, column, allow_blank=True)
    soft = soft_label_matrix(table)
    for k, column in enumerate(SOFT_COLUMNS):
        table[column] = soft[:, k]
    table["emotion"] = _resolve_ties(table, tie_policy)
    table["label"] = table["emotion"].map(EMOTION_TO_INDEX).astype(np.int64)
    return table


def soft_label_matrix(table: pd.DataFrame) -> np.ndarray:
    """Rater counts / number of raters who gave an emotion, columns in EMOTIONS order.

    A row without any rater emotion falls back to an even split over its total emotion(s), so
    a soft vector always sums to 1."""
    raters = table[list(RATER_COLUMNS)].to_numpy(dtype=object)
    counts = np.stack([(raters == name).sum(axis=1) for name in EMOTIONS], axis=1).astype(np.float64)
    fallback = np.array([[name in tied for name in EMOTIONS] for tied in table["tied"]], dtype=np.float64)
    fallback = fallback.reshape(len(table), len(EMOTIONS))
    no_votes = counts.sum(axis=1) == 0
    counts[no_votes] = fallback[no_votes]
    return counts / counts.sum(axis=1, keepdims=True)


def _parse_totals(table: pd.DataFrame) -> pd.Series:
    """Each total emotion as a tuple of distinct canonical names in the listed order."""
    parsed = {}
    for raw in table["emotion_raw"].unique():
        words = [word.strip() for word in str(raw).split(TIE_SEPARATOR) if word.strip()]
        if not words:
            _raise_at(table, table["emotion_raw"] == raw, "empty Total Evaluation emotion", "an emotion")
        names = []
        for word in words:
            name = _canonical_or_raise(table, table["emotion_raw"] == raw, word)
            if name not in names:
                names.append(name)
        parsed[raw] = tuple(names)
    return table["emotion_raw"].map(parsed)


def _canonical_words(table: pd.DataFrame, column: str, allow_blank: bool) -> pd.Series:
    mapping = {"": ""} if allow_blank else {}
    for word in table[column].unique():
        if word not in mapping:
            mapping[word] = _canonical_or_raise(table, table[column] == word, word)
    return table[column].map(mapping)


def _canonical_or_raise(table: pd.DataFrame, where: pd.Series, word: str) -> str:
    try:
        return canonical_emotion(word)
    except ValueError:
        _raise_at(table, where, f"unknown emotion {word!r}", "one of " + ", ".join(EMOTIONS) + " (or disqust)")


def _raise_at(table: pd.DataFrame, where: pd.Series, message: str, expected: str):
    row = where.idxmax()
    raise CorpusError(message, table.at[row, "annotation_file"], int(table.at[row, "line"]), expected)


def _resolve_ties(table: pd.DataFrame, tie_policy: str) -> pd.Series:
    """The one emotion of each row. Under `drop` tie rows keep their first listed emotion here;
    the builder removes them."""
    first = table["tied"].map(lambda names: names[0])
    if tie_policy != "soft":
        return first
    emotion = first.copy()
    soft = table[list(SOFT_COLUMNS)]
    for row in table.index[table["is_tie"]]:
        votes = [soft.at[row, f"soft_{name}"] for name in table.at[row, "tied"]]
        emotion[row] = table.at[row, "tied"][int(np.argmax(votes))]  # argmax keeps the first of equals
    return emotion
