"""Stage 1: fine-tune the audio + text feature extractor on utterance emotion labels.

    kemdy-stage1-train --config configs/stage1/demo.yaml [key=value ...]
    kemdy-stage1-train --config configs/stage1/kemdy19.yaml data.index=work/index resume=true
    kemdy-stage1-train --help          (every config key, its type and default)

Writes into `run_dir`: config.yaml (resolved), skipped.csv (utterances set aside, with reasons),
export/ (best dev weighted-F1 model: safetensors + JSON, see export.py; it records the utterances
of each split, so stage 2 can refuse leakage), checkpoints/last.ckpt (resumable), metrics.json
(dev history, best epoch, test metrics of the best model, provenance), learning_curves.png,
eval_test/ (predictions, report and confusion matrix of the best model on the test split) and
comet/ (offline tracking archive when no COMET_API_KEY).
"""

import copy
import dataclasses
import sys
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from erc_core.cli import parse_config_command, run_command
from erc_core.config import save_config, to_dict
from erc_core.errors import UserError
from erc_core.evaluation_report import write_evaluation
from erc_core.files import atomic_open
from erc_core.plots import save_learning_curves
from erc_core.provenance import run_provenance
from erc_core.run_dir import prepare_run_dir
from erc_core.tracking import announce
from erc_core.weights import load_weights
from feature_extractor.encoders.acoustic import AcousticFeatureCache, AcousticFeatureConfig, feature_statistics
from feature_extractor.export import SPEC_FILE, WEIGHTS_FILE, Stage1Export, encoder_architectures
from feature_extractor.encoders.model_source import check_model_source
from feature_extractor.extractor import AudioTextExtractor, head_modalities
from feature_extractor.heads.options import validate_head_options
from feature_extractor.inputs.collate import Collator
from feature_extractor.inputs.dataset import UtteranceDataset, moved_corpus_hint, scan_utterances
from feature_extractor.inputs.dialogue_context import ContextWindow, with_dialogue_context
from feature_extractor.inputs.frozen_vectors import frozen_vectors
from feature_extractor.inputs.index_table import check_labels, index_label_names, load_index_table
from feature_extractor.inputs.physio_vector import PhysioStandardizer
from feature_extractor.inputs.split_provenance import split_record
from feature_extractor.training.callbacks import BestExportCallback, MetricsHistoryCallback
from feature_extractor.training.config import TINY, Stage1Config
from feature_extractor.training.datamodule import Stage1DataModule
from feature_extractor.training.lightning_module import Stage1Module
from feature_extractor.training.resume_check import check_resume_checkpoint
from feature_extractor.training.trainer import build_trainer

SPLITS = ("train", "dev", "test")
LAST_CHECKPOINT = "checkpoints/last.ckpt"
RUN_FILES = ("checkpoints", "export", "metrics.json", "config.yaml", "skipped.csv", "learning_curves.png",
             "eval_test", "comet", "shards", "tiny_models", "lightning_logs")


def train(cfg: Stage1Config) -> dict:
    is_zero = rank_zero_only.rank == 0
    check_settings(cfg)  # before the run folder exists: a typo must not leave a half-made run behind
    run_dir = _prepare_run_dir(cfg, is_zero)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.trainer.cpu_threads:
        torch.set_num_threads(cfg.trainer.cpu_threads)

    given = copy.deepcopy(cfg)  # as the user wrote it (`tiny` stays `tiny`), for config.yaml
    inputs = prepare_inputs(cfg, run_dir, is_zero)
    model = AudioTextExtractor(cfg.model, num_classes=len(inputs.label_names), frozen_dims=inputs.frozen_dims)
    if inputs.cache is not None:
        _fit_acoustic_standardisation(model, inputs)
    for modality, encoder in model.frozen_encoders().items():
        encoder.set_feature_stats(inputs.frozen["train"][modality])
    datasets = build_datasets(cfg, inputs)
    datamodule = Stage1DataModule(datasets, Collator(model.tokenizer, cfg.model.text.max_tokens), cfg.data, cfg.seed,
                                  equal_length_eval=not model.batch_padding_invariant)
    module = Stage1Module(model, cfg.loss, cfg.optim, inputs.label_names)

    provenance = run_provenance(cfg.seed, _device_name(cfg))
    spec = export_spec(cfg, model, inputs, provenance)
    best = BestExportCallback(run_dir / "export", spec)
    history = MetricsHistoryCallback(run_dir / "metrics.json", best, cfg.trainer,
                                     extra={"provenance": provenance, "va_blank": inputs.va_blank,
                                            "frozen_encoding": inputs.frozen_timings})
    trainer = build_trainer(cfg, run_dir, [best, history])
    if is_zero:
        save_config(given, run_dir / "config.yaml")
        if trainer.logger is not None:
            trainer.logger.log_hyperparams(to_dict(cfg))
    try:
        summary = fit_then_test(cfg, run_dir, trainer, module, datamodule, history)
        if trainer.is_global_zero:
            _write_test_outputs(run_dir, module, inputs, summary)
    finally:
        if trainer.is_global_zero:
            _finish_tracking(trainer.logger, run_dir)
    if trainer.is_global_zero:
        print(summary_line(summary, run_dir))
    return summary


