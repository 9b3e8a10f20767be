"""Evaluate a stage-3 checkpoint on one split of a conversation pickle.

    kemdy-stage3-eval --checkpoint model_checkpoints/demo_stage3_at --data data/demo_features.pkl --split test
    python -m cgnn.eval --checkpoint model_checkpoints/demo_stage3_at --data data/demo_features.pkl --out runs/eval/at

Writes, into --out (default runs/eval/<checkpoint name>_<split> under the current folder, never
inside the checkpoint): metrics.json, classification_report.txt, confusion_matrix.png and predictions.csv
(one row per utterance: dialogue, segment id, speaker, gold, predicted, one probability column per
class; erc_core/evaluation_report.py). Prints one summary line. Runs on CPU by default, whatever
device the checkpoint was trained on. A checkpoint / pickle mismatch (labels, features, widths,
speakers) is refused with a message."""

import os
import sys
from pathlib import Path

import numpy as np
import torch

from cgnn.arguments import eval_parser as build_parser  # the parser lives in a torch-free module
from cgnn.baseline_report import baseline_for, short_baseline
from cgnn.checkpoint import check_compatible, load_checkpoint
from cgnn.conversation_pickle import read_conversations
from cgnn.predict_core import logits_by_dialogue
from erc_core.cli import quiet_libraries, run_command
from erc_core.device import choose_device
from erc_core.errors import UserError
from erc_core.evaluation_report import write_evaluation
from erc_core.provenance import run_provenance
from erc_core.utterance_texts import texts_by_segment


def evaluate_checkpoint(checkpoint_dir, data_path, split="test", out=None, device="cpu",
                        batch_size=32, baseline=True, texts=None) -> dict:
    """`baseline`: add the context-free logistic regression on the same features and split
    (cgnn/baseline_report.py; dev and test only) as `context_free_baseline`. `texts`: a table of
    the utterances' text (erc_core/utterance_texts.py) for report.html."""
    checkpoint = load_checkpoint(checkpoint_dir, choose_device(device))
    data = read_conversations(data_path)
    check_compatible(checkpoint, data.label_names, data.feature_dims, source=str(data_path))
    dialogues = data.in_split(split)
    if not dialogues:
        raise UserError(f"{data_path}: no dialogues in split {split!r}")
    items = checkpoint.prepare(dialogues, source=str(data_path))
    device = next(checkpoint.model.parameters()).device
    probabilities = [torch.softmax(x, -1).numpy()
                     for x in logits_by_dialogue(checkpoint.model, items, batch_size, device)]

    gold = np.concatenate([item.labels.numpy() for item in items])
    rows = [(item.dialogue_id, segment, item.speakers[i]) for item in items for i, segment in enumerate(item.segment_ids)]
    out = Path(out) if out else default_out(checkpoint_dir, split)
    extra = {"checkpoint": str(checkpoint_dir), "data": str(data_path), "split": split,
             "modality": checkpoint.modality, "dialogues": len(items),
             "checkpoint_provenance": checkpoint.info.get("provenance"),
             "data_provenance": data.config.get("provenance"), "provenance": run_provenance(device=device)}
    if baseline and split in ("dev", "test"):  # None where the pickle has no labelled train / dev
        extra["context_free_baseline"] = baseline_for(data_path, checkpoint.modality, data)
    text_of = texts_by_segment(texts) if texts else None
    return write_evaluation(out, f"{Path(checkpoint_dir).name} / {split}", checkpoint.label_names, rows, gold,
                            np.concatenate(probabilities), extra,
                            texts=[text_of.get(segment) for _, segment, _ in rows] if text_of else None)


def default_out(checkpoint_dir, split) -> Path:
    """runs/eval/<checkpoint name>_<split> under the current folder (git ignores runs/ in the
    checkout): a shipped checkpoint stays as shipped."""
    return Path("runs", "eval", f"{checkpoint_name(checkpoint_dir)}_{split}")


def checkpoint_name(checkpoint_dir) -> str:
    """The folder's name as given (`.` and `..` spelled out; a symlink keeps its own name)."""
    return Path(os.path.abspath(checkpoint_dir)).name


def summary_line(name, result) -> str:
    """One line per checkpoint (run_eval.sh prints one each), the context-free baseline at its end."""
    if not result.get("n"):
        return f"{name} [{result['split']}]: {result['utterances']} utterances predicted, no gold labels"
    line = (f"{name} [{result['split']}] acc {100 * result['accuracy']:.2f}  "
            f"wF1 {100 * result['weighted_f1']:.2f}  mF1 {100 * result['macro_f1']:.2f}  "
            f"(n={result['n']})")
    baseline = result.get("context_free_baseline")
    return line + (f"  | {short_baseline(baseline, result, result['split'])}" if baseline else "")


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries(args.verbose)
    result = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.out, args.device, args.batch_size,
                                 baseline=not args.no_baseline, texts=args.texts)
    print(summary_line(checkpoint_name(args.checkpoint), result))
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
