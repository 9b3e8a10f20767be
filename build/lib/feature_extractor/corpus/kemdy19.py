"""KEMDy19 layout: two annotation files per session, nested wav folders, Refit ECG + E4 EDA/TEMP.

Speaker rule: `SessionNN_F_res.csv` and `SessionNN_M_res.csv` each list every segment of the
session, rated from that file's actor's side. A segment takes its labels only from its own
speaker's file (`..._F007` from `_F_res`, `..._M007` from `_M_res`); the other actor's rows in
each file are listener ratings and are not used. A segment that only the listener's file lists
is skipped with reason "missing speaker annotation"."""

import re
from pathlib import Path

import pandas as pd

from feature_extractor.corpus.annotation_csv import AnnotationLayout, read_annotation
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.layout import (
    AnnotatedSegments,
    CorpusLayout,
    annotation_files,
    split_segment_ids,
)
from feature_extractor.corpus.signal_files import SignalSource

NAME = "KEMDy19"
ANNOTATION_FILE = re.compile(r"^Session(\d+)_([FM])_res\.csv$")
SEGMENT_ID = re.compile(r"^(?P<dialogue>Sess(?P<session>\d+)_[A-Za-z]+\d+)_(?P<gender>[FM])(?P<number>\d+)$")
COLUMNS = AnnotationLayout(n_columns=43, start=1, end=2, segment_id=9, total_emotion=10, first_rater=13)
SIGNALS = (
    SignalSource("ecg", "ECG", "Original", "tagged"),
    SignalSource("eda", "EDA", "Original", "tagged"),
    SignalSource("temp", "TEMP", "Original", "tagged"),
)
OWNER_TOKEN = re.compile(r"(?:^|[^A-Za-z])([FM])(?=$|[^A-Za-z0-9])")


def read_segments(root: Path) -> AnnotatedSegments:
    pairs = _files_by_session(root)
    frames, skipped = [], []
    for session in sorted(pairs):
        own = {gender: _speaker_rows(path, session, gender) for gender, path in pairs[session].items()}
        for gender, (rows, listener_ids) in own.items():
            frames.append(rows)
            other = "M" if gender == "F" else "F"
            unrated = sorted(set(own[other][1]) - set(rows["segment_id"]))
            skipped += [
                {"segment_id": s, "file": pairs[session][gender], "reason": "missing speaker annotation"}
                for s in unrated
            ]
    return AnnotatedSegments(frame=pd.concat(frames, ignore_index=True), skipped=skipped)


def signal_owner(file_stem: str) -> str | None:
    """`F` or `M` when the file name carries that letter as a token (`Sess01F`, `Sess01_M_ECG`)."""
    tokens = OWNER_TOKEN.findall(file_stem)
    return tokens[-1] if tokens else None


def _files_by_session(root: Path) -> dict[int, dict[str, Path]]:
    pairs: dict[int, dict[str, Path]] = {}
    for match, path in annotation_files(root, ANNOTATION_FILE):
        pairs.setdefault(int(match.group(1)), {})[match.group(2)] = path
    for session, files in pairs.items():
        for gender in "FM":
            if gender not in files:
                present = next(iter(files.values()))
                raise CorpusError(
                    f"Session{session:02d}_{gender}_res.csv is missing",
                    present.parent / f"Session{session:02d}_{gender}_res.csv",
                    expected="both the _F_res and the _M_res file of every session",
                )
    return pairs


def _speaker_rows(path: Path, session: int, gender: str):
    """(rows of this file's own actor, as segment columns; ids of the other actor's rows)."""
    table = read_annotation(path, COLUMNS)
    parts = split_segment_ids(table, SEGMENT_ID, path, "Sess01_script01_F001")
    wrong_session = parts["session"].astype(int) != session
    if wrong_session.any():
        row = wrong_session.idxmax()
        raise CorpusError(
            f"segment id {table.at[row, 'segment_id']} belongs to another session",
            path,
            int(table.at[row, "line"]),
            expected=f"segment ids of session {session} (Sess{session:02d}_...)",
        )
    mine = parts["gender"] == gender
    rows = table[mine].copy()
    rows.insert(0, "session", session)
    rows.insert(1, "dialogue_id", parts.loc[mine, "dialogue"])
    rows["source_segment_id"] = rows["segment_id"]
    rows["speaker"] = f"Sess{session:02d}_{gender}"
    rows["gender"] = gender
    rows["annotation_file"] = str(path)
    rows["wav_path"] = "wav/Session" + f"{session:02d}/" + rows["dialogue_id"] + "/" + rows["segment_id"] + ".wav"
    rows["wav_path_alt"] = ""
    return rows, table.loc[~mine, "segment_id"].tolist()


LAYOUT = CorpusLayout(
    name=NAME,
    annotation_file=ANNOTATION_FILE,
    read_segments=read_segments,
    signals=SIGNALS,
    signal_owner=signal_owner,
    owner_column="gender",
)
