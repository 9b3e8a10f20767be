"""Stage 2: run a stage-1 export over every utterance of an index -> the conversation pickle.

    kemdy-extract --checkpoint RUN_DIR --index INDEX_DIR --out work/features.pkl
    torchrun --nproc-per-node 4 -m feature_extractor.extraction.extract --checkpoint ... (sharded, same pickle)

Per utterance it exports `t` (pooled text), `a` (pooled audio), `fused` (the head's
pre-classifier vector) and `p` (physio: train-standardised summaries, NaN -> 0, plus the four
coverage flags; see physio_vector.py). Features are keyed by segment id and placed into dialogues
(chronological by `turn`) from the index, never by batch position. Utterances with unreadable
audio are listed in `<out>.skipped.csv` with reasons and counted; an empty transcript is an empty
text input.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from cgnn.conversation_pickle import write_conversations
from erc_core.cli import quiet_libraries, run_command
from erc_core.errors import UserError
from erc_core.files import atomic_open
from erc_core.heap import release_free_heap
from erc_core.progress import ProgressSetting, progress_mode
from erc_core.progress import progress as show_progress
from erc_core.provenance import run_provenance
from feature_extractor.encoders.acoustic import AcousticFeatureCache, AcousticFeatureConfig
from feature_extractor.export import Stage1Export, load_export
from feature_extractor.extraction.arguments import extract_parser
from feature_extractor.extraction.distributed import DistributedContext
from feature_extractor.inputs.batching import LengthBucketBatchSampler
from feature_extractor.inputs.collate import Collator
from feature_extractor.inputs.dataset import UtteranceDataset, moved_corpus_hint, scan_utterances, soft_columns_of
from feature_extractor.inputs.dialogue_context import ContextWindow, with_dialogue_context
from feature_extractor.inputs.frozen_vectors import frozen_vectors
from feature_extractor.inputs.index_table import check_labels, index_label_names, load_index_table
from feature_extractor.inputs.physio_vector import PhysioStandardizer
from feature_extractor.inputs.split_provenance import check_no_training_overlap, index_sha256

STAGE2_VERSION = 1


def extract_from_args(argv) -> dict:
    return extract(parse_args(argv))


def main(argv=None) -> int:
    """Console entry point: exit code 0, or 2 with one `error:` line for a user's mistake."""
    return run_command(extract_from_args, argv)


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments of kemdy-extract (the parser: extraction/arguments.py, which imports no torch)."""
    args = extract_parser().parse_args(argv)
    quiet_libraries(args.verbose)
    return args


def progress_of(args, world) -> ProgressSetting | str:
    """`--progress` / `--progress-every` on rank 0; the other ranks stay silent."""
    return ProgressSetting(progress_mode(args.progress), args.progress_every) if world.is_zero else "off"


def extract(args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    world = DistributedContext.from_environment(args.device)  # the device is set before any collective
    device = world.device
    model, export = load_export(args.checkpoint, device=device)
    check_expectations(export, args.expect)
    shown = progress_of(args, world)
    kept, skipped, physio, dataset = prepare_utterances(args, export, progress=shown)
    overlap = check_no_training_overlap(export.split_provenance, kept, f"{args.index}/index.csv",
                                        export.folder, allow=args.allow_train_overlap)
    features = extract_features(
        model, dataset, Collator(model.tokenizer, export.inputs.max_tokens), args.batch_size, args.num_workers,
        device, world, progress=shown, precision=args.precision,
    )
    merged = world.merge(features)
    world.close()
    if not world.is_zero:
        return {}
    add_physio(merged, kept, physio)
    dialogues = assemble_dialogues(kept, merged, export.label_names, source=args.index)
    config = stage2_config(args, export, n_skipped=len(skipped), n_utterances=len(kept), world_size=world.size)
    config["provenance"] = {"stage1_splits": export.split_provenance, "stage1_run": export.provenance,
                            "index_sha256": index_sha256(args.index), "train_overlap_check": overlap,
                            "run": run_provenance(device=device)}
    write_skipped(skipped, skipped_path(args.out))
    written = write_conversations(args.out, dialogues, export.label_names, config)
    _print_summary(args.out, written, skipped)
    return {"dialogues": len(dialogues), "utterances": len(kept), "skipped": len(skipped), "feature_dims": written.feature_dims}


def prepare_utterances(args, export: Stage1Export, progress=False):
    """Index rows checked against the checkpoint, unusable ones set aside, the physio matrix and
    the dataset of the kept rows: (kept, skipped, physio, dataset)."""
    table = load_index_table(args.index, args.corpus_root)
    check_index_classes(index_label_names(args.index), export.label_names, args.index, export.folder)
    check_labels(table, export.label_names, args.index, allow_unlabelled=True)
    cache = acoustic_cache(export, args.feature_cache) if export.inputs.audio_kind == "acoustic" else None
    frozen_root = args.frozen_cache or Path(args.index) / "frozen_cache"  # stage 1's default: its vectors are reused
    return prepare_table(table, export, args.index, cache, progress, args.num_workers, frozen_root)


def check_index_classes(index_labels, model_labels, index, checkpoint) -> None:
    """An index of another label set cannot be read by this model, even where the ids fit."""
    if list(index_labels) != list(model_labels):
        raise UserError(f"{index}: the index's classes {list(index_labels)} are not those of {checkpoint} "
                        f"{list(model_labels)}; extract with a stage-1 model trained on this corpus's index")


def prepare_table(table: pd.DataFrame, export: Stage1Export, source, cache=None, progress=False, workers: int = 0,
                  frozen_root=None):
    """`prepare_utterances` for an utterance table already in memory (index columns + `wav_file`);
    `frozen_root`: the cache of frozen encoders' vectors, when the model has such encoders."""
    inputs = export.inputs
    if inputs.use_text:
        table = with_dialogue_context(table, ContextWindow.of_export(export))
    kept, skipped = scan_utterances(
        table, use_text=inputs.use_text, audio_kind=inputs.audio_kind, acoustic_cache=cache,
        progress=progress, workers=workers,
    )
    if kept.empty:
        reasons = skipped["reason"].value_counts().to_dict()
        raise UserError(f"{source}: every utterance was skipped ({len(skipped)}: {reasons}); nothing to extract"
                        + moved_corpus_hint(skipped, "--corpus-root DIR (kemdy-extract) or --audio-root DIR (kemdy-predict --table)"))
    physio = PhysioStandardizer(**export.physio).transform(kept, source=source)
    frozen = frozen_vectors(kept, export.model_config, export.modalities, frozen_root, progress)
    dataset = UtteranceDataset(
        kept, use_text=inputs.use_text, audio_kind=inputs.audio_kind,
        max_audio_seconds=inputs.max_audio_seconds, crop_mode=inputs.eval_crop,
        physio=physio if export.model_config.use_physio else None, acoustic_cache=cache, frozen=frozen,
    )
    return kept, skipped, physio, dataset


