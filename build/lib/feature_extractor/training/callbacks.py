"""Stage-1 Lightning callbacks: export the best dev model, keep metrics.json current, and
optionally record which utterances each rank trained on. Their state rides in last.ckpt, so a
resumed run keeps its best score and metric history."""

import json
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from erc_core.files import atomic_path, write_json
from feature_extractor.export import save_export

MONITOR = "weighted_f1"


class BestExportCallback(pl.Callback):
    """After each dev evaluation: if weighted-F1 beat the best so far, write the export (rank 0)."""

    def __init__(self, export_dir, spec: dict):
        self.export_dir = Path(export_dir)
        self.spec = spec
        self.best_score = None
        self.best_epoch = None

    def on_validation_end(self, trainer, pl_module):
        metrics = pl_module.last_metrics.get("dev")
        if trainer.sanity_checking or metrics is None:
            return
        score = metrics[MONITOR]
        if self.best_score is not None and score <= self.best_score:
            return
        self.best_score, self.best_epoch = score, trainer.current_epoch
        if trainer.is_global_zero:
            spec = dict(self.spec, epoch=trainer.current_epoch, global_step=trainer.global_step, dev_metrics=metrics)
            save_export(self.export_dir, pl_module.model, spec)
        trainer.strategy.barrier()

    def state_dict(self):
        return {"best_score": self.best_score, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict):
        self.best_score = state_dict["best_score"]
        self.best_epoch = state_dict["best_epoch"]


class MetricsHistoryCallback(pl.Callback):
    """Appends each epoch's dev metrics (and the epoch's mean train loss) to a history, rewrites
    <run_dir>/metrics.json and prints one line per epoch (rank 0)."""

    def __init__(self, metrics_path, best: BestExportCallback, trainer_cfg, extra: dict | None = None):
        self.path = Path(metrics_path)
        self.best = best
        self.trainer_cfg = trainer_cfg
        self.extra = dict(extra or {})
        self.history = []

    def on_validation_end(self, trainer, pl_module):
        metrics = pl_module.last_metrics.get("dev")
        if trainer.sanity_checking or metrics is None:
            return
        entry = {"epoch": trainer.current_epoch, "global_step": trainer.global_step,
                 "train_loss": pl_module.epoch_train_loss(), **metrics}
        self.history.append(entry)
        if trainer.is_global_zero:
            self.write()
            self._print(entry, trainer)

    def _print(self, entry, trainer) -> None:
        epoch, last = entry["epoch"] + 1, trainer.max_epochs
        if epoch % self.trainer_cfg.print_every_n_epochs and epoch != last:
            return
        loss = entry["train_loss"]
        best = self.best.best_epoch + 1 if self.best.best_epoch is not None else "-"
        print(f"stage 1 epoch {epoch:>3}/{last}  train loss {loss if loss is None else f'{loss:.4f}'}  "
              f"dev acc {100 * entry['accuracy']:.2f}  dev wF1 {100 * entry['weighted_f1']:.2f}  "
              f"best {100 * (self.best.best_score or 0.0):.2f} @ {best}", flush=True)

    def curve(self) -> list:
        """History rows for the learning-curve plot (epochs counted from 1)."""
        return [{"epoch": row["epoch"] + 1, "train_loss": row.get("train_loss"),
                 "dev_weighted_f1": row["weighted_f1"]} for row in self.history]

    def summary(self, test_metrics=None) -> dict:
        summary = {"dev_history": self.history, "best_epoch": self.best.best_epoch,
                   "best_dev_weighted_f1": self.best.best_score, **self.extra}
        best = [entry for entry in self.history if entry["epoch"] == self.best.best_epoch]
        if best:
            summary["best_dev"] = best[-1]
        if test_metrics is not None:
            summary["test"] = test_metrics
        return summary

    def write(self, test_metrics=None) -> None:
        write_json(self.path, self.summary(test_metrics))

    def state_dict(self):
        return {"history_json": json.dumps(self.history)}

    def load_state_dict(self, state_dict):
        self.history = json.loads(state_dict["history_json"])


class ShardLogCallback(pl.Callback):
    """Writes <run_dir>/shards/rank{R}_epoch{E}.json: the segment ids this rank trained on."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.seen = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.extend(batch["segment_ids"])

    def on_train_epoch_end(self, trainer, pl_module):
        record = {"rank": trainer.global_rank, "world_size": trainer.world_size, "epoch": trainer.current_epoch, "segment_ids": self.seen}
        write_json(self.folder / f"rank{trainer.global_rank}_epoch{trainer.current_epoch}.json", record)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning .ckpt files written to a temp file and renamed: a crash never leaves a torn last.ckpt."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO does not take storage_options")
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)
