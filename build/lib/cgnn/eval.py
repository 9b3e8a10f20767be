"""Evaluate a stage-3 checkpoint on one split of a conversation pickle.

    kemdy-stage3-eval --checkpoint model_checkpoints/demo_stage3_at --data data/demo_features.pkl \
        --split test --out runs/eval/demo_stage3_at          (or: kemdy-stage3-eval ...)

Writes metrics.json, classification_report.txt, confusion_matrix.png and predictions.csv (one row
per utterance: dialogue, segment id, speaker, gold, predicted, one probability column per class;
erc_core/evaluation_report.py) and prints one summary line. Runs on CPU by default, whatever device the checkpoint was trained
on. A checkpoint / pickle mismatch (labels, features, widths, speakers) is refused with a message."""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from cgnn.checkpoint import check_compatible, load_checkpoint
from cgnn.conversation_pickle import SPLITS, read_conversations
from cgnn.predict_core import logits_by_dialogue
from erc_core.cli import add_common_flags, quiet_libraries, run_command
from erc_core.device import choose_device
from erc_core.errors import UserError
from erc_core.evaluation_report import write_evaluation
from erc_core.provenance import run_provenance


def evaluate_checkpoint(checkpoint_dir, data_path, split="test", out=None, device="cpu",
                        batch_size=32) -> dict:
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
    out = Path(out) if out else Path(checkpoint_dir) / f"eval_{split}"
    extra = {"checkpoint": str(checkpoint_dir), "data": str(data_path), "split": split,
             "modality": checkpoint.modality, "dialogues": len(items),
             "checkpoint_provenance": checkpoint.info.get("provenance"),
             "data_provenance": data.config.get("provenance"), "provenance": run_provenance(device=device)}
    return write_evaluation(out, f"{Path(checkpoint_dir).name} / {split}", checkpoint.label_names, rows, gold,
                            np.concatenate(probabilities), extra)


def summary_line(name, result) -> str:
    if not result.get("n"):
        return f"{name} [{result['split']}]: {result['utterances']} utterances predicted, no gold labels"
    return (f"{name} [{result['split']}] acc {100 * result['accuracy']:.2f}  "
            f"wF1 {100 * result['weighted_f1']:.2f}  mF1 {100 * result['macro_f1']:.2f}  "
            f"(n={result['n']})")


def _main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="folder with model.safetensors + config.json")
    parser.add_argument("--data", required=True, help="conversation pickle")
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--out", help="output folder (default: <checkpoint>/eval_<split>)")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, ...")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    add_common_flags(parser)
    args = parser.parse_args(argv)
    quiet_libraries(args.verbose)
    result = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.out, args.device, args.batch_size)
    if not args.quiet and result.get("n"):
        gold_path = Path(args.out or Path(args.checkpoint) / f"eval_{args.split}")
        print((gold_path / "classification_report.txt").read_text(encoding="utf-8"))
    print(summary_line(Path(args.checkpoint).name, result))
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
