"""Predict the emotion of every utterance of a conversation with a stage-1 run and a stage-3 checkpoint.

    kemdy-predict --stage1 RUN_DIR --stage3 CKPT_DIR --conversation FOLDER --out predictions.csv
    kemdy-predict --stage1 RUN_DIR --stage3 CKPT_DIR --corpus KEMDY_TREE \
        --dialogue Sess19_impro01 --out predictions.csv

The conversation (a folder with a conversation.csv manifest, see conversation_folder.py, or one
dialogue of a KEMDy tree) becomes an utterance table; stage 2's own code turns it into features
(features_for_table in extract.py) and the stage-3 model gives each utterance its class
probabilities. Writes the predictions CSV, `<out>.skipped.csv` and `<out>.config.json`, atomically.
An utterance that cannot be used (unreadable audio, empty text, missing file) would leave a hole
that shifts the context of every later one, so the command refuses unless --allow-skips.
Details and the output columns: docs/predict.md."""

import argparse
import contextlib
import dataclasses
import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch

from cgnn.checkpoint import CheckpointMismatchError, Stage3Checkpoint, load_checkpoint
from cgnn.conversation_pickle import config_path, resolve_modality
from cgnn.predict_core import predict_dialogue
from erc_core.cli import add_common_flags, quiet_libraries, run_command
from erc_core.device import choose_device
from erc_core.errors import UserError
from erc_core.files import atomic_open, write_json
from feature_extractor.corpus import SplitConfig, build_index
from feature_extractor.export import export_dir_of, load_export, read_export_spec
from feature_extractor.extraction.conversation_folder import (
    MANIFEST_NAME,
    PREDICT_SPLIT,
    UNLABELLED,
    conversation_table,
)
from feature_extractor.extraction.extract import (
    acoustic_cache,
    assemble_dialogues,
    features_for_table,
    skipped_path,
    write_skipped,
)
from feature_extractor.extractor import head_modalities
from feature_extractor.inputs.physio_vector import PHYSIO_DIM

PREDICTIONS_FORMAT = "kemdy-erc-predictions"
PREDICTIONS_VERSION = 1
SKIPPED_COLUMNS = ["segment_id", "file", "reason", "detail"]
LISTED_SKIPS = 10


@dataclasses.dataclass
class PredictOptions:
    stage1: str                       # stage-1 run folder (or its export/)
    stage3: str                       # stage-3 checkpoint folder
    out: str                          # predictions CSV
    conversation: str | None = None   # a folder with conversation.csv ...
    corpus: str | None = None         # ... or a KEMDy tree and
    dialogue: str | None = None       # one of its dialogues
    dataset: str | None = None        # KEMDy19 / KEMDy20 (None: recognised from the tree)
    allow_skips: bool = False         # predict the usable utterances of a conversation with holes
    allow_other_stage1: bool = False  # run although stage 3 was trained on another stage-1 model's features
    device: str = "auto"
    batch_size: int = 16
    num_workers: int = 0
    threads: int | None = None
    feature_cache: str | None = None  # acoustic frame features (default: a temporary folder)
    progress: bool = True


@dataclasses.dataclass
class Conversation:
    table: pd.DataFrame     # utterance table in conversation order
    skipped: pd.DataFrame   # utterances already left out while reading the input (SKIPPED_COLUMNS)
    dialogue_id: str
    source: str             # what error messages call the input
    has_gold: bool


class SkippedUtterancesError(ValueError):
    """Some utterances of the conversation cannot be used, and holes were not allowed."""


def main(argv=None) -> int:
    """Console entry point: exit code 0, or 2 with one `error:` line for a user's mistake."""
    return run_command(lambda arguments: predict(parse_args(arguments)), argv)


def parse_args(argv=None) -> PredictOptions:
    parser = argparse.ArgumentParser(description="Per-utterance emotions of a conversation (docs/predict.md).")
    parser.add_argument("--stage1", required=True, help="stage-1 run folder (or its export/ folder)")
    parser.add_argument("--stage3", required=True, help="stage-3 checkpoint folder (model.safetensors + config.json)")
    parser.add_argument("--out", required=True, help="predictions CSV to write")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--conversation", help="folder with wav (+ txt) files and a conversation.csv manifest")
    source.add_argument("--corpus", help="KEMDy19 / KEMDy20 tree; needs --dialogue")
    parser.add_argument("--dialogue", help="dialogue id in --corpus, e.g. Sess19_impro01")
    parser.add_argument("--dataset", choices=("KEMDy19", "KEMDy20"), help="corpus kind (default: recognised)")
    parser.add_argument("--allow-skips", action="store_true", help="predict the rest when some utterances are unusable")
    parser.add_argument("--allow-other-stage1", action="store_true",
                        help="run although the stage-3 model was trained on features of different stage-1 weights")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--feature-cache", help="acoustic frame-feature cache (default: a temporary folder)")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    add_common_flags(parser)
    values = vars(parser.parse_args(argv))
    quiet_libraries(values.pop("verbose"))
    values.pop("debug")
    return PredictOptions(**values)


