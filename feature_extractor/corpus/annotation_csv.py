"""Read one KEMDy annotation CSV (two header rows) by column POSITION.

Both corpora write a first header row of group names (`Numb, Wav, , ECG, ...`) and a second of
sub-names (`start, end, Emotion, Valence, Arousal, ...`). The names differ between releases and
rater sets, the positions do not, so columns are taken by position after checking that every
row has exactly the expected number of fields."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feature_extractor.corpus.errors import CorpusError

HEADER_ROWS = 2


@dataclass(frozen=True)
class AnnotationLayout:
    """0-based column positions of one corpus' annotation CSV."""

    n_columns: int
    start: int
    end: int
    segment_id: int
    total_emotion: int  # valence at +1, arousal at +2
    first_rater: int  # rater k's emotion at first_rater + 3 * k
    n_raters: int = 10

    def rater_column(self, k: int) -> int:
        return self.first_rater + 3 * k


RATER_COLUMNS = tuple(f"rater_{k:02d}" for k in range(1, 11))


def read_text_file(path: Path) -> str:
    """Decode a corpus text file: UTF-8 (BOM allowed) first, cp949 as the fallback."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp949")


def read_annotation(path: Path, layout: AnnotationLayout) -> pd.DataFrame:
    """One row per data line: `line` (1-based line number in the file), `segment_id`, `start`,
    `end` (floats), `emotion_raw`, `valence`, `arousal` (floats, NaN when blank) and
    `rater_01..rater_10` (raw emotion words, "" when blank). Raises CorpusError on a wrong
    column count, an unparsable time or number, a missing segment id. A segment id on several
    rows is the corpus reader's to settle (repeated_ids.py)."""
    path = Path(path)
    try:
        text = read_text_file(path)
    except UnicodeDecodeError as exc:
        raise CorpusError(f"cannot decode ({exc.reason})", path, expected="UTF-8 or cp949 text") from exc
    lines, rows = _rows_with_line_numbers(path, text, layout.n_columns)
    table = pd.DataFrame(
        {
            "line": np.asarray(lines, dtype=np.int64),
            "segment_id": _column(rows, layout.segment_id),
            "start": _column(rows, layout.start),
            "end": _column(rows, layout.end),
            "emotion_raw": _column(rows, layout.total_emotion),
            "valence": _column(rows, layout.total_emotion + 1),
            "arousal": _column(rows, layout.total_emotion + 2),
        }
    )
    for k, name in enumerate(RATER_COLUMNS[: layout.n_raters]):
        table[name] = _column(rows, layout.rater_column(k))
    _require_segment_ids(path, table)
    for name, position in (("start", layout.start), ("end", layout.end)):
        table[name] = _numbers(path, table, name, position, required=True)
    for name, position in (("valence", layout.total_emotion + 1), ("arousal", layout.total_emotion + 2)):
        table[name] = _numbers(path, table, name, position, required=False)
    _require_ordered_times(path, table)
    return table


def _rows_with_line_numbers(path: Path, text: str, n_columns: int):
    """All rows after the two header rows, fields stripped; fully blank rows are dropped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    lines, rows, headers_seen = [], [], 0
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue
        fields = _without_blank_trailing_cells(fields, n_columns)
        if len(fields) != n_columns:
            raise CorpusError(
                f"{len(fields)} columns", path, line, expected=f"{n_columns} columns in every row"
            )
        if headers_seen < HEADER_ROWS:
            headers_seen += 1
            continue
        lines.append(line)
        rows.append([field.strip() for field in fields])
    if headers_seen < HEADER_ROWS:
        raise CorpusError("file ends inside the header", path, expected=f"{HEADER_ROWS} header rows")
    return lines, rows


def _without_blank_trailing_cells(fields: list, n_columns: int) -> list:
    """Spreadsheet exports often append empty cells after the last column; those are harmless."""
    if len(fields) > n_columns and not any(field.strip() for field in fields[n_columns:]):
        return fields[:n_columns]
    return fields


def _column(rows, position: int) -> list:
    return [row[position] for row in rows]


def _require_segment_ids(path: Path, table: pd.DataFrame) -> None:
    blank = table["segment_id"] == ""
    if blank.any():
        line = int(table.loc[blank, "line"].iloc[0])
        raise CorpusError("empty Segment ID", path, line, expected="a segment id")


def _numbers(path: Path, table: pd.DataFrame, name: str, position: int, required: bool) -> pd.Series:
    raw = table[name]
    values = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    bad = values.isna() & ((raw != "") | required)
    if bad.any():
        row = bad.idxmax()
        raise CorpusError(
            f"column {position + 1} ({name}) holds {raw[row]!r}",
            path,
            int(table.at[row, "line"]),
            expected="a number" + ("" if required else " or an empty cell"),
        )
    return values


def _require_ordered_times(path: Path, table: pd.DataFrame) -> None:
    backwards = table["end"] < table["start"]
    if backwards.any():
        row = backwards.idxmax()
        raise CorpusError(
            f"segment {table.at[row, 'segment_id']} ends ({table.at[row, 'end']}) before it starts "
            f"({table.at[row, 'start']})",
            path,
            int(table.at[row, "line"]),
            expected="Wav end >= Wav start",
        )