def add_physio(features: dict, kept: pd.DataFrame, physio: np.ndarray) -> None:
    """Put each kept row's physio vector (rows of `physio` follow `kept`) under its segment id."""
    for row, segment_id in enumerate(kept["segment_id"]):
        features[segment_id]["p"] = physio[row]


def features_for_table(model, export: Stage1Export, table: pd.DataFrame, source, device, batch_size: int = 16,
                       num_workers: int = 0, cache=None, progress=False, frozen_root=None):
    """Stage 2 in one process for an in-memory utterance table (the predict command):
    (kept rows, skipped rows, {segment_id: {'t', 'a', 'fused', 'p'}})."""
    kept, skipped, physio, dataset = prepare_table(table, export, source, cache, progress, num_workers, frozen_root)
    collator = Collator(model.tokenizer, export.inputs.max_tokens)
    features = extract_features(model, dataset, collator, batch_size, num_workers, device, DistributedContext(), progress)
    add_physio(features, kept, physio)
    return kept, skipped, features


# -- inference ------------------------------------------------------------------------------------
def extract_features(model, dataset, collator, batch_size, num_workers, device, world, progress=False,
                     precision: str = "auto") -> dict:
    """{segment_id: {'t', 'a', 'fused': float32 vectors}} for this rank's length-sorted shard.
    An audio encoder whose output depends on batch padding gets only equal-length batches.
    `progress`: a `progress=` value of erc_core.progress (True / False, a mode, a ProgressSetting)."""
    sampler = LengthBucketBatchSampler(
        dataset.lengths(), batch_size, shuffle=False, num_replicas=world.size, rank=world.rank,
        equal_lengths=not model.batch_padding_invariant,
    )
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collator, num_workers=num_workers, pin_memory=device.type == "cuda")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision != "32" and _bf16_ok(device))
    features = {}
    model.eval()
    with torch.inference_mode(), autocast:
        for batch in show_progress(loader, desc="stage 2 features", mode=progress):
            batch = move_to(batch, device)
            output, encoded = model(batch)
            vectors = {"t": encoded.text_pooled, "a": encoded.audio_pooled, "fused": output.fused}
            vectors = {name: value.float().cpu().numpy() for name, value in vectors.items() if value is not None}
            for row, segment_id in enumerate(batch["segment_ids"]):
                features[segment_id] = {name: value[row] for name, value in vectors.items()}
            del batch, output, encoded
            release_free_heap()  # else the heap grows with the number of batch shapes seen
    return features


def move_to(batch: dict, device: torch.device) -> dict:
    return {key: value.to(device, non_blocking=True) if torch.is_tensor(value) else value for key, value in batch.items()}