def predict(options: PredictOptions) -> dict:
    _check_input_choice(options)
    if options.threads:
        torch.set_num_threads(options.threads)
    device = choose_device(options.device)
    stage1_dir, spec = export_dir_of(options.stage1), read_export_spec(options.stage1)
    stage3 = load_checkpoint(options.stage3, device)
    check_stage3_fits(stage3, spec, exported_features(spec), stage1_dir, options.allow_other_stage1)
    conversation = load_conversation(options, spec, stage3)
    check_speaker_count(conversation, stage3)
    model, spec = load_export(options.stage1, device)
    with _feature_cache(options, spec) as cache:
        kept, skipped, features = features_for_table(
            model, spec, conversation.table, conversation.source, device, options.batch_size,
            options.num_workers, cache, options.progress and sys.stderr.isatty(),
        )
    widths = {name: len(vector) for name, vector in next(iter(features.values())).items()}
    check_stage3_fits(stage3, spec, widths, stage1_dir, allow_other_stage1=True)  # provenance checked above
    skipped = pd.concat([frame for frame in (conversation.skipped, skipped) if len(frame)] or [skipped], ignore_index=True)
    write_skipped(skipped, skipped_path(options.out))
    refuse_holes(skipped, options.allow_skips, conversation.source, skipped_path(options.out))
    [dialogue] = assemble_dialogues(kept, features, spec["label_names"], conversation.source)
    probabilities = predict_dialogue(stage3, dialogue, device)
    frame = prediction_frame(kept, dialogue["segment_ids"], probabilities, stage3.label_names, conversation.has_gold)
    write_predictions(frame, options.out)
    summary = _summary(frame, conversation, skipped, options)
    write_json(config_path(options.out), _output_config(options, spec, stage3, conversation, summary, device))
    _print_summary(summary)
    return summary


def _check_input_choice(options: PredictOptions) -> None:
    if (options.conversation is None) == (options.corpus is None):
        raise UserError("give either --conversation FOLDER or --corpus TREE --dialogue ID")
    if options.corpus is not None and not options.dialogue:
        raise UserError(f"--corpus {options.corpus}: say which dialogue to predict with --dialogue (e.g. Sess19_impro01)")
    if options.conversation is not None and (options.dialogue or options.dataset):
        raise UserError("--dialogue and --dataset go with --corpus, not with --conversation")


# -- does the stage-3 model fit the stage-1 export? -----------------------------------------------------
def exported_features(spec: dict) -> dict:
    """The features stage 2 exports for this stage-1 model, by name, with the widths known from its
    spec (`p`); the others (None) are measured on the extracted features and checked then."""
    modalities = head_modalities(spec["model"]["head"])
    encoders = {name: None for name in ("t", "a") if name in modalities}
    return {**encoders, "fused": None, "p": PHYSIO_DIM}


def check_stage3_fits(stage3: Stage3Checkpoint, spec: dict, widths: dict, stage1_dir, allow_other_stage1: bool) -> None:
    """Same classes, features of this very stage-1 model (when the checkpoint records it), and the
    features and widths the stage-3 modality reads. A width of None is not known yet and not compared."""
    pair = f"stage-3 checkpoint {stage3.path} / stage-1 export {stage1_dir}"
    if list(stage3.label_names) != list(spec["label_names"]):
        raise CheckpointMismatchError(
            f"{pair}: classes differ: stage 3 {list(stage3.label_names)}, stage 1 {list(spec['label_names'])}")
    if not allow_other_stage1:
        _check_stage1_provenance(stage3, spec, pair)
    try:
        names = resolve_modality(stage3.modality, widths)
    except ValueError:
        raise CheckpointMismatchError(
            f"{pair}: stage 3 reads modality {stage3.modality!r} (features {', '.join(stage3.feature_dims)}), "
            f"but the stage-1 export produces {', '.join(widths)}") from None
    differ = [f"{name}: stage 3 expects {stage3.feature_dims.get(name)}, stage 1 gives {widths[name]}"
              for name in names if widths[name] is not None and widths[name] != stage3.feature_dims.get(name)]
    if differ:
        raise CheckpointMismatchError(f"{pair}: feature widths of modality {stage3.modality!r} differ ({'; '.join(differ)})")


