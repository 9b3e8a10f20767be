"""Stage-1 Lightning callbacks: export the best dev model, keep metrics.json current, report
progress by the toolkit's convention (erc_core/progress.py: bars on a terminal, lines in a log
file, epochs from 1, scores in percent), and optionally record which utterances each rank trained
on. Their state rides in last.ckpt, so a resumed run keeps its best score and metric history."""

import contextlib
import json
import sys
import time
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import convert_inf
from lightning.pytorch.plugins.io import TorchCheckpointIO

from erc_core.files import atomic_path, write_json
from erc_core.progress import ProgressLines, epoch_label, percent
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
        self._epoch_started = self._train_seconds = None

    def on_train_epoch_start(self, trainer, pl_module):
        self._epoch_started, self._train_seconds = time.perf_counter(), None

    def on_validation_start(self, trainer, pl_module):
        # the dev pass runs at the end of each training epoch: what came before it is training
        if not trainer.sanity_checking and self._epoch_started is not None and self._train_seconds is None:
            self._train_seconds = time.perf_counter() - self._epoch_started

    def on_validation_end(self, trainer, pl_module):
        metrics = pl_module.last_metrics.get("dev")
        if trainer.sanity_checking or metrics is None:
            return
        entry = {"epoch": trainer.current_epoch, "global_step": trainer.global_step,
                 "train_loss": pl_module.epoch_train_loss(), "train_seconds": self._train_seconds, **metrics}
        self.history.append(entry)
        if trainer.is_global_zero:
            self.write()
            self._print(entry, trainer)

    def _print(self, entry, trainer) -> None:
        epoch, last = entry["epoch"] + 1, trainer.max_epochs
        if epoch % self.trainer_cfg.print_every_n_epochs and epoch != last:
            return
        loss = entry["train_loss"]
        best = self.best_epoch() or "-"
        print(f"stage 1 epoch {epoch:>3}/{last}  train loss {loss if loss is None else f'{loss:.4f}'}  "
              f"dev acc {percent(entry['accuracy'])}  dev wF1 {percent(entry['weighted_f1'])}  "
              f"best {percent(self.best.best_score or 0.0)} @ {best}", flush=True)

    def numbered_history(self) -> list:
        """The history with epochs counted from 1, as printed (kept from 0 inside, as Lightning
        counts, so a checkpoint's history resumes unchanged)."""
        return [{**entry, "epoch": entry["epoch"] + 1} for entry in self.history]

    def best_epoch(self) -> int | None:
        return None if self.best.best_epoch is None else self.best.best_epoch + 1

    def curve(self) -> list:
        """History rows for the learning-curve plot."""
        return [{"epoch": row["epoch"], "train_loss": row.get("train_loss"),
                 "dev_weighted_f1": row["weighted_f1"]} for row in self.numbered_history()]

    def summary(self, test_metrics=None) -> dict:
        history = self.numbered_history()
        summary = {"dev_history": history, "best_epoch": self.best_epoch(),
                   "best_dev_weighted_f1": self.best.best_score, **self.extra}
        best = [entry for entry in history if entry["epoch"] == self.best_epoch()]
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


def shown_metrics(logged: dict) -> dict:
    """Logged metrics as the progress reports show them: `loss` as is, scores in percent."""
    shown = {}
    for key, value in logged.items():
        value = float(value)
        if key.endswith("loss"):
            shown["loss" if key == "train/loss" else key.replace("/", " ")] = f"{value:.4f}"
        elif key.endswith(("f1", "accuracy")):
            shown[key.replace("/", " ").replace("weighted_f1", "wF1").replace("accuracy", "acc")] = percent(value)
    return shown


class Stage1ProgressBar(TQDMProgressBar):
    """Lightning's bar with the toolkit's numbering and unit (`stage 1 epoch 1/6`, dev wF1 in
    percent), on stderr like every bar of the toolkit (Lightning's own go to stdout, into the log
    a user redirected it to)."""

    def init_train_tqdm(self):
        with contextlib.redirect_stdout(sys.stderr):
            return super().init_train_tqdm()

    def init_validation_tqdm(self):
        with contextlib.redirect_stdout(sys.stderr):
            return super().init_validation_tqdm()

    def init_test_tqdm(self):
        with contextlib.redirect_stdout(sys.stderr):
            return super().init_test_tqdm()

    def on_train_epoch_start(self, trainer, *args):
        # Lightning's own, with our description (its "Epoch 0" would show for a moment first)
        if self._leave:
            self.train_progress_bar = self.init_train_tqdm()
        self.train_progress_bar.reset()
        self.train_progress_bar.total = convert_inf(self.total_train_batches)
        self.train_progress_bar.initial = 0
        self.train_progress_bar.set_description(f"stage 1 {epoch_label(trainer.current_epoch, trainer.max_epochs)}")

    def get_metrics(self, trainer, pl_module):
        return shown_metrics(trainer.progress_bar_metrics)


class ProgressLinesCallback(pl.Callback):
    """The log-file form of the bar: a line every `every_s` seconds during training and evaluation
    (rank 0), e.g. `stage 1 epoch 1/6 train: 30/90 (33.3%), 12 s, about 24 s left, loss 1.2345`."""

    def __init__(self, every_s: float, clock=None):
        self.every_s = every_s
        self.clock = clock
        self.lines = None

    def _start(self, trainer, what: str, total) -> None:
        if not trainer.is_global_zero:
            return
        options = {"clock": self.clock} if self.clock is not None else {}
        desc = f"stage 1 {epoch_label(trainer.current_epoch, trainer.max_epochs)} {what}"
        self.lines = ProgressLines(desc, _finite(total), self.every_s, **options)

    def _step(self, note: str = "") -> None:
        if self.lines is not None:
            self.lines.update(note=note)

    def _end(self) -> None:
        if self.lines is not None:
            self.lines.close()
        self.lines = None

    def on_train_epoch_start(self, trainer, pl_module):
        self._start(trainer, "train", trainer.num_training_batches)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = trainer.progress_bar_metrics.get("train/loss")
        self._step(f"loss {float(loss):.4f}" if loss is not None else "")

    def on_validation_epoch_start(self, trainer, pl_module):
        self._end()  # the epoch's training is over when its evaluation starts
        self._start(trainer, "dev", sum(trainer.num_val_batches))

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._step()

    def on_validation_epoch_end(self, trainer, pl_module):
        self._end()

    def on_train_epoch_end(self, trainer, pl_module):
        self._end()


def _finite(total):
    return int(total) if total not in (None, float("inf")) else None


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
