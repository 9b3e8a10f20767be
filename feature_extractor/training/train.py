"""Stage 1: fine-tune the audio + text feature extractor on utterance emotion labels.

    python -m feature_extractor.training.train --config configs/stage1/demo.yaml [key=value ...]
    python -m feature_extractor.training.train --config configs/stage1/kemdy19.yaml data.index=work/index resume=true

Writes into `run_dir`: config.yaml (resolved), skipped.csv (utterances set aside, with reasons),
export/ (best dev weighted-F1 model: safetensors + JSON, see checkpoint.py), checkpoints/last.ckpt
(resumable), metrics.json (dev history, best epoch, test metrics of the best model), comet/
(offline tracking archive when no COMET_API_KEY).
"""

import argparse
import dataclasses
import sys
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from safetensors.torch import load_file

from erc_core.files import atomic_open
from erc_core.config import load_config, save_config, to_dict
from erc_core.labels import EMOTIONS
from feature_extractor.training.callbacks import AtomicCheckpointIO, BestExportCallback, MetricsHistoryCallback, ShardLogCallback
from feature_extractor.export import WEIGHTS_FILE, encoder_architectures, load_weights_strict
from feature_extractor.inputs.collate import Collator
from feature_extractor.training.datamodule import Stage1DataModule
from feature_extractor.inputs.dataset import UtteranceDataset, scan_utterances
from feature_extractor.encoders.acoustic import AcousticFeatureCache, AcousticFeatureConfig, feature_statistics
from feature_extractor.extractor import AudioTextExtractor, head_modalities
from feature_extractor.inputs.index_table import check_labels, load_index_table
from feature_extractor.training.lightning_module import Stage1Module
from feature_extractor.inputs.physio_vector import PhysioStandardizer
from feature_extractor.training.config import Stage1Config
from feature_extractor.tracking import build_comet_logger

SPLITS = ("train", "dev", "test")
LAST_CHECKPOINT = "checkpoints/last.ckpt"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="Stage 1: fine-tune the audio-text feature extractor.")
    parser.add_argument("--config", help="YAML config (configs/stage1/*.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. trainer.max_epochs=3")
    args = parser.parse_args(argv)
    return train(load_config(Stage1Config, args.config, args.overrides))


def train(cfg: Stage1Config) -> dict:
    run_dir = Path(cfg.run_dir)
    is_zero = rank_zero_only.rank == 0
    _check_run_dir(cfg, run_dir, is_zero)
    pl.seed_everything(cfg.seed, workers=True)
    if cfg.trainer.cpu_threads:
        torch.set_num_threads(cfg.trainer.cpu_threads)

    inputs = prepare_inputs(cfg, run_dir, is_zero)
    model = AudioTextExtractor(cfg.model, num_classes=len(EMOTIONS))
    if inputs.cache is not None:
        _fit_acoustic_standardisation(model, inputs)
    datamodule = Stage1DataModule(build_datasets(cfg, inputs), Collator(model.tokenizer, cfg.model.text.max_tokens), cfg.data, cfg.seed)
    module = Stage1Module(model, cfg.loss, cfg.optim, EMOTIONS)

    best = BestExportCallback(run_dir / "export", export_spec(cfg, model, inputs.physio, inputs.audio_kind))
    history = MetricsHistoryCallback(run_dir / "metrics.json", best)
    trainer = build_trainer(cfg, run_dir, [best, history])
    if is_zero:
        save_config(cfg, run_dir / "config.yaml")
        if trainer.logger is not None:
            trainer.logger.log_hyperparams(to_dict(cfg))
    try:
        summary = fit_then_test(cfg, run_dir, trainer, module, datamodule, history)
    finally:
        if trainer.is_global_zero:
            _finish_tracking(trainer.logger)
    if trainer.is_global_zero:
        _print_summary(summary, run_dir)
    return summary


@dataclasses.dataclass
class Stage1Inputs:
    splits: dict  # split -> scanned index rows
    modalities: str
    audio_kind: str | None
    cache: AcousticFeatureCache | None
    physio: PhysioStandardizer


