"""Predict the emotion of every utterance of a conversation with a stage-1 run and a stage-3 checkpoint.

    kemdy-predict --stage1 RUN_DIR --stage3 CKPT_DIR --conversation FOLDER --out predictions.csv
    kemdy-predict --stage1 RUN_DIR --stage3 CKPT_DIR --corpus KEMDY_TREE \
        --dialogue Sess19_impro01 --out predictions.csv

The conversation (a folder with a conversation.csv manifest, see conversation_folder.py, or one
dialogue of a KEMDy tree) becomes an utterance table, which the EmotionRecognizer of
recognizer.py (the object Python users load) turns into class probabilities through stage 2's
and stage 3's own code. Writes the predictions CSV, `<out>.skipped.csv` and `<out>.config.json`,
atomically. With gold labels (tree form, or an `emotion` column in the manifest) it also reports
accuracy and weighted F1. An utterance that cannot be used (unreadable audio, a missing file) would
leave a hole that shifts the context of every later one, so the command refuses unless
--allow-skips. Details and the output columns: docs/predict.md."""

import dataclasses
import sys
from pathlib import Path

import pandas as pd
import torch

from cgnn.conversation_pickle import config_path
from erc_core.cli import quiet_libraries, run_command
from erc_core.errors import UserError
from erc_core.files import atomic_open, write_json
from erc_core.metrics import classification_metrics
from erc_core.report_page import write_report_page
from feature_extractor.corpus import SplitConfig, build_index
from feature_extractor.corpus.utterance_table import TableSpec, read_utterance_table
from feature_extractor.extraction.arguments import predict_parser
from feature_extractor.extraction.conversation_folder import (
    MANIFEST_NAME,
    PREDICT_SPLIT,
    UNLABELLED,
    conversation_table,
)
from feature_extractor.extraction.extract import skipped_path
from feature_extractor.extraction.recognizer import (  # noqa: F401 - SkippedUtterancesError: part of this module's API
    SKIPPED_COLUMNS,
    Conversation,
    EmotionRecognizer,
    Recognition,
    SkippedUtterancesError,
    skip_listing,
)

PREDICTIONS_FORMAT = "kemdy-erc-predictions"
PREDICTIONS_VERSION = 1


@dataclasses.dataclass
class PredictOptions:
    stage1: str                       # stage-1 run folder (or its export/)
    stage3: str                       # stage-3 checkpoint folder
    out: str                          # predictions CSV
    conversation: str | None = None   # a folder with conversation.csv ...
    corpus: str | None = None         # ... or a KEMDy tree and
    table: str | None = None          # ... or an utterance table and
    dialogue: str | None = None       # one of its dialogues
    columns: list = dataclasses.field(default_factory=list)  # --table: key=column names
    audio_root: str | None = None     # --table: folder its audio paths are relative to
    dataset: str | None = None        # KEMDy19 / KEMDy20 (None: recognised from the tree)
    allow_skips: bool = False         # predict the usable utterances of a conversation with holes
    allow_other_stage1: bool = False  # run although stage 3 was trained on another stage-1 model's features
    device: str = "auto"
    batch_size: int = 16
    num_workers: int = 0
    threads: int | None = None
    feature_cache: str | None = None  # acoustic frame features (default: a temporary folder)
    frozen_cache: str | None = None   # frozen encoders' vectors (default: a temporary folder)
    progress: bool = True


def main(argv=None) -> int:
    """Console entry point: exit code 0, or 2 with one `error:` line for a user's mistake."""
    return run_command(lambda arguments: predict(parse_args(arguments)), argv)


def parse_args(argv=None) -> PredictOptions:
    """The options of kemdy-predict (the parser: extraction/arguments.py, which imports no torch)."""
    values = vars(predict_parser().parse_args(argv))
    quiet_libraries(values.pop("verbose"))
    values.pop("debug")
    return PredictOptions(**values)