def _check_stage1_provenance(stage3: Stage3Checkpoint, spec: dict, pair: str) -> None:
    """The stage-3 checkpoint records the stage-1 weights that made its training pickle; features
    of other weights (even of the same shape) mean nothing to it."""
    data = stage3.info.get("data") or {}
    producer = data.get("pickle_config") or {}
    trained_on = producer.get("checkpoint_weights_sha256")
    if trained_on is None:
        print(f"warning: {stage3.path} does not record which stage-1 weights made its training features "
              "(an imported pickle?); only classes and feature widths are checked", file=sys.stderr)
    elif trained_on != spec["weights_sha256"]:
        raise CheckpointMismatchError(
            f"{pair}: stage 3 was trained on features of stage-1 weights {trained_on[:12]} "
            f"({producer.get('checkpoint', 'path not recorded')}), this export holds weights {spec['weights_sha256'][:12]}; "
            "features of another stage-1 model mean nothing to it (--allow-other-stage1 runs anyway)")


def check_speaker_count(conversation: Conversation, stage3: Stage3Checkpoint) -> None:
    speakers = list(dict.fromkeys(conversation.table["speaker"]))
    if len(speakers) > stage3.num_speakers:
        raise CheckpointMismatchError(
            f"{conversation.source}: {len(speakers)} speakers ({', '.join(speakers)}); the stage-3 model "
            f"{stage3.path} handles at most {stage3.num_speakers}")


# -- the conversation as an utterance table -----------------------------------------------------------
def load_conversation(options: PredictOptions, spec: dict, stage3: Stage3Checkpoint) -> Conversation:
    needs_physio = bool(spec["model"]["use_physio"]) or "p" in stage3.feature_dims
    if options.corpus is not None:
        return corpus_conversation(options.corpus, options.dialogue, options.dataset, physio=needs_physio)
    if needs_physio:
        print("warning: the models read physiological signals, which a conversation folder does not have; "
              "every utterance gets the 'not covered' vector p", file=sys.stderr)
    table = conversation_table(options.conversation, need_text=spec["inputs"]["use_text"])
    return Conversation(table, pd.DataFrame(columns=SKIPPED_COLUMNS), str(table["dialogue_id"].iloc[0]),
                        source=str(Path(options.conversation) / MANIFEST_NAME), has_gold=False)


def corpus_conversation(corpus, dialogue_id: str, dataset: str | None = None, physio: bool = True) -> Conversation:
    """One dialogue of a KEMDy tree, every utterance kept: ties take their first listed emotion
    (tie policy `first`), and no split is asked of the tree (a tree with only some sessions works;
    the split has no meaning for prediction). Gold emotions stay in `emotion` / `emotion_raw`."""
    result = build_index(corpus, dataset=dataset, tie_policy="first",
                         split=SplitConfig(test_sessions=[], dev_sessions=[]), physio=physio)
    frame = result.frame
    skipped = result.skipped[result.skipped["segment_id"].str.startswith(f"{dialogue_id}_")]
    skipped = skipped.assign(detail=skipped["file"])[SKIPPED_COLUMNS]
    rows = frame[frame["dialogue_id"] == dialogue_id]
    if rows.empty:
        if len(skipped):
            raise ValueError(f"{result.corpus_root}: every segment of dialogue {dialogue_id!r} was left out: "
                             f"{_listing(skipped)}")
        known = sorted(frame["dialogue_id"].unique())
        raise ValueError(f"{result.corpus_root}: no dialogue {dialogue_id!r}; the tree has {len(known)}: "
                         f"{', '.join(known[:8])}{' ...' if len(known) > 8 else ''}")
    table = rows.copy()
    table["wav_file"] = [str(result.corpus_root / path) for path in table["wav_path"]]
    table["label"] = UNLABELLED  # gold is reported from `emotion`; stage 3 needs no label ids
    table["split"] = PREDICT_SPLIT
    return Conversation(table.reset_index(drop=True), skipped.reset_index(drop=True), dialogue_id,
                        source=f"{result.corpus_root} dialogue {dialogue_id}", has_gold=True)


