"""KEMDy20 layout: one annotation file per session, flat wav folders, E4 EDA/TEMP/IBI.

Session prefix fix: `Sess17_eval.csv` lists segment ids whose `SessNN` prefix names another
session. The file's own session wins: such an id is rewritten with the file's session
(`Sess16_script01_User033F_001` in Sess17_eval.csv becomes `Sess17_script01_User033F_001`),
its wav is looked up first under the corrected id (`wav/Session17/Sess17_...wav`) and then under
the id as written (`wav/Session17/Sess16_...wav`), and physio rows tagged with either id count.
The rule applies to every session file; the corrections are counted in the index meta file.

A segment id written on several rows of a session file cannot be settled (there is no second
file per session, repeated_ids.py): unless the rows are copies of one row, all of them are
dropped and the segment is skipped with reason "duplicate segment id"."""

import re
from pathlib import Path

import pandas as pd

from feature_extractor.corpus.annotation_csv import AnnotationLayout
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.layout import (
    AnnotatedSegments,
    CorpusLayout,
    annotation_files,
    read_checked_annotation,
    split_segment_ids,
)
from feature_extractor.corpus.repeated_ids import ids_lost, settle_repeated_ids
from feature_extractor.corpus.signal_files import SignalSource

NAME = "KEMDy20"
ANNOTATION_FILE = re.compile(r"^Sess(\d+)_eval\.csv$")
SEGMENT_ID = re.compile(
    r"^Sess(?P<session>\d+)_(?P<dialogue>[A-Za-z]+\d+)_(?P<speaker>[A-Za-z]+\d+(?P<gender>[FM]))_(?P<number>\d+)$"
)
EXAMPLE_ID = "Sess01_script01_User002M_001"
COLUMNS = AnnotationLayout(n_columns=37, start=1, end=2, segment_id=3, total_emotion=4, first_rater=7)
SIGNALS = (
    SignalSource("eda", "EDA", "", "e4"),
    SignalSource("temp", "TEMP", "", "e4"),
    SignalSource("ibi", "IBI", "", "ibi"),
)
OWNER_TOKEN = re.compile(r"User\d+[FM]")


def read_segments(root: Path) -> AnnotatedSegments:
    frames, fixes, skipped, repeated = [], {}, [], []
    for match, path in annotation_files(root, ANNOTATION_FILE):
        table, settled = settle_repeated_ids(read_checked_annotation(path, COLUMNS, SEGMENT_ID, EXAMPLE_ID), path)
        repeated += [entry.note(root) for entry in settled]
        lost = sorted(ids_lost(settled, table))
        skipped += [{"segment_id": s, "file": path, "reason": "duplicate segment id"} for s in lost]
        rows, corrected = _session_rows(table, path, int(match.group(1)))
        frames.append(rows)
        if corrected:
            fixes[path.name] = corrected
    notes = {"session_prefix_fixes": fixes} if fixes else {}
    if repeated:
        notes["repeated_segment_ids"] = repeated
    return AnnotatedSegments(frame=pd.concat(frames, ignore_index=True), skipped=skipped, notes=notes)


def signal_owner(file_stem: str) -> str | None:
    """The participant (`User001F`) named in a signal file name such as `Sess01_script01_User001F`."""
    tokens = OWNER_TOKEN.findall(file_stem)
    return tokens[-1] if tokens else None


def _session_rows(table: pd.DataFrame, path: Path, session: int):
    parts = split_segment_ids(table, SEGMENT_ID, path, EXAMPLE_ID)
    prefix = f"Sess{session:02d}"
    rest = table["segment_id"].str.replace(r"^Sess\d+", "", regex=True)
    corrected = prefix + rest
    rows = table.copy()
    rows.insert(0, "session", session)
    rows.insert(1, "dialogue_id", prefix + "_" + parts["dialogue"])
    rows["source_segment_id"] = table["segment_id"]
    rows["segment_id"] = corrected
    rows["speaker"] = parts["speaker"]
    rows["gender"] = parts["gender"]
    rows["annotation_file"] = str(path)
    folder = f"wav/Session{session:02d}/"
    rows["wav_path"] = folder + corrected + ".wav"
    changed = corrected != table["segment_id"]
    rows["wav_path_alt"] = (folder + table["segment_id"] + ".wav").where(changed, "")
    _require_unique_after_fix(path, rows)
    return rows, int(changed.sum())


def _require_unique_after_fix(path: Path, rows: pd.DataFrame) -> None:
    repeated = rows["segment_id"].duplicated()
    if repeated.any():
        row = repeated.idxmax()
        raise CorpusError(
            f"segment id {rows.at[row, 'source_segment_id']} becomes {rows.at[row, 'segment_id']} after the "
            "session prefix fix, which another row already has",
            path,
            int(rows.at[row, "line"]),
            expected="unique segment ids within a session file",
        )


LAYOUT = CorpusLayout(
    name=NAME,
    annotation_file=ANNOTATION_FILE,
    read_segments=read_segments,
    signals=SIGNALS,
    signal_owner=signal_owner,
    owner_column="speaker",
)