def predict(options: PredictOptions) -> dict:
    _check_input_choice(options)
    if options.threads:
        torch.set_num_threads(options.threads)
    recognizer = EmotionRecognizer.from_checkpoints(
        options.stage1, options.stage3, options.device, allow_other_stage1=options.allow_other_stage1,
        batch_size=options.batch_size, num_workers=options.num_workers, feature_cache=options.feature_cache,
        frozen_cache=options.frozen_cache,
        progress=options.progress and sys.stderr.isatty())
    conversation = load_conversation(options, recognizer)
    result = recognizer.predict_conversation(conversation, allow_skips=options.allow_skips,
                                             report=skipped_path(options.out))
    write_predictions(result.frame, options.out)
    write_report(result, conversation, recognizer, report_path(options.out))
    summary = _summary(result, conversation, options)
    write_json(config_path(options.out), _output_config(options, recognizer, conversation, summary))
    _print_summary(summary)
    return summary


def _check_input_choice(options: PredictOptions) -> None:
    if [options.conversation, options.corpus, options.table].count(None) != 2:
        raise UserError("give one of --conversation FOLDER, --corpus TREE --dialogue ID or --table FILE --dialogue ID")
    source = options.corpus or options.table
    if source is not None and not options.dialogue:
        raise UserError(f"{source}: say which dialogue to predict with --dialogue (e.g. Sess19_impro01)")
    if (options.columns or options.audio_root) and options.table is None:
        raise UserError("--columns and --audio-root go with --table")
    if options.conversation is not None and (options.dialogue or options.dataset):
        raise UserError("--dialogue and --dataset go with --corpus, not with --conversation")


# -- the conversation as an utterance table -----------------------------------------------------------
def load_conversation(options: PredictOptions, recognizer: EmotionRecognizer) -> Conversation:
    export, stage3 = recognizer.export, recognizer.stage3
    needs_physio = export.model_config.use_physio or "p" in stage3.feature_dims
    if options.corpus is not None:
        return corpus_conversation(options.corpus, options.dialogue, options.dataset, physio=needs_physio)
    if needs_physio:
        print("warning: the models read physiological signals, which a table or a conversation folder does not "
              "have; every utterance gets the 'not covered' vector p", file=sys.stderr)
    if options.table is not None:
        return table_conversation(options.table, options.dialogue, options.columns, recognizer.label_names,
                                  options.audio_root)
    table = conversation_table(options.conversation, need_text=export.inputs.use_text,
                               label_names=recognizer.label_names)
    return Conversation(table, pd.DataFrame(columns=SKIPPED_COLUMNS), str(table["dialogue_id"].iloc[0]),
                        source=str(Path(options.conversation) / MANIFEST_NAME),
                        has_gold=bool((table["emotion"] != "").any()))


def table_conversation(path, dialogue_id: str, columns, label_names, audio_root=None) -> Conversation:
    """One dialogue of an utterance table, read by the very reader of kemdy-index --table. The
    label column is optional; its labels must be the model's classes (one error line otherwise)."""
    spec = TableSpec.from_mapping(dict(item.split("=", 1) for item in columns), source="--columns")
    spec.labels = list(label_names)
    result = read_utterance_table(path, spec, audio_root=audio_root, label_optional=True)
    has_gold = result.options["spec"]["label"] is not None
    rows = result.frame[result.frame["dialogue_id"] == dialogue_id]
    if rows.empty:
        known = sorted(result.frame["dialogue_id"].unique())
        raise UserError(f"{path}: no dialogue {dialogue_id!r}; the table has {len(known)}: "
                        f"{', '.join(known[:8])}{' ...' if len(known) > 8 else ''}")
    table = rows.copy()
    table["wav_file"] = [str(result.corpus_root / p) if p else "" for p in table["wav_path"]]
    table["label"] = UNLABELLED  # gold is reported from `emotion`; stage 3 needs no label ids
    table["split"] = PREDICT_SPLIT
    skipped = result.skipped[result.skipped["segment_id"].str.startswith(f"{dialogue_id}_")]
    skipped = skipped.assign(detail=skipped["file"])[SKIPPED_COLUMNS]
    return Conversation(table.reset_index(drop=True), skipped, dialogue_id, source=f"{path} dialogue {dialogue_id}",
                        has_gold=has_gold)


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
                             f"{skip_listing(skipped)}")
        known = sorted(frame["dialogue_id"].unique())
        raise ValueError(f"{result.corpus_root}: no dialogue {dialogue_id!r}; the tree has {len(known)}: "
                         f"{', '.join(known[:8])}{' ...' if len(known) > 8 else ''}")
    table = rows.copy()
    table["wav_file"] = [str(result.corpus_root / path) for path in table["wav_path"]]
    table["label"] = UNLABELLED  # gold is reported from `emotion`; stage 3 needs no label ids
    table["split"] = PREDICT_SPLIT
    return Conversation(table.reset_index(drop=True), skipped.reset_index(drop=True), dialogue_id,
                        source=f"{result.corpus_root} dialogue {dialogue_id}", has_gold=True)


