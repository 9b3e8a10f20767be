"""The columns of the utterance index (docs/contracts.md) and their dtypes, in file order."""

from feature_extractor.corpus.annotation_csv import RATER_COLUMNS
from feature_extractor.corpus.emotion_labels import SOFT_COLUMNS
from feature_extractor.corpus.physio import MASK_COLUMNS, PHYSIO_COLUMNS

INDEX_COLUMNS = (
    "dataset",
    "session",
    "dialogue_id",
    "segment_id",
    "speaker",
    "gender",
    "turn",
    "wav_path",
    "start",
    "end",
    "duration",
    "text_raw",
    "text",
    "emotion_raw",
    "emotion",
    "label",
    "is_tie",
    *RATER_COLUMNS,
    *SOFT_COLUMNS,
    "valence",
    "arousal",
    *PHYSIO_COLUMNS,
    *MASK_COLUMNS,
    "split",
)
INT_COLUMNS = ("session", "turn", "label")
BOOL_COLUMNS = ("is_tie", *MASK_COLUMNS)
FLOAT_COLUMNS = ("start", "end", "duration", *SOFT_COLUMNS, "valence", "arousal", *PHYSIO_COLUMNS)
TEXT_COLUMNS = tuple(c for c in INDEX_COLUMNS if c not in INT_COLUMNS + BOOL_COLUMNS + FLOAT_COLUMNS)
SKIPPED_COLUMNS = ("segment_id", "file", "reason")


def column_dtypes() -> dict[str, str]:
    dtypes = {c: "int64" for c in INT_COLUMNS} | {c: "bool" for c in BOOL_COLUMNS}
    return dtypes | {c: "float64" for c in FLOAT_COLUMNS} | {c: "str" for c in TEXT_COLUMNS}