def _bf16_ok(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


# -- assembling the pickle ----------------------------------------------------------------------------
def assemble_dialogues(table: pd.DataFrame, features: dict, label_names, source: str) -> list[dict]:
    """Dialogues sorted by (session, dialogue_id), utterances by `turn`; each utterance's features
    looked up by its segment id."""
    missing = [segment for segment in table["segment_id"] if segment not in features]
    if missing:
        raise ValueError(f"{source}: no features were produced for {len(missing)} utterance(s), e.g. {missing[:3]}")
    soft = soft_columns_of(table)
    if soft and [column.removeprefix("soft_") for column in soft] != list(label_names):
        raise ValueError(f"{source}: soft-label columns {list(soft)} do not follow the classes {list(label_names)}")
    order = [name for name in ("session", "dialogue_id", "turn") if name in table.columns]
    table = table.sort_values(order, kind="stable")  # the index's own order, whatever the file order
    dialogues = []
    for dialogue_id, rows in table.groupby("dialogue_id", sort=False):
        rows = rows.sort_values("turn", kind="stable")
        _check_dialogue_rows(rows, dialogue_id, source)
        segments = rows["segment_id"].tolist()
        names = list(features[segments[0]])
        dialogue = {
            "dialogue_id": str(dialogue_id),
            "split": str(rows["split"].iloc[0]),
            "segment_ids": segments,
            "speakers": rows["speaker"].astype(str).tolist(),
            "labels": rows["label"].to_numpy(dtype=np.int64, copy=True),  # writable: torch warns on read-only views
            "valence": rows["valence"].to_numpy(dtype=np.float32),
            "arousal": rows["arousal"].to_numpy(dtype=np.float32),
            "features": {name: np.stack([features[s][name] for s in segments]).astype(np.float32) for name in names},
        }
        if soft:
            dialogue["soft_labels"] = np.nan_to_num(rows[list(soft)].to_numpy(dtype=np.float32), nan=0.0)
        dialogues.append(dialogue)
    return dialogues


def _check_dialogue_rows(rows: pd.DataFrame, dialogue_id, source: str) -> None:
    splits = rows["split"].unique()
    if len(splits) != 1:
        raise ValueError(f"{source}: dialogue {dialogue_id} spans splits {sorted(splits)}; a dialogue must lie in one split")
    repeated = rows["turn"][rows["turn"].duplicated()].tolist()
    if repeated:
        raise ValueError(f"{source}: dialogue {dialogue_id} repeats turn(s) {repeated}; turns order the utterances")


def check_expectations(export: Stage1Export, expectations) -> None:
    """Each `key=value` must match the checkpoint's stage-1 config (e.g. model.audio.name)."""
    import yaml

    for item in expectations or ():
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"expectation {item!r}: expected key=value")
        node = export.stage1_config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ValueError(f"{export.folder}: the stage-1 config has no setting {key!r}")
            node = node[part]
        wanted = yaml.safe_load(raw)
        if node != wanted:
            raise ValueError(f"{export.folder}: checkpoint was trained with {key}={node!r}, but {wanted!r} is being asked for")


def stage2_config(args, export: Stage1Export, n_skipped: int, n_utterances: int, world_size: int) -> dict:
    return {
        "stage": 2,
        "stage2_version": STAGE2_VERSION,
        "checkpoint": str(export.folder),
        "checkpoint_epoch": export.epoch,
        "checkpoint_weights_sha256": export.weights_sha256,
        "index": str(args.index),
        "corpus_root": args.corpus_root,
        "batch_size": args.batch_size,
        "world_size": world_size,
        "utterances": n_utterances,
        "skipped": n_skipped,
        "skipped_file": str(skipped_path(args.out)),
        "physio": "p = train-standardised {ecg,eda,temp,ibi}_{mean,std,slope}, NaN -> 0, then has_{ecg,eda,temp,ibi} as 0/1",
        "inputs": export.spec["inputs"],
        "stage1_model": export.spec["model"],
    }


def skipped_path(out) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".skipped.csv")


def write_skipped(skipped: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        skipped.to_csv(handle, index=False)


def acoustic_cache(export: Stage1Export, root=None) -> AcousticFeatureCache:
    """The frame-feature cache at `root`, by default the run's own `<run_dir>/acoustic_cache`."""
    root = root or export.folder.parent / "acoustic_cache"
    return AcousticFeatureCache(root, AcousticFeatureConfig(**export.inputs.acoustic_features))


def _print_summary(out, written, skipped: pd.DataFrame) -> None:
    n = sum(len(d["segment_ids"]) for d in written.dialogues)
    reasons = skipped["reason"].value_counts().to_dict() if len(skipped) else {}
    print(f"stage 2: {n} utterances in {len(written.dialogues)} dialogues -> {out}; feature dims {written.feature_dims}")
    if len(skipped):
        print(f"stage 2: skipped {len(skipped)} utterance(s) {reasons}, listed in {skipped_path(out)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