@contextlib.contextmanager
def _feature_cache(options: PredictOptions, spec: dict):
    """Acoustic frame features go to a temporary folder unless one is named: the run's own cache is
    keyed by segment id and file size, which a new conversation's file names could collide with."""
    if spec["inputs"]["audio_kind"] != "acoustic":
        yield None
    elif options.feature_cache:
        yield acoustic_cache(options.stage1, spec, options.feature_cache)
    else:
        with tempfile.TemporaryDirectory(prefix="predict_acoustic_") as folder:
            yield acoustic_cache(options.stage1, spec, folder)


def refuse_holes(skipped: pd.DataFrame, allow_skips: bool, source: str, report: Path) -> None:
    if skipped.empty:
        return
    message = (f"{source}: {len(skipped)} utterance(s) cannot be used: {_listing(skipped)} "
               f"(all listed in {report})")
    if not allow_skips:
        raise SkippedUtterancesError(
            f"{message}; a conversation with holes shifts the context of every later utterance, so "
            "nothing was predicted. Fix the input, or pass --allow-skips to predict the others")
    print(f"warning: {message}; predicting the others (--allow-skips)", file=sys.stderr)


def _listing(skipped: pd.DataFrame) -> str:
    items = [f"{row.segment_id} ({row.reason}{': ' + str(row.detail) if row.detail else ''})"
             for row in skipped.head(LISTED_SKIPS).itertuples()]
    more = f" and {len(skipped) - LISTED_SKIPS} more" if len(skipped) > LISTED_SKIPS else ""
    return "; ".join(items) + more


# -- output ---------------------------------------------------------------------------------------------
def prediction_frame(kept: pd.DataFrame, segment_ids, probabilities, label_names, has_gold: bool) -> pd.DataFrame:
    """One row per predicted utterance in conversation order; table rows are found by segment id."""
    rows = kept.set_index("segment_id").loc[list(segment_ids)]
    frame = pd.DataFrame({"turn": rows["turn"].to_numpy()})
    if "order" in rows.columns:
        frame["order"] = rows["order"].to_numpy()
    frame["segment_id"] = list(segment_ids)
    frame["speaker"] = rows["speaker"].to_numpy()
    frame["text"] = rows["text"].to_numpy()
    if has_gold:
        frame["gold"] = rows["emotion"].to_numpy()
        frame["gold_raw"] = rows["emotion_raw"].to_numpy()
    frame["predicted"] = [label_names[i] for i in probabilities.argmax(axis=1)]
    for column, name in enumerate(label_names):
        frame[f"prob_{name}"] = probabilities[:, column]
    return frame


def write_predictions(frame: pd.DataFrame, out) -> None:
    with atomic_open(out, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, float_format="%.6f", lineterminator="\n")


def _summary(frame: pd.DataFrame, conversation: Conversation, skipped: pd.DataFrame, options: PredictOptions) -> dict:
    counts = {name: int(count) for name, count in frame["predicted"].value_counts().items()}
    summary = {"out": str(options.out), "dialogue_id": conversation.dialogue_id, "utterances": len(frame),
               "skipped": len(skipped), "predicted": counts}
    if conversation.has_gold:
        summary["correct"] = int((frame["gold"] == frame["predicted"]).sum())
    return summary


def _output_config(options, spec, stage3: Stage3Checkpoint, conversation: Conversation, summary: dict, device) -> dict:
    return {
        "format": PREDICTIONS_FORMAT,
        "version": PREDICTIONS_VERSION,
        "input": {"conversation": options.conversation, "corpus": options.corpus, "dialogue_id": conversation.dialogue_id,
                  "tie_policy": "first" if options.corpus else None},
        "stage1": {"export": str(export_dir_of(options.stage1)), "weights_sha256": spec["weights_sha256"],
                   "epoch": spec.get("epoch")},
        "stage3": {"checkpoint": str(stage3.path), "weights_sha256": stage3.info["weights_sha256"],
                   "modality": stage3.modality, "label_names": list(stage3.label_names)},
        "options": dataclasses.asdict(options),
        "device": str(device),
        "skipped_file": str(skipped_path(options.out)),
        **summary,
    }


def _print_summary(summary: dict) -> None:
    line = f"predicted {summary['utterances']} utterances of {summary['dialogue_id']} -> {summary['out']}"
    if "correct" in summary:
        line += f"; {summary['correct']}/{summary['utterances']} agree with the corpus labels"
    if summary["skipped"]:
        line += f"; {summary['skipped']} skipped"
    print(line)


if __name__ == "__main__":
    sys.exit(main())
