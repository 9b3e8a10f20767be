"""KEMDy19 layout: two annotation files per session, nested wav folders, Refit ECG + E4 EDA/TEMP.

Speaker rule: `SessionNN_F_res.csv` and `SessionNN_M_res.csv` each list every segment of the
session, rated from that file's actor's side. A segment takes its labels only from its own
speaker's file (`..._F007` from `_F_res`, `..._M007` from `_M_res`); the other actor's rows in
each file are listener ratings and are not used. A segment that only the listener's file lists
is skipped with reason "missing speaker annotation".

A segment id written on several rows of one file is settled with the help of the other actor's
file before the rows are split by speaker (repeated_ids.py): a repaired row then counts for the
actor its repaired id names. A segment whose own-file rows are all dropped is skipped with reason
"duplicate segment id"; a dropped listener row loses nothing."""

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
from feature_extractor.corpus.repeated_ids import OtherFile, ids_lost, settle_repeated_ids
from feature_extractor.corpus.signal_files import SignalSource

NAME = "KEMDy19"
ANNOTATION_FILE = re.compile(r"^Session(\d+)_([FM])_res\.csv$")
SEGMENT_ID = re.compile(r"^(?P<dialogue>Sess(?P<session>\d+)_[A-Za-z]+\d+)_(?P<gender>[FM])(?P<number>\d+)$")
EXAMPLE_ID = "Sess01_script01_F001"
COLUMNS = AnnotationLayout(n_columns=43, start=1, end=2, segment_id=9, total_emotion=10, first_rater=13)
SIGNALS = (
    SignalSource("ecg", "ECG", "Original", "tagged"),
    SignalSource("eda", "EDA", "Original", "tagged"),
    SignalSource("temp", "TEMP", "Original", "tagged"),
)
OWNER_TOKEN = re.compile(r"(?:^|[^A-Za-z])([FM])(?=$|[^A-Za-z0-9])")


def read_segments(root: Path) -> AnnotatedSegments:
    frames, skipped, repeated = [], [], []
    for session, files in sorted(_files_by_session(root).items()):
        session_frames, session_skipped, settled = _session_segments(session, files)
        frames += session_frames
        skipped += session_skipped
        repeated += [entry.note(root) for entry in settled]
    notes = {"repeated_segment_ids": repeated} if repeated else {}
    return AnnotatedSegments(frame=pd.concat(frames, ignore_index=True), skipped=skipped, notes=notes)


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


def _session_segments(session: int, files: dict[str, Path]):
    """(each actor's own rows, skipped segments, repeated-id settlements) of one session. Repeated
    ids are settled before the split by speaker: a repaired row counts for the actor its id names."""
    tables = {gender: read_checked_annotation(path, COLUMNS, SEGMENT_ID, EXAMPLE_ID) for gender, path in files.items()}
    own, lost, skipped, all_settled = {}, {}, [], []
    for gender, path in files.items():
        other = _other_actor(gender)
        table, settled = settle_repeated_ids(tables[gender], path, OtherFile(files[other], tables[other], _dialogue_of))
        all_settled += settled
        own[gender] = _speaker_rows(table, path, session, gender)
        lost[gender] = {segment for segment in ids_lost(settled, table) if _id_part(segment, "gender") == gender}
        skipped += [{"segment_id": s, "file": path, "reason": "duplicate segment id"} for s in sorted(lost[gender])]
    for gender, (rows, _) in own.items():
        listed_by_listener = set(own[_other_actor(gender)][1])
        unrated = sorted(listed_by_listener - set(rows["segment_id"]) - lost[gender])
        skipped += [{"segment_id": s, "file": files[gender], "reason": "missing speaker annotation"} for s in unrated]
    return [rows for rows, _ in own.values()], skipped, all_settled


def _other_actor(gender: str) -> str:
    return "M" if gender == "F" else "F"


def _id_part(segment_id: str, part: str) -> str | None:
    match = SEGMENT_ID.match(segment_id)
    return match.group(part) if match else None


def _dialogue_of(segment_id: str) -> str | None:
    return _id_part(segment_id, "dialogue")


def _speaker_rows(table: pd.DataFrame, path: Path, session: int, gender: str):
    """(rows of this file's own actor, as segment columns; ids of the other actor's rows)."""
    parts = split_segment_ids(table, SEGMENT_ID, path, EXAMPLE_ID)
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
