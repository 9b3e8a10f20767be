"""A new conversation given as a folder of wav (+ txt) files with a `conversation.csv` manifest.

    FOLDER/conversation.csv          order,speaker,wav[,text][,segment_id][,emotion]
    FOLDER/hello.wav  hello.txt      (paths in `wav` are relative to FOLDER)

`order` (integers, each once) sets the chronological order, whatever the file names; `speaker`
is any non-empty name; `segment_id` defaults to the wav's stem. The transcript is the `text`
cell when the column exists and the cell is not blank, else the `.txt` beside the wav (UTF-8,
then cp949), cleaned by the corpus cleaner (feature_extractor/corpus/transcripts.py) either way.
The manifest itself is read as UTF-8 (a BOM is allowed), then cp949 (what Excel writes on a
Korean Windows). Every error names the manifest line and what was expected. An optional
`emotion` column holds gold labels (class names of the model; a blank cell = not labelled), which
turns the prediction into an evaluation.

`conversation_table` turns the folder into the utterance table stage 2 reads: index columns
(docs/contracts.md) with split `predict`, `label` -1 where no gold label is given, and no
physiological signals (summaries NaN, `has_*` False: the "not covered" encoding of `p`).
`utterance_table` builds the same table from rows given in Python (recognizer.py)."""

import csv
import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd

from feature_extractor.corpus.transcripts import UndecodableTranscript, clean_transcript, read_transcript
from feature_extractor.inputs.physio_vector import MASK_COLUMNS, SUMMARY_COLUMNS

MANIFEST_NAME = "conversation.csv"
REQUIRED_COLUMNS = ("order", "speaker", "wav")
GOLD_COLUMN = "emotion"
OPTIONAL_COLUMNS = ("text", "segment_id", GOLD_COLUMN)
UNLABELLED = -1
PREDICT_SPLIT = "predict"


class ManifestError(ValueError):
    """A manifest line that cannot be used, named with what was expected."""

    def __init__(self, manifest: Path, line: int, problem: str, expected: str):
        super().__init__(f"{manifest} line {line}: {problem}; expected {expected}")
        self.manifest, self.line = manifest, line


@dataclasses.dataclass
class ManifestRow:
    line: int          # line of the manifest file the row starts on (the header is line 1)
    order: int
    speaker: str
    wav: str           # as written in the manifest
    wav_file: Path     # resolved against the folder
    segment_id: str
    text_raw: str      # "" only when the model reads no text
    emotion: str = ""  # gold label, "" = not labelled


def read_manifest(folder, need_text: bool = True, label_names=None) -> list[ManifestRow]:
    """The manifest rows sorted by `order`. `need_text=False` (audio-only models) lets a row have
    no transcript at all. Gold labels must be among `label_names` when it is given."""
    folder = Path(folder)
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no manifest; expected a {MANIFEST_NAME} with columns "
                                f"{', '.join(REQUIRED_COLUMNS)} (optional {', '.join(OPTIONAL_COLUMNS)}); see docs/predict.md")
    header, records = _csv_records(manifest)
    _check_header(header, manifest)
    rows = [_parse_row(dict(zip(header, cells)), line, folder, manifest, need_text) for line, cells in records]
    if label_names is not None:
        _check_gold(rows, label_names, manifest)
    if not rows:
        raise ManifestError(manifest, 1, "no utterance rows", "one row per utterance under the header")
    _check_unique(rows, "order", manifest, "each order value once")
    _check_unique(rows, "segment_id", manifest, "each segment_id once (it defaults to the wav's name without extension)")
    return sorted(rows, key=lambda row: row.order)


def conversation_table(folder, need_text: bool = True, label_names=None) -> pd.DataFrame:
    """The folder as an utterance table in conversation order (`turn` 0..n-1), dialogue id =
    the folder's name. With `label_names`, gold labels are checked and get their class ids."""
    folder = Path(folder).resolve()
    return utterance_table(folder.name, read_manifest(folder, need_text, label_names), label_names)


def utterance_table(dialogue_id: str, rows: list[ManifestRow], label_names=None) -> pd.DataFrame:
    """Rows already in conversation order as the utterance table stage 2 reads."""
    position = {name: i for i, name in enumerate(label_names or ())}
    table = pd.DataFrame({
        "dialogue_id": dialogue_id,
        "segment_id": [row.segment_id for row in rows],
        "speaker": [row.speaker for row in rows],
        "turn": np.arange(len(rows), dtype=np.int64),
        "order": [row.order for row in rows],
        "wav_path": [row.wav for row in rows],
        "wav_file": [str(row.wav_file) for row in rows],
        "text_raw": [row.text_raw for row in rows],
        "text": [clean_transcript(row.text_raw) for row in rows],
        "emotion": [row.emotion for row in rows],
        "label": np.array([position.get(row.emotion, UNLABELLED) for row in rows], dtype=np.int64),
        "valence": np.nan,
        "arousal": np.nan,
        "split": PREDICT_SPLIT,
    })
    for column in SUMMARY_COLUMNS:
        table[column] = np.nan
    for column in MASK_COLUMNS:
        table[column] = False
    return table


