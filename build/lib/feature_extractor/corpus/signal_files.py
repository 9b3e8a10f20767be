"""Read one physiological signal file: the rows tagged with a known segment id, with a time.

Formats (where the segment id is the LAST field of a row inside an annotated segment; rows
outside carry fewer fields; any row may have 1 to 8 fields):
  e4     KEMDy20 EDA/TEMP: 2 header lines (start unix time, sampling rate), then
         `value[,timestamp,segment_id]`; time = row number after the header / the rate.
  ibi    KEMDy20 IBI: 1 header line, then `offset,ibi[,timestamp,segment_id]`; time = offset (s),
         value = the interval.
  tagged KEMDy19 ECG/EDA/TEMP `value,time,time,segment_id`: when the file starts with the two E4
         header lines it is read as e4; otherwise the rate is unknown and time is left NaN (the
         summaries then spread a segment's samples evenly over its duration)."""

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feature_extractor.corpus.errors import CorpusError

MAX_FIELDS = 8
UNIX_TIME_MIN = 1e8  # a first header line above this is an E4 start time (1973 onwards)


@dataclass(frozen=True)
class SignalSource:
    name: str  # index column prefix: ecg / eda / temp / ibi
    folder: str  # top folder in the corpus: ECG / EDA / TEMP / IBI
    subfolder: str  # below SessionNN: "Original" (KEMDy19) or ""
    file_format: str  # "e4", "ibi" or "tagged" (see the module docstring)

    def session_folder(self, root: Path, session: int) -> Path:
        folder = Path(root) / self.folder / f"Session{session:02d}"
        return folder / self.subfolder if self.subfolder else folder


def read_signal_file(path: Path, file_format: str, segment_ids) -> pd.DataFrame:
    """Rows of one signal file tagged with one of `segment_ids` (a sequence of ids as written):
    `segment` (position of the tag in `segment_ids`), `time` (seconds; NaN for a rate-less
    `tagged` file, filled per segment later) and `value`."""
    header_lines, rate, time_field, value_field = _file_shape(path, file_format)
    numeric = [value_field] if time_field is None else [value_field, time_field]
    fields = _read_fields(path, header_lines, numeric)
    code = _segment_code(fields, pd.Index(list(segment_ids)))
    tagged = np.flatnonzero(code >= 0)
    value = _as_float(fields[value_field].to_numpy()[tagged])
    if time_field is not None:
        time = _as_float(fields[time_field].to_numpy()[tagged])
    elif rate is not None:
        time = tagged / rate
    else:
        time = np.full(len(tagged), np.nan)
    rows = pd.DataFrame({"segment": code[tagged], "time": time, "value": value})
    return rows[np.isfinite(rows["value"]) & (rows["time"].isna() | np.isfinite(rows["time"]))]


def _segment_code(fields: pd.DataFrame, segment_ids: pd.Index) -> np.ndarray:
    """Per row, the position in `segment_ids` of the row's last field, or -1 when that field is
    not one of them (one hash look-up per row: a file can hold millions of rows)."""
    presence = {c: fields[c].notna().to_numpy() for c in fields.columns if fields[c].dtype == object}
    text_columns = [c for c, present in presence.items() if present.any()]
    if not text_columns:
        return np.full(len(fields), -1, dtype=np.int64)
    present = np.stack([presence[c] for c in text_columns], axis=1)
    last = len(text_columns) - 1 - np.argmax(present[:, ::-1], axis=1)
    last_field = fields[text_columns].to_numpy()[np.arange(len(fields)), last]
    code = segment_ids.get_indexer(last_field)
    code[~present.any(axis=1)] = -1
    return code


def _as_float(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return values
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=np.float64)


def _file_shape(path: Path, file_format: str):
    """(header lines to skip, sampling rate or None, time field or None, value field)."""
    if file_format == "ibi":
        return 1, None, 0, 1
    if file_format == "e4":
        return 2, _sampling_rate(path), None, 0
    if file_format == "tagged":
        head = _first_lines(path, 2)
        if len(head) == 2 and _single_number(head[0], minimum=UNIX_TIME_MIN) and _single_number(head[1]):
            return 2, _sampling_rate(path), None, 0
        return 0, None, None, 0
    raise ValueError(f"unknown signal file format {file_format!r}")


def _sampling_rate(path: Path) -> float:
    head = _first_lines(path, 2)
    rate = _single_number(head[1]) if len(head) == 2 else None
    if rate is None or rate <= 0:
        shown = head[1] if len(head) == 2 else "(missing)"
        raise CorpusError(f"header line 2 is {shown!r}", path, 2, expected="the sampling rate in Hz (E4 header)")
    return rate


def _first_lines(path: Path, count: int) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [line.strip() for _, line in zip(range(count), handle)]


def _single_number(line: str, minimum: float = -np.inf) -> float | None:
    """The number in the first field of an E4 header line (later fields repeat it, e.g. ACC)."""
    try:
        number = float(line.split(",")[0])
    except ValueError:
        return None
    return number if np.isfinite(number) and number >= minimum else None


def _read_fields(path: Path, header_lines: int, numeric: list[int]) -> pd.DataFrame:
    """Every row after the header as up to MAX_FIELDS fields (missing fields NaN). The `numeric`
    fields are parsed as floats by the C parser when they all are numbers (the common case, and
    much faster); otherwise everything is read as text and converted row by row."""
    try:
        return _read_csv(path, header_lines, {k: np.float64 for k in numeric})
    except CorpusError:
        raise
    except ValueError:  # a non-number in a numeric field (a text header line, a blank value)
        return _read_csv(path, header_lines, {})


def _read_csv(path: Path, header_lines: int, float_fields: dict) -> pd.DataFrame:
    dtypes = {k: float_fields.get(k, object) for k in range(MAX_FIELDS)}
    try:
        with warnings.catch_warnings():
            # pandas only warns when the FIRST row is too wide; make that an error like the others
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                header=None,
                names=range(MAX_FIELDS),
                index_col=False,
                dtype=dtypes,
                skiprows=header_lines,
                skipinitialspace=True,
                skip_blank_lines=False,
                encoding="utf-8",
                encoding_errors="replace",
            )
    except pd.errors.EmptyDataError:
        return pd.DataFrame({k: pd.Series([], dtype=dtypes[k]) for k in range(MAX_FIELDS)})
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise CorpusError(str(exc).strip(), path, expected=f"at most {MAX_FIELDS} comma-separated fields per row") from exc