def prepare_inputs(cfg: Stage1Config, run_dir: Path, is_zero: bool) -> Stage1Inputs:
    """Read and check the index, build the tiny preset if asked, set aside unusable utterances."""
    table = load_index_table(cfg.data.index, cfg.data.corpus_root)
    check_labels(table, EMOTIONS, cfg.data.index, allow_unlabelled=True)  # predict rows are not trained on
    if cfg.tiny_preset.enabled:
        _use_tiny_preset(cfg, table, run_dir)
    modalities = head_modalities(cfg.model.head)
    audio_kind = cfg.model.audio.kind if "a" in modalities else None
    cache = _acoustic_cache(cfg, run_dir) if audio_kind == "acoustic" else None
    chosen = select_rows(table, cfg.data, cfg.seed)
    kept, skipped = scan_utterances(
        chosen, use_text="t" in modalities, audio_kind=audio_kind, acoustic_cache=cache,
        progress=is_zero, workers=cfg.data.scan_workers,
    )
    splits = {split: kept[kept["split"] == split].reset_index(drop=True) for split in SPLITS}
    _report_skipped(skipped, chosen, splits, run_dir, is_zero)
    physio = PhysioStandardizer.fit(splits["train"], source=f"{cfg.data.index} (train split)")
    return Stage1Inputs(splits, modalities, audio_kind, cache, physio)


def _fit_acoustic_standardisation(model: AudioTextExtractor, inputs: Stage1Inputs) -> None:
    """Per-feature mean / std of the cached frame features over the train split."""
    rows = inputs.splits["train"].itertuples()
    frames = (inputs.cache.load(row.segment_id, row.wav_file) for row in rows)
    model.audio_encoder.set_feature_stats(*feature_statistics(frames))


def build_datasets(cfg: Stage1Config, inputs: Stage1Inputs) -> dict:
    return {
        split: UtteranceDataset(
            frame,
            use_text="t" in inputs.modalities,
            audio_kind=inputs.audio_kind,
            max_audio_seconds=cfg.data.max_audio_seconds,
            crop_mode="random" if split == "train" else cfg.data.eval_crop,
            physio=inputs.physio.transform(frame) if cfg.model.use_physio else None,
            acoustic_cache=inputs.cache,
        )
        for split, frame in inputs.splits.items()
    }


def fit_then_test(cfg, run_dir: Path, trainer: pl.Trainer, module: Stage1Module, datamodule, history) -> dict:
    """Train (or resume), then score the exported best-dev weights on the test split."""
    resume_from = run_dir / LAST_CHECKPOINT if cfg.resume else None
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    trainer.strategy.barrier()
    weights = run_dir / "export" / WEIGHTS_FILE
    load_weights_strict(module.model, load_file(str(weights)), source=str(weights))
    trainer.test(module, datamodule=datamodule, verbose=False)
    test_metrics = module.last_metrics.get("test")
    if trainer.is_global_zero:
        history.write(test_metrics)
        save_config(cfg, run_dir / "export" / "config.yaml")
    return history.summary(test_metrics)


# -- inputs ---------------------------------------------------------------------------------------
def select_rows(table: pd.DataFrame, data_cfg, seed: int) -> pd.DataFrame:
    """Rows of the three splits, cut to max_train_samples / max_eval_samples (a seeded random
    subset, original order kept) for quick runs."""
    unknown = sorted(set(table["split"]) - set(SPLITS) - {"predict"})
    if unknown:
        raise ValueError(f"{data_cfg.index}: unknown split name(s) {unknown}; expected {', '.join(SPLITS)}")
    parts = []
    for split in SPLITS:
        rows = table[table["split"] == split]
        if rows.empty:
            raise ValueError(f"{data_cfg.index}: the {split} split has no utterances; check the split settings of the index")
        limit = data_cfg.max_train_samples if split == "train" else data_cfg.max_eval_samples
        if limit is not None and limit < len(rows):
            rows = rows.sample(n=limit, random_state=seed).sort_index()
        parts.append(rows)
    return pd.concat(parts)


def _report_skipped(skipped, chosen, splits, run_dir: Path, is_zero: bool) -> None:
    for split, frame in splits.items():
        if frame.empty:
            raise ValueError(f"every {split} utterance was skipped ({len(skipped)} in all); see the reasons in {run_dir / 'skipped.csv'}")
    if is_zero:
        with atomic_open(run_dir / "skipped.csv", "w", encoding="utf-8", newline="") as handle:
            skipped.to_csv(handle, index=False)
        if len(skipped):
            reasons = skipped["reason"].value_counts().to_dict()
            print(f"stage 1: skipped {len(skipped)} of {len(chosen)} utterances {reasons}; listed in {run_dir / 'skipped.csv'}", file=sys.stderr)


def _use_tiny_preset(cfg: Stage1Config, table: pd.DataFrame, run_dir: Path) -> None:
    from feature_extractor.encoders.tiny_preset import build_tiny_preset

    out_dir = cfg.tiny_preset.out_dir or str(run_dir / "tiny_models")
    train_texts = table.loc[table["split"] == "train", "text"]
    folders = build_tiny_preset(train_texts, out_dir, seed=cfg.seed, cfg=cfg.tiny_preset)
    cfg.model.text.name = folders["text"]
    if cfg.model.audio.kind == "hf":
        cfg.model.audio.name = folders["audio"]


