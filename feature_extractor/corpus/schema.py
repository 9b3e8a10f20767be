"""The columns of the utterance index (docs/contracts.md) and their dtypes, in file order.

One contract for every corpus: REQUIRED_COLUMNS are what any reader must give; the rest are
optional (KEMDy's raters and physiological signals, clip windows, valence / arousal) and are
filled with their blank values by `complete_index_frame`. Soft-label columns are named after
the index's own label set (`soft_<label>`) and exist only when the corpus has soft labels."""

import pandas as pd

from erc_core.labels import KEMDY_LABELS
from feature_extractor.corpus.annotation_csv import RATER_COLUMNS
from feature_extractor.corpus.physio import MASK_COLUMNS, PHYSIO_COLUMNS

REQUIRED_COLUMNS = (
    "dataset", "session", "dialogue_id", "segment_id", "speaker", "turn", "wav_path",
    "text_raw", "text", "emotion_raw", "emotion", "label", "split",
)
SOFT_PREFIX = "soft_"
INT_COLUMNS = ("session", "turn", "label")
BOOL_COLUMNS = ("is_tie", *MASK_COLUMNS)
BASE_FLOAT_COLUMNS = ("start", "end", "duration", "clip_start", "clip_end", "valence", "arousal", *PHYSIO_COLUMNS)
SKIPPED_COLUMNS = ("segment_id", "file", "reason")


def soft_columns(label_names) -> tuple[str, ...]:
    return tuple(f"{SOFT_PREFIX}{name}" for name in label_names)


def index_columns(label_names, with_soft: bool = True) -> tuple[str, ...]:
    """Every column of an index with this label set, in file order."""
    soft = soft_columns(label_names) if with_soft else ()
    return (
        "dataset", "session", "dialogue_id", "segment_id", "speaker", "gender", "turn", "wav_path",
        "start", "end", "duration", "clip_start", "clip_end", "text_raw", "text", "emotion_raw", "emotion",
        "label", "is_tie", *RATER_COLUMNS, *soft, "valence", "arousal", *PHYSIO_COLUMNS, *MASK_COLUMNS, "split",
    )


def column_dtypes(columns) -> dict[str, str]:
    """pandas dtypes of `columns` (text columns stay str, blanks "" rather than NaN)."""
    def dtype(column: str) -> str:
        if column in INT_COLUMNS:
            return "int64"
        if column in BOOL_COLUMNS:
            return "bool"
        if column in BASE_FLOAT_COLUMNS or column.startswith(SOFT_PREFIX):
            return "float64"
        return "str"

    return {column: dtype(column) for column in columns}


def float_columns(columns) -> list[str]:
    return [column for column, kind in column_dtypes(columns).items() if kind == "float64"]


def complete_index_frame(frame: pd.DataFrame, label_names) -> pd.DataFrame:
    """`frame` (with REQUIRED_COLUMNS) with every missing optional column at its blank value,
    the columns in file order and the dtypes of the contract. Soft columns are kept only when
    all of the label set's are there."""
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"index frame lacks the required columns {missing}")
    with_soft = all(column in frame.columns for column in soft_columns(label_names))
    columns = index_columns(label_names, with_soft)
    frame = frame.copy()
    for column, kind in column_dtypes(columns).items():
        if column not in frame.columns:
            frame[column] = {"bool": False, "float64": float("nan"), "str": "", "int64": 0}[kind]
    if "duration" in frame and frame["duration"].isna().all():
        frame["duration"] = frame["end"] - frame["start"]
    return frame[list(columns)].astype(column_dtypes(columns)).reset_index(drop=True)


# The KEMDy readers' columns (their label set, rater soft labels always present).
INDEX_COLUMNS = index_columns(KEMDY_LABELS)
