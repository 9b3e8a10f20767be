"""Write and read the utterance index: index.csv, index.meta.json and skipped.csv in one folder.

Each file is written atomically; the meta file is written last. `read_index` restores the
column dtypes (ints, floats with NaN, bools; text stays "" rather than NaN) and adds a
`wav_file` column: the absolute wav path, corpus root (from the meta file, or the `corpus_root`
argument when the corpus has moved) joined with the stored relative `wav_path` ("" when the
utterance has no audio). `wav_file` is never stored. Optional columns an index file lacks are
filled with their blank values (schema.complete_index_frame); the label set is in the meta file
(`index_label_names`). Version-1 indexes (KEMDy only, before label sets) read as KEMDy's."""

import json
from pathlib import Path

import pandas as pd

from erc_core.files import atomic_open, write_json
from erc_core.labels import KEMDY_LABELS, check_label_names
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.index_builder import IndexResult
from feature_extractor.corpus.schema import (
    REQUIRED_COLUMNS,
    SKIPPED_COLUMNS,
    column_dtypes,
    complete_index_frame,
    float_columns,
)

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: KEMDy only, no label set recorded
INDEX_FILE = "index.csv"
META_FILE = "index.meta.json"
SKIPPED_FILE = "skipped.csv"


def write_index(result: IndexResult, out_dir, options: dict | None = None) -> Path:
    """Write the three files into `out_dir`; return the index.csv path. `options` are the
    caller's settings as given (e.g. the CLI arguments); the resolved ones are stored too."""
    out_dir = Path(out_dir)
    # A stale meta file must never describe a newer index.csv if this write is interrupted.
    (out_dir / META_FILE).unlink(missing_ok=True)
    _write_csv(result.skipped[list(SKIPPED_COLUMNS)], out_dir / SKIPPED_FILE)
    _write_csv(complete_index_frame(result.frame, result.label_names), out_dir / INDEX_FILE)
    write_json(
        out_dir / META_FILE,
        {
            "format_version": FORMAT_VERSION,
            "corpus_root": str(result.corpus_root),
            "dataset": result.dataset,
            "label_names": list(result.label_names),
            "options": dict(options or {}),
            "resolved": result.resolved_options(),
            "counts": result.counts(),
            "notes": result.notes,
        },
    )
    return out_dir / INDEX_FILE


def read_index(path, corpus_root=None) -> pd.DataFrame:
    """The index in `path` (its folder or its index.csv), with dtypes restored and `wav_file`."""
    csv_path = Path(path) / INDEX_FILE if Path(path).is_dir() else Path(path)
    if not csv_path.is_file():
        raise CorpusError("no index file", csv_path, expected=f"{INDEX_FILE} written by kemdy-index")
    meta = read_index_meta(csv_path.parent)
    corpus_root = meta["corpus_root"] if corpus_root is None else corpus_root
    frame = complete_index_frame(_read_index_csv(csv_path), index_label_names(csv_path.parent, meta))
    frame["wav_file"] = [str(Path(corpus_root) / p) if p else "" for p in frame["wav_path"]]
    return frame


def index_label_names(folder, meta: dict | None = None) -> tuple[str, ...]:
    """The class order of the index in `folder` (KEMDy's for a version-1 index)."""
    meta = read_index_meta(folder) if meta is None else meta
    return check_label_names(meta.get("label_names", KEMDY_LABELS), Path(folder) / META_FILE)


def read_index_meta(folder) -> dict:
    meta_path = Path(folder) / META_FILE
    if not meta_path.is_file():
        raise CorpusError("no meta file", meta_path, expected=f"{META_FILE} beside {INDEX_FILE}")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise CorpusError(
            f"format_version {meta.get('format_version')!r}", meta_path,
            expected=f"format_version {' or '.join(map(str, READABLE_VERSIONS))}",
        )
    return meta


def read_skipped(folder) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / SKIPPED_FILE, dtype=str, keep_default_na=False)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, na_rep="", lineterminator="\n")


def _read_index_csv(csv_path: Path) -> pd.DataFrame:
    header = list(pd.read_csv(csv_path, nrows=0).columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CorpusError(f"columns {missing} are missing", csv_path, 1,
                          expected="the required columns of docs/contracts.md: " + ", ".join(REQUIRED_COLUMNS))
    try:
        return pd.read_csv(
            csv_path,
            dtype=column_dtypes(header),
            keep_default_na=False,
            na_values={c: [""] for c in float_columns(header)},
            encoding="utf-8",
        )
    except (ValueError, TypeError) as exc:
        raise CorpusError(f"cannot restore column types ({exc})", csv_path, expected="a file written by write_index") from exc
