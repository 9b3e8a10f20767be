"""Any conversation corpus as a table (CSV / TSV / JSONL, one row per utterance) -> the utterance index.

    spec = TableSpec(dialogue="dialogue_id", order="turn", speaker="speaker", text="text",
                     label="emotion", split="split")
    result = read_utterance_table("iemocap6_text.csv", spec)     # an IndexResult (index_builder.py)

The user names the columns (`TableSpec`); presets (presets/) are a TableSpec plus a row-fixing
step over `read_rows` + `index_from_rows`. Rules (docs/corpus.md, "Utterance tables"):
- rows are ordered by (dialogue, order); order values are numbers, need not be contiguous, and
  two rows of one dialogue with the same value are an error;
- every row problem is one CorpusError naming the file, the line, the column and what was
  expected. A missing audio file is not an error: the row is skipped (reason missing_wav), unless
  every row would be;
- without a split column (DEFAULT_SPLIT_RULE): dialogue ids sorted, the last 10 % are test, the
  10 % before them dev, the rest train."""

import ast
import csv
import difflib
import io
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from erc_core.labels import resolve_label_names
from feature_extractor.corpus.errors import CorpusError, display_path
from feature_extractor.corpus.index_builder import IndexResult
from feature_extractor.corpus.schema import SKIPPED_COLUMNS, complete_index_frame, soft_columns

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS = {"csv": ",", "tsv": "\t"}
SPLIT_ALIASES = {"train": "train", "dev": "dev", "val": "dev", "valid": "dev", "validation": "dev", "test": "test"}
UNLABELLED = -1
DEFAULT_SPLIT_RULE = "dialogue ids sorted; the last 10% (rounded, at least 1 of 3 or more) test, the 10% before dev"
SPEAKER_JOIN = " & "
SOFT_SUM_TOLERANCE = 1e-3
# Typographic characters and the cp1252 bytes that stand for them when a file was decoded as latin-1.
TYPOGRAPHIC = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-", "\u2026": "...",
    "\u0092": "'", "\u0091": "'", "\u0093": '"', "\u0094": '"', "\u0097": "-", "\u0096": "-", "\u0085": "...",
    "\u00a0": " ",
})
WHITESPACE = re.compile(r"\s+")


@dataclass
class TableSpec:
    """Which column of the table holds what. Required: dialogue, order, speaker, text, label."""

    dialogue: str = "dialogue_id"
    order: str = "turn"  # turn number or start time (seconds); gaps allowed, ties are errors
    speaker: str = "speaker"
    gender: str | None = None
    text: str = "text"
    label: str | None = "emotion"  # None: unlabelled rows (prediction input; needs `labels`)
    split: str | None = None  # None: DEFAULT_SPLIT_RULE
    audio: str | None = None  # audio file, relative to the audio root
    clip_start: str | None = None  # seconds inside the audio file (empty: from its start)
    clip_end: str | None = None  # (empty: to its end)
    start: str | None = None  # seconds in the dialogue recording
    end: str | None = None
    soft: str | list | None = None  # a column prefix (`soft_`) or the columns in class order
    valence: str | None = None
    arousal: str | None = None
    session: str | None = None  # an integer column; None: session 0
    segment_id: str | None = None  # None: `<dialogue>_<order as written>`
    labels: list | None = None  # class order; None: the observed labels, sorted
    label_map: dict = field(default_factory=dict)  # raw label -> label (e.g. exc -> hap)
    drop_labels: list = field(default_factory=list)  # rows skipped with reason label_not_in_set
    speaker_list: bool = False  # speaker cells are list literals (`['Ross', 'Joey']`)

    def columns(self) -> dict[str, str]:
        """Every column of the table this spec reads -> the spec key naming it."""
        named = {getattr(self, key): key for key in reversed(COLUMN_KEYS)
                 if key != "soft" and isinstance(getattr(self, key), str)}  # a soft prefix is no column
        soft = {column: "soft" for column in self.soft} if isinstance(self.soft, list) else {}
        return named | soft

    @classmethod
    def from_mapping(cls, values: dict, source: str = "table spec") -> "TableSpec":
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise CorpusError(f"unknown key {key!r}{hint}", source, expected="one of " + ", ".join(known))
        values = dict(values)
        for key in ("labels", "drop_labels"):
            if isinstance(values.get(key), str):
                values[key] = [name.strip() for name in values[key].split(",") if name.strip()]
            elif values.get(key) is not None:
                values[key] = [str(name) for name in values[key]]
        if values.get("label_map") is not None:  # YAML reads some names as bools or numbers
            values["label_map"] = {str(raw): str(label) for raw, label in dict(values["label_map"]).items()}
        return cls(**values)