# -- output ---------------------------------------------------------------------------------------------
def write_predictions(frame: pd.DataFrame, out) -> None:
    with atomic_open(out, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, float_format="%.6f", lineterminator="\n")


def report_path(out) -> Path:
    """`<out>.report.html`, beside `<out>.config.json`."""
    return Path(out).with_name(Path(out).name + ".report.html")


def write_report(result: Recognition, conversation: Conversation, recognizer: EmotionRecognizer, path: Path) -> None:
    """The conversation as a timeline page (erc_core/report_page.py); gold labels where known."""
    frame = result.frame
    position = {name: i for i, name in enumerate(result.label_names)}
    gold = [position.get(name, UNLABELLED) for name in frame["gold"]] if "gold" in frame else [UNLABELLED] * len(frame)
    rows = list(zip([conversation.dialogue_id] * len(frame), frame["segment_id"], frame["speaker"].astype(str)))
    probabilities = frame[[f"prob_{name}" for name in result.label_names]].to_numpy()
    extra = {"checkpoint": str(recognizer.stage3.path), "modality": recognizer.stage3.modality,
             "data": conversation.source, "split": "predict"}
    write_report_page(path, f"{conversation.dialogue_id} (kemdy-predict)", result.label_names, rows, gold,
                      probabilities, frame["text"].astype(str).tolist(), extra=extra)


def _summary(result: Recognition, conversation: Conversation, options: PredictOptions) -> dict:
    frame = result.frame
    counts = {name: int(count) for name, count in frame["predicted"].value_counts().items()}
    summary = {"out": str(options.out), "dialogue_id": conversation.dialogue_id, "utterances": len(frame),
               "skipped": len(result.skipped), "predicted": counts}
    if conversation.has_gold:
        summary.update(evaluation(frame, result.label_names))
    return summary


def evaluation(frame: pd.DataFrame, label_names) -> dict:
    """Agreement with the gold column over the utterances that have a gold label (erc_core.metrics)."""
    position = {name: i for i, name in enumerate(label_names)}
    gold = [position.get(name, UNLABELLED) for name in frame["gold"]]
    predicted = [position[name] for name in frame["predicted"]]
    metrics = classification_metrics(gold, predicted, label_names)
    if metrics["n"] == 0:
        return {"labelled": 0}
    correct = sum(g == p for g, p in zip(gold, predicted))
    return {"labelled": metrics["n"], "correct": int(correct), "accuracy": metrics["accuracy"],
            "weighted_f1": metrics["weighted_f1"]}


def _output_config(options, recognizer: EmotionRecognizer, conversation: Conversation, summary: dict) -> dict:
    export, stage3 = recognizer.export, recognizer.stage3
    return {
        "format": PREDICTIONS_FORMAT,
        "version": PREDICTIONS_VERSION,
        "input": {"conversation": options.conversation, "corpus": options.corpus, "table": options.table,
                  "dialogue_id": conversation.dialogue_id,
                  "tie_policy": "first" if options.corpus else None},
        "stage1": {"export": str(export.folder), "weights_sha256": export.weights_sha256, "epoch": export.epoch},
        "stage3": {"checkpoint": str(stage3.path), "weights_sha256": stage3.info["weights_sha256"],
                   "modality": stage3.modality, "label_names": list(stage3.label_names)},
        "options": dataclasses.asdict(options),
        "device": str(recognizer.device),
        "skipped_file": str(skipped_path(options.out)),
        "report_file": str(report_path(options.out)),
        **summary,
    }


def _print_summary(summary: dict) -> None:
    line = f"predicted {summary['utterances']} utterances of {summary['dialogue_id']} -> {summary['out']}"
    if "accuracy" in summary:
        line += (f"; {summary['correct']}/{summary['labelled']} agree with the gold labels: "
                 f"acc {100 * summary['accuracy']:.2f} wF1 {100 * summary['weighted_f1']:.2f}")
    if summary["skipped"]:
        line += f"; {summary['skipped']} skipped"
    print(line)


if __name__ == "__main__":
    sys.exit(main())