@dataclasses.dataclass
class Stage1Inputs:
    splits: dict  # split -> scanned index rows
    modalities: str
    audio_kind: str | None
    cache: AcousticFeatureCache | None
    physio: PhysioStandardizer
    index: str
    va_blank: dict  # split -> rows whose valence or arousal is blank (left out of the regression)
    label_names: tuple  # the index's class order
    context: ContextWindow  # dialogue context in the text input
    frozen: dict  # split -> {modality: vectors of frozen encoders, rows following splits[split]}
    frozen_timings: dict  # modality -> seconds spent encoding, rows computed (not cached), rows

    @property
    def frozen_dims(self) -> dict:
        return {modality: matrix.shape[1] for modality, matrix in self.frozen["train"].items()}


def prepare_inputs(cfg: Stage1Config, run_dir: Path, is_zero: bool) -> Stage1Inputs:
    """Read and check the index, build the tiny preset if asked, set aside unusable utterances."""
    table = load_index_table(cfg.data.index, cfg.data.corpus_root)
    label_names = index_label_names(cfg.data.index)
    check_labels(table, label_names, cfg.data.index, allow_unlabelled=True)  # predict rows are not trained on
    if TINY in (cfg.model.text.name, cfg.model.audio.name):
        _use_tiny_preset(cfg, table, run_dir)
    modalities = head_modalities(cfg.model.head)
    context = ContextWindow(cfg.model.text.context_before, cfg.model.text.context_after) if "t" in modalities else ContextWindow()
    table = with_dialogue_context(table, context)
    audio_kind = cfg.model.audio.kind if "a" in modalities else None
    cache = _acoustic_cache(cfg, run_dir) if audio_kind == "acoustic" else None
    chosen = select_rows(table, cfg.data, cfg.seed)
    kept, skipped = scan_utterances(
        chosen, use_text="t" in modalities, audio_kind=audio_kind, acoustic_cache=cache,
        progress=is_zero and sys.stderr.isatty(), workers=cfg.data.scan_workers,
    )
    splits = {split: kept[kept["split"] == split].reset_index(drop=True) for split in SPLITS}
    _report_skipped(skipped, chosen, splits, run_dir, is_zero)
    timings = {}
    vectors = frozen_vectors(kept, cfg.model, modalities, frozen_cache_root(cfg), is_zero and sys.stderr.isatty(), timings)
    frozen = {split: {modality: matrix[(kept["split"] == split).to_numpy()] for modality, matrix in vectors.items()}
              for split in SPLITS}
    _report_frozen_timings(timings, is_zero)
    physio = PhysioStandardizer.fit(splits["train"], source=f"{cfg.data.index} (train split)")
    return Stage1Inputs(splits, modalities, audio_kind, cache, physio, cfg.data.index, _blank_va(splits, is_zero),
                        label_names, context, frozen, timings)


def frozen_cache_root(cfg: Stage1Config) -> Path:
    """Shared by every run on the index (the vectors depend on the utterances and the encoder only)."""
    return Path(cfg.data.frozen_cache or Path(cfg.data.index) / "frozen_cache")


def _report_frozen_timings(timings: dict, is_zero: bool) -> None:
    for modality, timing in timings.items() if is_zero else ():
        print(f"stage 1: frozen {'audio' if modality == 'a' else 'text'} encoder: {timing['computed']} of "
              f"{timing['rows']} utterances encoded ({timing['seconds']:.1f} s), the rest read from the cache",
              file=sys.stderr)


def check_settings(cfg: Stage1Config) -> None:
    """Mistakes in the head options and encoder names, each named by its key."""
    validate_head_options(cfg.model.head, cfg.model.head_options)
    uses_text = "t" in head_modalities(cfg.model.head)
    if uses_text and cfg.model.text.kind == "sentence":
        _check_frozen_text(cfg.model.text)
    elif cfg.model.text.name != TINY and uses_text:
        check_model_source("model.text.name", cfg.model.text.name)
    if cfg.model.audio.name != TINY and cfg.model.audio.kind == "hf" and "a" in head_modalities(cfg.model.head):
        check_model_source("model.audio.name", cfg.model.audio.name)