def _acoustic_cache(cfg: Stage1Config, run_dir: Path) -> AcousticFeatureCache:
    return AcousticFeatureCache(cfg.data.feature_cache or run_dir / "acoustic_cache", AcousticFeatureConfig())


def _check_run_dir(cfg: Stage1Config, run_dir: Path, is_zero: bool) -> None:
    last = run_dir / LAST_CHECKPOINT
    if cfg.resume and not last.is_file():
        raise FileNotFoundError(f"resume=true but there is no {last} to resume from")
    previous = [path for path in (last, run_dir / "export" / WEIGHTS_FILE) if path.exists()]
    if is_zero and not cfg.resume and previous:
        raise FileExistsError(f"{run_dir} holds a previous run ({previous[0]}); pass resume=true to continue it or choose another run_dir")


# -- model and trainer ------------------------------------------------------------------------------
def export_spec(cfg: Stage1Config, model: AudioTextExtractor, physio: PhysioStandardizer, audio_kind) -> dict:
    return {
        "label_names": list(EMOTIONS),
        "model": to_dict(cfg.model),
        "encoder_architectures": encoder_architectures(model),
        "physio": dataclasses.asdict(physio),
        "inputs": {
            "audio_kind": audio_kind,
            "use_text": model.text_encoder is not None,
            "max_audio_seconds": cfg.data.max_audio_seconds,
            "eval_crop": cfg.data.eval_crop,
            "max_tokens": cfg.model.text.max_tokens,
            "acoustic_features": dataclasses.asdict(AcousticFeatureConfig()) if audio_kind == "acoustic" else None,
        },
        "stage1_config": to_dict(cfg),
    }


def resolve_precision(requested: str) -> str:
    if requested != "auto":
        return requested
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


def build_trainer(cfg: Stage1Config, run_dir: Path, callbacks: list) -> pl.Trainer:
    tcfg = cfg.trainer
    callbacks = list(callbacks)
    callbacks.extend(resume_checkpoints(run_dir / "checkpoints", tcfg.checkpoint_every_n_steps))
    if tcfg.early_stopping_patience > 0:
        callbacks.append(EarlyStopping(monitor="dev/weighted_f1", mode="max", patience=tcfg.early_stopping_patience))
    if cfg.data.log_shards:
        callbacks.append(ShardLogCallback(run_dir / "shards"))
    logger = build_comet_logger(cfg.tracking, run_dir)
    return pl.Trainer(
        accelerator=tcfg.accelerator,
        devices=tcfg.devices,
        num_nodes=tcfg.num_nodes,
        strategy=tcfg.strategy,
        precision=resolve_precision(tcfg.precision),
        max_epochs=tcfg.max_epochs,
        accumulate_grad_batches=tcfg.accumulate_grad_batches,
        gradient_clip_val=tcfg.gradient_clip_val,
        log_every_n_steps=tcfg.log_every_n_steps,
        enable_progress_bar=tcfg.progress_bar,
        enable_model_summary=False,
        deterministic=tcfg.deterministic,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # LengthBucketBatchSampler shards by rank itself
        default_root_dir=run_dir,
        logger=logger if logger is not None else False,
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
    )


def resume_checkpoints(folder: Path, every_n_steps) -> list:
    """Keep one resumable `last.ckpt`, refreshed after every epoch (and every N steps if asked).
    ModelCheckpoint(save_last=True) alone writes last.ckpt only when a top-k file is saved, so the
    latest-only checkpoint is itself named `last`."""
    def latest(**trigger):
        return ModelCheckpoint(
            dirpath=folder, filename="last", monitor=None, save_top_k=1, save_last=False, enable_version_counter=False, **trigger
        )

    checkpoints = [latest(every_n_epochs=1)]
    if every_n_steps:
        checkpoints.append(latest(every_n_train_steps=every_n_steps))
    return checkpoints


def _finish_tracking(logger) -> None:
    """End the Comet experiment now, so the offline archive is complete when train() returns."""
    experiment = getattr(logger, "experiment", None) if logger is not None else None
    if experiment is not None and hasattr(experiment, "end"):
        experiment.end()


def _print_summary(summary: dict, run_dir: Path) -> None:
    dev = summary.get("best_dev", {})
    test = summary.get("test") or {}
    print(
        f"stage 1 done: best epoch {summary['best_epoch']}, dev weighted-F1 {dev.get('weighted_f1', float('nan')):.4f}, "
        f"test accuracy {test.get('accuracy', float('nan')):.4f} weighted-F1 {test.get('weighted_f1', float('nan')):.4f}; "
        f"export in {run_dir / 'export'}"
    )


if __name__ == "__main__":
    main()
