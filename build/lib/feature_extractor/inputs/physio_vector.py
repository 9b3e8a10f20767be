"""The physiological feature vector `p`: standardised per-segment summaries plus coverage masks.

    p = [ (x - mean_train) / std_train  for the 12 `{ecg,eda,temp,ibi}_{mean,std,slope}` columns,
          NaN (signal not covered) -> 0,
          has_ecg, has_eda, has_temp, has_ibi as 0/1 ]                          (16 values)

Statistics come from the train split only (NaN ignored) and travel with the stage-1 checkpoint,
so stage 2 standardises every split the same way. A 0 then means "train average or not covered";
the mask columns tell the two apart.
"""

import dataclasses

import numpy as np
import pandas as pd

SIGNALS = ("ecg", "eda", "temp", "ibi")
SUMMARY_COLUMNS = tuple(f"{signal}_{stat}" for signal in SIGNALS for stat in ("mean", "std", "slope"))
MASK_COLUMNS = tuple(f"has_{signal}" for signal in SIGNALS)
PHYSIO_DIM = len(SUMMARY_COLUMNS) + len(MASK_COLUMNS)


@dataclasses.dataclass
class PhysioStandardizer:
    mean: list
    std: list

    @classmethod
    def fit(cls, table: pd.DataFrame, source: str = "index") -> "PhysioStandardizer":
        values = _summary_values(table, source)
        finite = np.isfinite(values)
        count = finite.sum(axis=0)
        filled = np.where(finite, values, 0.0)
        mean = filled.sum(axis=0) / np.maximum(count, 1)
        var = (np.where(finite, values - mean, 0.0) ** 2).sum(axis=0) / np.maximum(count, 1)
        std = np.sqrt(var)
        std = np.where(std > 1e-8, std, 1.0)  # constant or never-covered column: leave unscaled
        return cls(mean=mean.tolist(), std=std.tolist())

    def transform(self, table: pd.DataFrame, source: str = "index") -> np.ndarray:
        """float32 [len(table), PHYSIO_DIM] in the row order of `table`."""
        values = _summary_values(table, source)
        scaled = (values - np.asarray(self.mean)) / np.asarray(self.std)
        scaled = np.where(np.isfinite(scaled), scaled, 0.0)
        masks = _mask_values(table, source)
        return np.concatenate([scaled, masks], axis=1).astype(np.float32)


def _summary_values(table: pd.DataFrame, source: str) -> np.ndarray:
    _require_columns(table, SUMMARY_COLUMNS + MASK_COLUMNS, source)
    return table[list(SUMMARY_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


_FLAG_WORDS = {"true": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "0": 0.0, "0.0": 0.0}


def _mask_values(table: pd.DataFrame, source: str) -> np.ndarray:
    """has_* flags as 0/1, whether pandas read them as bool, numbers or words."""
    columns = []
    for name in MASK_COLUMNS:
        words = table[name].astype(str).str.strip().str.lower()
        flags = words.map(_FLAG_WORDS)
        if flags.isna().any():
            row = int(np.flatnonzero(flags.isna().to_numpy())[0])
            segment = table.iloc[row].get("segment_id", "?")
            raise ValueError(f"{source}: row {row} ({segment}): {name}={table[name].iloc[row]!r}, expected true/false")
        columns.append(flags.to_numpy(dtype=np.float64))
    return np.stack(columns, axis=1)


def _require_columns(table: pd.DataFrame, columns, source: str) -> None:
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing physiological column(s) {', '.join(missing)} (see docs/contracts.md)")
