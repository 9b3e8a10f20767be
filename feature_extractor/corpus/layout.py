"""What a corpus layout module (kemdy19.py, kemdy20.py) hands to the index builder."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from feature_extractor.corpus.annotation_csv import AnnotationLayout, read_annotation
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.signal_files import SignalSource

ANNOTATION_FOLDER = "annotation"

# Columns of AnnotatedSegments.frame, besides the raw annotation columns of annotation_csv.
SEGMENT_COLUMNS = (
    "session",  # int, the annotation file's own session
    "dialogue_id",
    "segment_id",  # as used in the index (session prefix corrected where needed)
    "source_segment_id",  # as written in the annotation file
    "speaker",
    "gender",
    "annotation_file",  # full path, for messages
    "wav_path",  # expected wav, relative to the corpus root
    "wav_path_alt",  # second place to look ("" when none)
)


@dataclass
class AnnotatedSegments:
    """The speaker-labelled annotation rows of a corpus, one per segment."""

    frame: pd.DataFrame
    skipped: list[dict] = field(default_factory=list)  # segment_id, file, reason
    notes: dict = field(default_factory=dict)  # corrections made while reading, for the meta file


@dataclass(frozen=True)
class CorpusLayout:
    name: str
    annotation_file: re.Pattern  # file names in annotation/
    read_segments: Callable[[Path], AnnotatedSegments]
    signals: tuple[SignalSource, ...]
    signal_owner: Callable[[str], str | None]  # owner token in a signal file name, or None
    owner_column: str  # the segment column that owner token is compared with


def annotation_files(root: Path, pattern: re.Pattern) -> list[tuple[re.Match, Path]]:
    folder = Path(root) / ANNOTATION_FOLDER
    found = []
    for path in sorted(folder.iterdir()):
        match = pattern.match(path.name)
        if match and path.is_file():
            found.append((match, path))
    return found


def split_segment_ids(table: pd.DataFrame, pattern: re.Pattern, path: Path, example: str) -> pd.DataFrame:
    """Named groups of `pattern` for every segment id; a non-matching id is a CorpusError."""
    parts = table["segment_id"].str.extract(pattern)
    bad = parts.isna().any(axis=1)
    if bad.any():
        row = bad.idxmax()
        raise CorpusError(
            f"segment id {table.at[row, 'segment_id']!r} does not parse",
            path,
            int(table.at[row, "line"]),
            expected=f"a segment id like {example}",
        )
    return parts


def read_checked_annotation(path: Path, columns: AnnotationLayout, pattern: re.Pattern, example: str) -> pd.DataFrame:
    """read_annotation's rows, every segment id checked to parse before any is compared with another."""
    table = read_annotation(path, columns)
    split_segment_ids(table, pattern, path, example)
    return table
