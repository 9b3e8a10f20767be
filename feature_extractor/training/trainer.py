"""The Lightning Trainer of stage 1, built from the `trainer.*` and `tracking.*` config keys.
Progress follows erc_core/progress.py: `trainer.progress_bar` null = a bar on a terminal and a line
every `trainer.progress_every_s` seconds in a log file, true = bar, false = neither."""

from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from erc_core.device import check_available
from erc_core.progress import progress_mode
from erc_core.tracking import lightning_logger
from feature_extractor.training.callbacks import (
    AtomicCheckpointIO,
    ProgressLinesCallback,
    ShardLogCallback,
    Stage1ProgressBar,
)


def resolve_precision(requested: str) -> str:
    if requested != "auto":
        return requested
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


def build_trainer(cfg, run_dir: Path, callbacks: list) -> pl.Trainer:
    tcfg = cfg.trainer
    check_available(tcfg.accelerator)
    callbacks = list(callbacks)
    callbacks.extend(resume_checkpoints(run_dir / "checkpoints", tcfg.checkpoint_every_n_steps))
    if tcfg.early_stopping_patience > 0:
        callbacks.append(EarlyStopping(monitor="dev/weighted_f1", mode="max", patience=tcfg.early_stopping_patience))
    if cfg.data.log_shards:
        callbacks.append(ShardLogCallback(run_dir / "shards"))
    mode = progress_mode(tcfg.progress_bar)
    callbacks.extend(progress_callbacks(mode, tcfg.progress_every_s))
    logger = lightning_logger(cfg.tracking, run_dir)
    return pl.Trainer(
        accelerator=tcfg.accelerator,
        devices=tcfg.devices,
        num_nodes=tcfg.num_nodes,
        strategy=tcfg.strategy,
        precision=resolve_precision(tcfg.precision),
        max_epochs=tcfg.max_epochs,
        accumulate_grad_batches=tcfg.accumulate_grad_batches,
        gradient_clip_val=tcfg.gradient_clip_val or None,
        log_every_n_steps=tcfg.log_every_n_steps,
        enable_progress_bar=mode == "bar",
        enable_model_summary=False,
        deterministic=tcfg.deterministic,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # LengthBucketBatchSampler shards by rank itself
        default_root_dir=run_dir,
        logger=logger if logger is not None else False,
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
    )


def progress_callbacks(mode: str, every_s: float) -> list:
    if mode == "bar":
        return [Stage1ProgressBar()]
    return [ProgressLinesCallback(every_s)] if mode == "lines" else []


class EpochEndStepCheckpoint(ModelCheckpoint):
    """The every-N-steps `last.ckpt`, except on an epoch's last batch.

    A step checkpoint taken after the last batch records the epoch's training as finished; a run
    killed during the validation that follows would resume past that epoch and never evaluate it,
    so it could never become the exported model. Skipping that one step leaves the resume point
    either mid-epoch (training and validation re-run) or the epoch-end checkpoint written after
    validation."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)


def resume_checkpoints(folder: Path, every_n_steps) -> list:
    """Keep one resumable `last.ckpt`, refreshed after every epoch (and every N steps if asked).
    ModelCheckpoint(save_last=True) alone writes last.ckpt only when a top-k file is saved, so the
    latest-only checkpoint is itself named `last`."""
    options = dict(dirpath=folder, filename="last", monitor=None, save_top_k=1, save_last=False,
                   enable_version_counter=False)
    checkpoints = [ModelCheckpoint(every_n_epochs=1, **options)]
    if every_n_steps:
        checkpoints.append(EpochEndStepCheckpoint(every_n_train_steps=every_n_steps, **options))
    return checkpoints