COLUMN_KEYS = ("dialogue", "order", "speaker", "gender", "text", "label", "split", "audio", "clip_start", "clip_end",
               "start", "end", "soft", "valence", "arousal", "session", "segment_id")


def read_utterance_table(path, spec: TableSpec, dataset: str | None = None, audio_root=None,
                         fmt: str | None = None, label_optional: bool = False) -> IndexResult:
    """The index of one table file. `audio_root`: the folder audio paths are relative to (default:
    the table's folder); `fmt`: csv / tsv / jsonl (default: from the extension); `label_optional`:
    a file without the spec's label column reads as unlabelled (kemdy-predict's new conversations)."""
    path = Path(path).resolve()
    rows = read_rows(path, fmt)
    if label_optional and spec.label not in rows.columns:
        spec = replace(spec, label=None)
    require_columns(rows.columns.drop(["_file", "_line"]), spec.columns(), path)
    root = Path(audio_root).resolve() if audio_root is not None else path.parent
    return index_from_rows(rows, spec, dataset or path.stem, root, options={"table": str(path)})


# --- reading ------------------------------------------------------------------------------------

def read_rows(path, fmt: str | None = None, required=()) -> pd.DataFrame:
    """The table's cells as written (object dtype) plus `_file` and `_line` (1-based line of the row).
    `required`: columns that must be there (a mapping column -> what it is for names the purpose)."""
    path = Path(path)
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "tsv", "jsonl"):
        raise CorpusError(f"unknown table format {fmt or path.suffix!r}", path, expected="csv, tsv or jsonl")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(f"not UTF-8 ({error.reason} at byte {error.start})", path, expected="a UTF-8 file") from None
    header, records, lines = _jsonl_records(text, path) if fmt == "jsonl" else _delimited_records(text, path, fmt)
    require_columns(header, required, path)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame["_file"] = str(path)
    frame["_line"] = lines
    return frame


def require_columns(header, required, path) -> None:
    """One error naming every `required` column (a mapping column -> what it is for names the
    purpose) that `header` lacks."""
    purpose = required if isinstance(required, dict) else {}
    missing = [column for column in dict.fromkeys(required) if column not in header]
    if missing:
        named = ", ".join(f"{c!r}" + (f" ({purpose[c]})" if c in purpose else "") for c in missing)
        raise CorpusError(f"missing column(s) {named}; the file has {', '.join(map(repr, header))}", path, 1,
                          expected="the columns the table spec names")


def _delimited_records(text: str, path: Path, fmt: str):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[fmt])
    header, records, lines = None, [], []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise CorpusError(f"malformed {fmt.upper()} ({error})", path, line,
                              expected="properly quoted fields") from None
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = _header(row, path)
        elif len(row) != len(header):
            raise CorpusError(f"{len(row)} fields", path, line, expected=f"{len(header)} fields, as in the header")
        else:
            records.append(row)
            lines.append(line)
    if header is None:
        raise CorpusError("the file is empty", path, expected="a header line and one row per utterance")
    return header, records, lines


def _header(row: list, path: Path) -> list:
    header = [cell.strip() for cell in row]
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        raise CorpusError(f"column name(s) {doubled} appear twice in the header", path, 1, expected="distinct names")
    return header


def _jsonl_records(text: str, path: Path):
    header, objects, lines = {}, [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"not JSON ({error.msg})", path, number, expected="one JSON object per line") from None
        if not isinstance(item, dict):
            raise CorpusError(f"a JSON {type(item).__name__}", path, number, expected="one JSON object per line")
        header.update(dict.fromkeys(item))
        objects.append(item)
        lines.append(number)
    header = list(header)
    records = [[_json_cell(item.get(column)) for column in header] for item in objects]
    return header, records, lines


def _json_cell(value):
    if value is None:
        return ""
    return value if isinstance(value, (str, list)) else json.dumps(value) if isinstance(value, dict) else str(value)


# --- checking and building ----------------------------------------------------------------------