def _check_frozen_text(text_cfg) -> None:
    """A frozen sentence encoder embeds the utterance alone: dialogue context is stage 3's to use."""
    for key in ("context_before", "context_after"):
        if getattr(text_cfg, key):
            raise UserError(f"model.text.{key}={getattr(text_cfg, key)}: model.text.kind=sentence embeds the utterance "
                            f"alone; set model.text.{key}=0 (stage 3 reads the dialogue context)")


def _blank_va(splits: dict, is_zero: bool) -> dict:
    """Rows per split with a blank valence or arousal cell; the regression loss and CCC leave them out."""
    counts = {split: int(frame[["valence", "arousal"]].isna().any(axis=1).sum()) for split, frame in splits.items()}
    has_any = any(len(frame) > blank for (split, blank), frame in zip(counts.items(), splits.values()))
    if is_zero and any(counts.values()) and has_any:  # a corpus without valence/arousal at all is not news
        print(f"stage 1: blank valence/arousal in {counts} utterances; they train the classifier but are left "
              "out of the valence/arousal loss and CCC", file=sys.stderr)
    return counts


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
            frozen=inputs.frozen[split],
        )
        for split, frame in inputs.splits.items()
    }


def fit_then_test(cfg, run_dir: Path, trainer: pl.Trainer, module: Stage1Module, datamodule, history) -> dict:
    """Train (or resume), then score the exported best-dev weights on the test split."""
    resume_from = run_dir / LAST_CHECKPOINT if cfg.resume else None
    if resume_from is not None and resume_from.is_file():
        check_resume_checkpoint(resume_from, module)
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    trainer.strategy.barrier()
    export = run_dir / "export"
    load_weights(module.model, export / WEIGHTS_FILE, Stage1Export.read(export).weights_sha256, export / SPEC_FILE)
    trainer.test(module, datamodule=datamodule, verbose=False)
    test_metrics = module.last_metrics.get("test")
    if trainer.is_global_zero:
        history.write(test_metrics)
        save_config(cfg, run_dir / "export" / "config.yaml")
        save_learning_curves(history.curve(), run_dir / "learning_curves.png", title=f"stage 1: {run_dir.name}",
                             best_epoch=history.best_epoch())
    return history.summary(test_metrics)


def _write_test_outputs(run_dir: Path, module: Stage1Module, inputs: Stage1Inputs, summary: dict) -> None:
    """Predictions, report and confusion matrix of the exported (best dev) model on the test split."""
    records = module.last_records.get("test")
    if not records:
        return
    rows = inputs.splits["test"].iloc[records["index"]]
    ids = list(zip(rows["dialogue_id"].astype(str), rows["segment_id"].astype(str), rows["speaker"].astype(str)))
    extra = {"stage": 1, "split": "test", "run_dir": str(run_dir), "best_epoch": summary.get("best_epoch"),
             "provenance": summary.get("provenance")}
    write_evaluation(run_dir / "eval_test", f"stage 1: {run_dir.name} / test", inputs.label_names, ids,
                     records["label"], records["probs"], extra, texts=rows["text"].astype(str).tolist())


# -- inputs ---------------------------------------------------------------------------------------
def select_rows(table: pd.DataFrame, data_cfg, seed: int) -> pd.DataFrame:
    """Rows of the three splits, cut to max_train_samples / max_eval_samples (a seeded random
    subset, original order kept) for quick runs."""
    unknown = sorted(set(table["split"]) - set(SPLITS) - {"predict"})
    if unknown:
        raise UserError(f"{data_cfg.index}: unknown split name(s) {unknown}; expected {', '.join(SPLITS)}")
    parts = []
    for split in SPLITS:
        rows = table[table["split"] == split]
        if rows.empty:
            raise UserError(f"{data_cfg.index}: the {split} split has no utterances; check the split settings of the index")
        limit = data_cfg.max_train_samples if split == "train" else data_cfg.max_eval_samples
        if limit is not None and limit < len(rows):
            rows = rows.sample(n=limit, random_state=seed).sort_index()
        parts.append(rows)
    return pd.concat(parts)


def _report_skipped(skipped, chosen, splits, run_dir: Path, is_zero: bool) -> None:
    for split, frame in splits.items():
        if frame.empty:
            raise UserError(f"every {split} utterance was skipped ({len(skipped)} in all); see the reasons in "
                            f"{run_dir / 'skipped.csv'}" + moved_corpus_hint(skipped, "data.corpus_root=DIR"))
    if is_zero:
        with atomic_open(run_dir / "skipped.csv", "w", encoding="utf-8", newline="") as handle:
            skipped.to_csv(handle, index=False)
        if len(skipped):
            reasons = skipped["reason"].value_counts().to_dict()
            print(f"stage 1: skipped {len(skipped)} of {len(chosen)} utterances {reasons}; listed in {run_dir / 'skipped.csv'}", file=sys.stderr)