# -- reading the file ---------------------------------------------------------------------------------
def _csv_records(manifest: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line, cells)]) with blank lines left out; every row must have the header's width."""
    reader = csv.reader(io.StringIO(_decode(manifest), newline=""))
    header = [name.strip() for name in next(reader, [])]
    records, next_line = [], reader.line_num + 1
    for cells in reader:
        line, next_line = next_line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise ManifestError(manifest, line, f"{len(cells)} cells", f"{len(header)}, one per header column")
        records.append((line, cells))
    return header, records


def _decode(manifest: Path) -> str:
    data = manifest.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ManifestError(manifest, 1, "the file is neither UTF-8 nor cp949", "a UTF-8 CSV file")


def _check_header(header: list[str], manifest: Path) -> None:
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in allowed]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if missing or unknown or repeated:
        problems = [f"{label} column(s) {', '.join(names)}" for label, names in
                    (("missing", missing), ("unknown", unknown), ("repeated", repeated)) if names]
        raise ManifestError(manifest, 1, "; ".join(problems),
                            f"columns {', '.join(REQUIRED_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}")


# -- one row -------------------------------------------------------------------------------------------
def _parse_row(cells: dict, line: int, folder: Path, manifest: Path, need_text: bool) -> ManifestRow:
    order = _order(cells["order"], line, manifest)
    speaker = cells["speaker"].strip()
    if not speaker:
        raise ManifestError(manifest, line, "empty speaker", "a name for who says the utterance")
    wav = cells["wav"].strip()
    if not wav:
        raise ManifestError(manifest, line, "empty wav", "the utterance's wav file, relative to the folder")
    wav_file = folder / wav
    if not wav_file.is_file():
        raise ManifestError(manifest, line, f"wav {wav!r} not found (looked at {wav_file})",
                            "an existing wav file, relative to the folder")
    segment_id = cells.get("segment_id", "").strip() or Path(wav).stem
    text_raw = _transcript(cells.get("text", ""), wav_file, line, manifest, need_text)
    return ManifestRow(line, order, speaker, wav, wav_file, segment_id, text_raw, cells.get(GOLD_COLUMN, "").strip())


def _order(cell: str, line: int, manifest: Path) -> int:
    try:
        return int(cell.strip())
    except ValueError:
        raise ManifestError(manifest, line, f"order {cell!r} is not an integer",
                            "an integer giving the utterance's place in the conversation") from None


def _transcript(cell: str, wav_file: Path, line: int, manifest: Path, need_text: bool) -> str:
    """The raw transcript: the `text` cell if not blank, else the .txt beside the wav."""
    if cell.strip():
        return cell.strip()
    txt = wav_file.with_suffix(".txt")
    if not txt.is_file():
        if need_text:
            raise ManifestError(manifest, line, f"no text: the text cell is empty or absent and there is no "
                                f"{txt.name} beside the wav", "a `text` cell or a transcript file with the wav's name")
        return ""
    try:
        text = read_transcript(txt)
    except UndecodableTranscript:
        raise ManifestError(manifest, line, f"transcript {txt} is neither UTF-8 nor cp949",
                            "a UTF-8 or cp949 text file") from None
    if need_text and not text:
        raise ManifestError(manifest, line, f"transcript {txt} is empty", "the words of the utterance")
    return text


def _check_unique(rows: list[ManifestRow], field: str, manifest: Path, expected: str) -> None:
    first_line = {}
    for row in rows:
        value = getattr(row, field)
        if value in first_line:
            raise ManifestError(manifest, row.line, f"{field} {value!r} repeats line {first_line[value]}", expected)
        first_line[value] = row.line


def _check_gold(rows: list[ManifestRow], label_names, manifest: Path) -> None:
    for row in rows:
        if row.emotion and row.emotion not in label_names:
            raise ManifestError(manifest, row.line, f"column {GOLD_COLUMN}: {row.emotion!r} is not a class of the model",
                                f"one of {', '.join(label_names)}, or a blank cell for an unlabelled utterance")