def index_from_rows(rows: pd.DataFrame, spec: TableSpec, dataset: str, corpus_root, options: dict | None = None,
                    notes: dict | None = None, skipped: list | None = None) -> IndexResult:
    """The index of `rows` (from read_rows, possibly fixed by a preset). `skipped`: rows a preset
    already left out ({segment_id, file, reason}); rows skipped here are added."""
    corpus_root = Path(corpus_root)
    skipped = list(skipped or [])
    frame = _base_columns(rows, spec)
    frame = _labelled(rows, frame, spec, skipped)
    label_names = resolve_label_names(spec.labels, frame.loc[frame["emotion"] != "", "emotion"].unique(), _sources(rows))
    frame["label"] = frame["emotion"].map({name: i for i, name in enumerate(label_names)}).fillna(UNLABELLED)
    frame = _with_optional(rows.loc[frame.index], frame, spec, label_names)
    frame, split_rule = _with_split(rows.loc[frame.index], frame, spec)
    frame = _with_audio(rows.loc[frame.index], frame, spec, corpus_root, skipped)
    frame = frame.sort_values(["session", "dialogue_id", "_order"], kind="stable")
    frame["turn"] = frame.groupby("dialogue_id", sort=False).cumcount()
    frame["dataset"] = dataset
    label_source = "the table spec's labels" if spec.labels is not None else "the labels found, sorted"
    resolved = {"spec": asdict(spec), "split_rule": split_rule, "label_source": label_source, **(options or {})}
    return IndexResult(
        frame=complete_index_frame(frame.drop(columns=["_order"]), label_names),
        skipped=pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS)).astype(str),
        dataset=dataset,
        corpus_root=corpus_root,
        label_names=label_names,
        options=resolved,
        notes=dict(notes or {}),
    )


def row_error(rows: pd.DataFrame, at, column: str, problem: str, expected: str) -> CorpusError:
    """The error for row label `at` of `rows`: file, line, column, what is there and what was expected."""
    return CorpusError(f"column {column!r}: {problem}", rows.at[at, "_file"], int(rows.at[at, "_line"]), expected)


def _sources(rows: pd.DataFrame) -> str:
    return ", ".join(dict.fromkeys(rows["_file"]))


