"""Per-segment physiological summaries: mean, std and slope with a coverage mask.

The samples of a segment are the rows of a signal file tagged with its id (signal_files.py).
Summaries per segment and signal: mean, std (population, ddof=0) of the values and slope =
least-squares d value / d time in signal units per second (time as signal_files.py gives it;
for rate-less KEMDy19 files the k-th of n samples sits at k * duration / n). A segment is
covered when it has at least two samples (with distinct times); otherwise its summaries are NaN
and has_<signal> is False (never 0).
Whose signal: when a file name names its owner (KEMDy20 `User001F`, KEMDy19 an `F`/`M` token)
only the segment speaker's own file is used: the partner's sensor also tags the segment. Files
without an owner token are accepted. If several accepted files tag the same segment, the one
with the most samples is used (an owner match first, then the first by name). A segment is
found by its index id or by the id as the annotation file wrote it (KEMDy20 prefix fix)."""

from pathlib import Path

import numpy as np
import pandas as pd

from feature_extractor.corpus.signal_files import SignalSource, read_signal_file

SIGNALS = ("ecg", "eda", "temp", "ibi")
STATISTICS = ("mean", "std", "slope")
PHYSIO_COLUMNS = tuple(f"{s}_{stat}" for s in SIGNALS for stat in STATISTICS)
MASK_COLUMNS = tuple(f"has_{s}" for s in SIGNALS)

__all__ = ["MASK_COLUMNS", "PHYSIO_COLUMNS", "SIGNALS", "SignalSource", "summarize_physio"]


def summarize_physio(root: Path, segments: pd.DataFrame, sources, owner_of, owner_column: str) -> pd.DataFrame:
    """Physio columns for every segment, indexed by segment_id.

    `segments` needs session, segment_id, source_segment_id, start, end and `owner_column`;
    `owner_of(file_stem)` returns the owner token named in a signal file's name, or None."""
    segments = segments.reset_index(drop=True)
    result = pd.DataFrame(index=pd.Index(segments["segment_id"], name="segment_id"))
    for column in PHYSIO_COLUMNS:
        result[column] = np.nan
    for column in MASK_COLUMNS:
        result[column] = False
    duration = (segments["end"] - segments["start"]).to_numpy()
    for source in sources:
        rows = _segment_samples(root, segments, source, owner_of, owner_column)
        stats = _summaries(rows, duration)
        for stat in STATISTICS:
            result.iloc[stats.index, result.columns.get_loc(f"{source.name}_{stat}")] = stats[stat].to_numpy()
        result.iloc[stats.index, result.columns.get_loc(f"has_{source.name}")] = True
    return result


def _segment_samples(root, segments, source: SignalSource, owner_of, owner_column) -> pd.DataFrame:
    """Samples of `source`, `segment` = row position in `segments`; one file per segment."""
    owners = segments[owner_column].to_numpy()
    pieces, file_id = [], 0
    for session, in_session in segments.groupby("session", sort=True):
        folder = source.session_folder(root, int(session))
        if not folder.is_dir():
            continue
        # a segment is tagged by its id, or by the id as the annotation wrote it
        tags = pd.concat([in_session["segment_id"], in_session["source_segment_id"]])
        tags = tags[~tags.duplicated()]
        positions = tags.index.to_numpy()
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        for path in files:
            rows = read_signal_file(path, source.file_format, tags.to_numpy())
            rows["segment"] = positions[rows["segment"].to_numpy()]
            owner = owner_of(path.stem)
            if owner is not None:
                rows = rows[owners[rows["segment"].to_numpy()] == owner]
            pieces.append(rows.assign(file_id=file_id, owner_match=owner is not None))
            file_id += 1
    if not pieces:
        return pd.DataFrame({"segment": [], "time": [], "value": []})
    return _one_file_per_segment(pd.concat(pieces, ignore_index=True))


def _one_file_per_segment(rows: pd.DataFrame) -> pd.DataFrame:
    per_file = rows.groupby(["segment", "file_id"], sort=False).agg(
        samples=("value", "size"), owner_match=("owner_match", "first")
    )
    per_file = per_file.reset_index().sort_values(
        ["segment", "owner_match", "samples", "file_id"], ascending=[True, False, False, True]
    )
    chosen = per_file.drop_duplicates("segment").set_index("segment")["file_id"]
    return rows[rows["file_id"].to_numpy() == chosen.reindex(rows["segment"]).to_numpy()]


def _summaries(rows: pd.DataFrame, duration: np.ndarray) -> pd.DataFrame:
    """mean / std / slope per covered segment (at least two samples, time not constant),
    indexed by segment position."""
    if rows.empty:
        return pd.DataFrame({stat: [] for stat in STATISTICS}, index=pd.Index([], dtype=np.int64))
    rows = rows[["segment", "time", "value"]].copy()
    rows["time"] = _fill_even_spacing(rows, duration)
    group = rows.groupby("segment", sort=False)
    rows["dv"] = rows["value"] - group["value"].transform("mean")
    rows["dt"] = rows["time"] - group["time"].transform("mean")
    rows["dt_dv"] = rows["dt"] * rows["dv"]
    rows["dt_dt"] = rows["dt"] * rows["dt"]
    rows["dv_dv"] = rows["dv"] * rows["dv"]
    sums = rows.groupby("segment", sort=False).agg(
        n=("value", "size"), mean=("value", "mean"), dv_dv=("dv_dv", "mean"), dt_dv=("dt_dv", "sum"), dt_dt=("dt_dt", "sum")
    )
    covered = sums[(sums["n"] >= 2) & (sums["dt_dt"] > 0)]
    return pd.DataFrame(
        {"mean": covered["mean"], "std": np.sqrt(covered["dv_dv"]), "slope": covered["dt_dv"] / covered["dt_dt"]}
    )


def _fill_even_spacing(rows: pd.DataFrame, duration: np.ndarray) -> pd.Series:
    """Rate-less samples: the k-th of n samples of a segment sits at k * duration / n seconds."""
    missing = rows["time"].isna()
    if not missing.any():
        return rows["time"]
    part = rows[missing]
    position = part.groupby("segment", sort=False).cumcount()
    count = part.groupby("segment", sort=False)["value"].transform("size")
    time = rows["time"].copy()
    time[missing] = position * duration[part["segment"].to_numpy()] / count
    return time