def _use_tiny_preset(cfg: Stage1Config, table: pd.DataFrame, run_dir: Path) -> None:
    """Build the tiny encoders (from the train transcripts) for every encoder named `tiny`."""
    from feature_extractor.encoders.tiny_preset import build_tiny_preset

    if cfg.model.audio.name == TINY and cfg.model.audio.kind != "hf":
        raise UserError(f"model.audio.name=tiny is a wav2vec2 model; it needs model.audio.kind=hf, not {cfg.model.audio.kind!r}")
    out_dir = cfg.tiny_preset.out_dir or str(run_dir / "tiny_models")
    train_texts = table.loc[table["split"] == "train", "text"]
    folders = build_tiny_preset(train_texts, out_dir, seed=cfg.seed, cfg=cfg.tiny_preset)
    if cfg.model.text.name == TINY:
        cfg.model.text.name = folders["text"]
    if cfg.model.audio.name == TINY:
        cfg.model.audio.name = folders["audio"]


def _acoustic_cache(cfg: Stage1Config, run_dir: Path) -> AcousticFeatureCache:
    return AcousticFeatureCache(cfg.data.feature_cache or run_dir / "acoustic_cache", AcousticFeatureConfig())


def _prepare_run_dir(cfg: Stage1Config, is_zero: bool) -> Path:
    if not is_zero:  # rank 0 checked (and cleared, with overwrite=true) the folder
        return Path(cfg.run_dir)
    return prepare_run_dir(cfg.run_dir, resume=cfg.resume, overwrite=cfg.overwrite, produced=RUN_FILES,
                           resume_from=LAST_CHECKPOINT)


# -- the export's description --------------------------------------------------------------------
def export_spec(cfg: Stage1Config, model: AudioTextExtractor, inputs: Stage1Inputs, provenance: dict) -> dict:
    return {
        "label_names": list(inputs.label_names),
        "model": to_dict(cfg.model),
        "encoder_architectures": encoder_architectures(model),
        "physio": dataclasses.asdict(inputs.physio),
        "inputs": {
            "audio_kind": inputs.audio_kind,
            "use_text": model.text_encoder is not None,
            "max_audio_seconds": cfg.data.max_audio_seconds,
            "eval_crop": cfg.data.eval_crop,
            "max_tokens": cfg.model.text.max_tokens,
            "context_before": inputs.context.before,
            "context_after": inputs.context.after,
            "acoustic_features": dataclasses.asdict(AcousticFeatureConfig()) if inputs.audio_kind == "acoustic" else None,
            "frozen_dims": inputs.frozen_dims,
        },
        "split_provenance": split_record(inputs.splits, inputs.index),
        "provenance": provenance,
        "stage1_config": to_dict(cfg),
    }


def _device_name(cfg: Stage1Config) -> str:
    accelerator = str(cfg.trainer.accelerator)
    if accelerator in ("auto", "gpu", "cuda"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return accelerator


def _finish_tracking(logger, run_dir: Path) -> None:
    """End the Comet experiment now, so the offline archive is complete when train() returns."""
    experiment = getattr(logger, "experiment", None) if logger is not None else None
    if experiment is not None and hasattr(experiment, "end"):
        experiment.end()
        announce(run_dir)


def summary_line(summary: dict, run_dir: Path) -> str:
    dev = summary.get("best_dev", {})
    test = summary.get("test") or {}
    nan = float("nan")
    return (f"stage 1 done: {run_dir}: best epoch {summary.get('best_epoch')} | dev wF1 {100 * dev.get('weighted_f1', nan):.2f} "
            f"| test acc {100 * test.get('accuracy', nan):.2f} wF1 {100 * test.get('weighted_f1', nan):.2f} "
            f"mF1 {100 * test.get('macro_f1', nan):.2f}; export in {run_dir / 'export'}")


def train_from_args(argv) -> dict | None:
    """Parse the command line and train; the run's summary (None after --print-config)."""
    cfg, _ = parse_config_command(Stage1Config, __doc__, argv)
    return None if cfg is None else train(cfg)


def main(argv=None) -> int:
    """Console entry point: exit code 0, or 2 with one `error:` line for a user's mistake."""
    return run_command(train_from_args, argv)


if __name__ == "__main__":
    sys.exit(main())