def _cells(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows[column].map(lambda cell: cell if isinstance(cell, list) else str(cell).strip())


def _first(mask: pd.Series):
    return mask.index[np.argmax(mask.to_numpy())] if mask.any() else None


def _require_filled(rows: pd.DataFrame, column: str, what: str) -> pd.Series:
    cells = _cells(rows, column)
    at = _first(cells.map(lambda cell: len(cell) == 0))
    if at is not None:
        raise row_error(rows, at, column, "the cell is empty", what)
    return cells


def _numbers(rows: pd.DataFrame, column: str, required: bool) -> pd.Series:
    cells = rows[column].map(lambda cell: str(cell).strip())
    blank = cells == ""
    values = pd.to_numeric(cells.where(~blank), errors="coerce").astype(float)
    bad = (values.isna() & (~blank | required)) | np.isinf(values)
    at = _first(bad)
    if at is not None:
        expected = "a number" if required else "a number or empty"
        raise row_error(rows, at, column, f"holds {rows.at[at, column]!r}", expected)
    return values


def _base_columns(rows: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame(index=rows.index)
    frame["dialogue_id"] = _require_filled(rows, spec.dialogue, "a dialogue id")
    frame["_order"] = _numbers(rows, spec.order, required=True)
    _no_ties(rows, frame, spec.order)
    written_order = _cells(rows, spec.order)
    generated = frame["dialogue_id"] + "_" + written_order
    frame["segment_id"] = _require_filled(rows, spec.segment_id, "a segment id") if spec.segment_id else generated
    _unique_ids(rows, frame, spec.segment_id or f"{spec.dialogue}, {spec.order}")
    frame["speaker"] = _speakers(rows, spec)
    # With audio, an empty transcript is an empty text input (as in KEMDy trees): the audio still
    # carries the emotion and the conversation keeps its turn. Without audio there is nothing to read.
    frame["text_raw"] = _cells(rows, spec.text) if spec.audio else _require_filled(rows, spec.text, "the utterance's text")
    frame["text"] = frame["text_raw"].map(clean_text)
    return frame


def _no_ties(rows: pd.DataFrame, frame: pd.DataFrame, column: str) -> None:
    tied = frame.duplicated(["dialogue_id", "_order"], keep=False)
    if tied.any():
        at = _first(tied)
        same = frame.index[tied & (frame["dialogue_id"] == frame.at[at, "dialogue_id"])
                           & (frame["_order"] == frame.at[at, "_order"])]
        lines = ", ".join(str(rows.at[i, "_line"]) for i in same)
        raise row_error(rows, same[-1], column, f"dialogue {frame.at[at, 'dialogue_id']!r} has {len(same)} rows "
                        f"with order {rows.at[at, column]!r} (lines {lines})",
                        "distinct order values within a dialogue")


def _unique_ids(rows: pd.DataFrame, frame: pd.DataFrame, column: str) -> None:
    doubled = frame["segment_id"].duplicated(keep=False)
    if doubled.any():
        at = _first(doubled)
        same = frame.index[frame["segment_id"] == frame.at[at, "segment_id"]]
        lines = ", ".join(f"{display_path(rows.at[i, '_file'])} line {rows.at[i, '_line']}" for i in same)
        raise row_error(rows, same[-1], column, f"segment id {frame.at[at, 'segment_id']!r} appears "
                        f"{len(same)} times ({lines})", "a segment id unique over the whole table")


def _speakers(rows: pd.DataFrame, spec: TableSpec) -> pd.Series:
    cells = _require_filled(rows, spec.speaker, "a speaker")
    if not spec.speaker_list:
        return cells.map(str)
    names = cells.map(parse_speaker_list)
    at = _first(names.isna())
    if at is not None:
        raise row_error(rows, at, spec.speaker, f"holds {rows.at[at, spec.speaker]!r}",
                        "a list literal of names such as ['Ross Geller']")
    return names


def parse_speaker_list(cell) -> str | None:
    """`['Ross Geller', 'Joey Tribbiani']` -> `Ross Geller & Joey Tribbiani`; None when the cell is
    not a non-empty list of non-blank strings. Parsed by ast.literal_eval, which evaluates no code."""
    if isinstance(cell, list):
        names = cell
    else:
        text = str(cell).strip()
        if not text.startswith("["):
            return None
        try:
            names = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        return None
    return SPEAKER_JOIN.join(name.strip() for name in names)


def clean_text(text: str) -> str:
    """NFC, typographic quotes / dashes / ellipses as ASCII, white space runs as one space."""
    text = unicodedata.normalize("NFC", str(text)).translate(TYPOGRAPHIC)
    return WHITESPACE.sub(" ", text).strip()


def _labelled(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, skipped: list) -> pd.DataFrame:
    """`emotion_raw` and `emotion` (label_map applied); drop_labels rows go to `skipped`.
    Without a label column every row is unlabelled (emotion "", label -1 later)."""
    if spec.label is None:
        if spec.labels is None:
            raise CorpusError("no label column and no class order", _sources(rows),
                              expected="a label column, or the labels of the model that will read it")
        frame["emotion_raw"] = frame["emotion"] = ""
        return frame
    frame["emotion_raw"] = _require_filled(rows, spec.label, "a label").map(str)
    frame["emotion"] = frame["emotion_raw"].map(lambda raw: str(spec.label_map.get(raw, raw)))
    dropped = frame["emotion_raw"].isin(spec.drop_labels) | frame["emotion"].isin(spec.drop_labels)
    skipped += [{"segment_id": s, "file": display_path(f), "reason": "label_not_in_set"}
                for s, f in zip(frame.loc[dropped, "segment_id"], rows.loc[dropped, "_file"])]
    frame = frame[~dropped]
    if frame.empty:
        raise CorpusError(f"every one of the {len(rows)} rows has a dropped label {list(spec.drop_labels)}",
                          _sources(rows), expected="rows with a label of the set")
    if spec.labels is not None:
        at = _first(~frame["emotion"].isin([str(name) for name in spec.labels]))
        if at is not None:
            raise row_error(rows, at, spec.label, f"unknown label {rows.at[at, spec.label]!r}",
                            "one of " + ", ".join(map(str, spec.labels)))
    return frame


def _with_optional(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, label_names) -> pd.DataFrame:
    for key in ("clip_start", "clip_end", "start", "end", "valence", "arousal"):
        if getattr(spec, key):
            frame[key] = _numbers(rows, getattr(spec, key), required=False)
    if spec.gender:
        frame["gender"] = _cells(rows, spec.gender).map(str)
    _check_clips(rows, frame, spec)
    frame["session"] = integers(rows, spec.session) if spec.session else 0
    if spec.soft is not None:
        frame = frame.join(_soft_labels(rows, frame, spec, label_names))
    return frame


def _check_clips(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec) -> None:
    if spec.clip_start:
        at = _first(frame["clip_start"] < 0)
        if at is not None:
            raise row_error(rows, at, spec.clip_start, f"holds {rows.at[at, spec.clip_start]!r}", "seconds >= 0")
    if spec.clip_start and spec.clip_end:
        at = _first(frame["clip_end"] <= frame["clip_start"])
        if at is not None:
            raise row_error(rows, at, spec.clip_end, f"clip ends at {frame.at[at, 'clip_end']} s, not after its start "
                            f"{frame.at[at, 'clip_start']} s", f"a clip end later than column {spec.clip_start!r}")


def integers(rows: pd.DataFrame, column: str) -> pd.Series:
    """The column as int64; a blank or non-integer cell is a row error."""
    values = _numbers(rows, column, required=True)
    at = _first(values != values.round())
    if at is not None:
        raise row_error(rows, at, column, f"holds {rows.at[at, column]!r}", "an integer")
    return values.astype(np.int64)


def _soft_labels(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, label_names) -> pd.DataFrame:
    """soft_<label> columns in the class order; every row non-negative and summing to 1."""
    if isinstance(spec.soft, list):
        if len(spec.soft) != len(label_names):
            raise CorpusError(f"{len(spec.soft)} soft-label columns for {len(label_names)} classes", _sources(rows),
                              expected="one soft-label column per class, in the class order")
        named = dict(zip(spec.soft, label_names))
    else:
        named = {c: c[len(spec.soft):] for c in rows.columns if isinstance(c, str) and c.startswith(spec.soft)}
        named = {c: str(spec.label_map.get(name, name)) for c, name in named.items()}
    unknown = sorted(set(named.values()) - set(label_names))
    if not named or unknown:
        raise CorpusError(f"soft-label columns {sorted(named)} (prefix {spec.soft!r}) name {unknown or 'no class'}",
                          _sources(rows), 1, expected="columns <prefix><class> for classes " + ", ".join(label_names))
    values = pd.DataFrame({c: _numbers(rows, c, required=True) for c in named}, index=frame.index)
    soft = values.T.groupby(pd.Series(named)).sum().T.reindex(columns=list(label_names), fill_value=0.0)
    bad = (soft < 0).any(axis=1) | ((soft.sum(axis=1) - 1).abs() > SOFT_SUM_TOLERANCE)
    at = _first(bad)
    if at is not None:
        raise row_error(rows, at, ", ".join(named), f"soft labels sum to {soft.loc[at].sum():.4g}",
                        "non-negative values summing to 1")
    soft.columns = list(soft_columns(label_names))
    return soft


def _with_split(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec):
    if spec.split is None:
        frame["split"] = frame["dialogue_id"].map(default_split(frame["dialogue_id"]))
        return frame, DEFAULT_SPLIT_RULE
    cells = _cells(rows, spec.split).map(lambda cell: SPLIT_ALIASES.get(str(cell).lower(), ""))
    at = _first(cells == "")
    if at is not None:
        raise row_error(rows, at, spec.split, f"holds {rows.at[at, spec.split]!r}", "train, dev or test")
    first = cells.groupby(frame["dialogue_id"]).transform("first")
    at = _first(cells != first)
    if at is not None:
        raise row_error(rows, at, spec.split, f"dialogue {frame.at[at, 'dialogue_id']!r} is {cells[at]!r} here "
                        f"and {first[at]!r} on an earlier row", "one split per dialogue")
    frame["split"] = cells
    return frame, f"column {spec.split!r}"


def default_split(dialogue_ids) -> dict:
    """dialogue id -> split under DEFAULT_SPLIT_RULE."""
    ordered = sorted(set(dialogue_ids))
    held_out = max(1, round(len(ordered) / 10)) if len(ordered) >= 3 else 0
    splits = ["train"] * (len(ordered) - 2 * held_out) + ["dev"] * held_out + ["test"] * held_out
    return dict(zip(ordered, splits))


def _with_audio(rows: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, root: Path, skipped: list) -> pd.DataFrame:
    if spec.audio is None:
        frame["wav_path"] = ""
        return frame
    files = _require_filled(rows, spec.audio, "an audio file path").map(lambda cell: display_path(root / cell, root))
    found = files.map(lambda p: (root / p).is_file())
    skipped += [{"segment_id": s, "file": p, "reason": "missing_wav"}
                for s, p in zip(frame.loc[~found, "segment_id"], files[~found])]
    if not found.any():
        raise CorpusError(f"none of the {len(frame)} audio files named in column {spec.audio!r} exists under {root}",
                          _sources(rows), expected="audio paths relative to the audio root (--audio-root)")
    frame["wav_path"] = files
    return frame[found]
