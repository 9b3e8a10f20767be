"""One run of the runner: a (config, seed, fold) cell, its folder and its result record.

    <run_dir>/<config>/seed<S>_fold<F>/     (seed<S> when folds=0) the stage's own run folder
        run.json                            the runner's record, written after the stage finished

A run is finished when its folder holds run.json: the runner writes it only after the stage has
returned (its metrics.json final). A later invocation reads a finished run instead of redoing it;
any other run is redone from scratch (the stage is called with overwrite=true)."""

import json
from dataclasses import dataclass
from pathlib import Path

from erc_core.files import write_json
from erc_core.metrics import headline

RECORD_FILE = "run.json"
SPLITS = ("dev", "test")
METRICS = ("accuracy", "weighted_f1", "macro_f1", "n")
ROW_COLUMNS = ("config", "seed", "fold", *(f"{s}_{m}" for s in SPLITS for m in METRICS),
               "best_epoch", "epochs_run", "seconds", "seconds_per_epoch", "run_dir")


@dataclass(frozen=True)
class RunKey:
    config: str
    seed: int
    fold: int | None  # None: the data's own split (folds=0)

    @property
    def cell(self) -> str:
        return f"seed{self.seed}" if self.fold is None else f"seed{self.seed}_fold{self.fold}"

    def folder(self, run_dir) -> Path:
        return Path(run_dir) / self.config / self.cell


def read_record(folder) -> dict | None:
    """The run.json of a finished run, or None."""
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def forget(folder) -> None:
    """Mark a run unfinished (its inputs are being rebuilt)."""
    (Path(folder) / RECORD_FILE).unlink(missing_ok=True)


def write_record(key: RunKey, folder, *, dev: dict, test: dict, seconds: float, best_epoch=None,
                 epochs_run=None, extra: dict | None = None) -> dict:
    per_epoch = seconds / epochs_run if epochs_run else None
    record = {"config": key.config, "seed": key.seed, "fold": key.fold,
              "dev": headline(dev or {}), "test": headline(test or {}), "best_epoch": best_epoch,
              "epochs_run": epochs_run, "seconds": round(seconds, 2),
              "seconds_per_epoch": None if per_epoch is None else round(per_epoch, 3), **(extra or {})}
    write_json(Path(folder) / RECORD_FILE, record)
    return record


def record_row(record: dict, folder) -> dict:
    """The runs.csv row of a run record (metrics as fractions, missing values None)."""
    row = {"config": record["config"], "seed": record["seed"], "fold": record["fold"]}
    for split in SPLITS:
        metrics = record.get(split) or {}
        for name in METRICS:
            row[f"{split}_{name}"] = metrics.get(name)
    row.update({name: record.get(name) for name in ("best_epoch", "epochs_run", "seconds", "seconds_per_epoch")})
    row["run_dir"] = str(folder)
    return row

