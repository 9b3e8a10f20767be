"""Evaluate a stage-3 checkpoint on one split of a conversation pickle.

    python -m cgnn.eval --checkpoint model_checkpoints/demo_stage3_at --data data/demo_features.pkl \
        --split test --out runs/eval/demo_stage3_at

Writes metrics.json, classification_report.txt, confusion_matrix.png and predictions.csv (one row
per utterance: dialogue, segment id, speaker, gold, predicted, one probability column per class)
and prints one summary line. Runs on CPU by default, whatever device the checkpoint was trained
on. A checkpoint / pickle mismatch (labels, features, widths, speakers) is refused with a message."""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import torch

from erc_core.device import choose_device
from erc_core.files import atomic_open, write_json
from cgnn.batching import prepare_dialogues
from cgnn.checkpoint import CheckpointMismatchError, check_compatible, load_checkpoint
from cgnn.conversation_pickle import SPLITS, ConversationFormatError, read_conversations
from erc_core.metrics import classification_metrics, report_text, save_confusion_matrix
from cgnn.predict_core import logits_by_dialogue


def evaluate_checkpoint(checkpoint_dir, data_path, split="test", out=None, device="cpu",
                        batch_size=32) -> dict:
    checkpoint = load_checkpoint(checkpoint_dir, choose_device(device))
    data = read_conversations(data_path)
    check_compatible(checkpoint, data.label_names, data.feature_dims, source=str(data_path))
    dialogues = data.in_split(split)
    if not dialogues:
        raise ValueError(f"{data_path}: no dialogues in split {split!r}")
    window = checkpoint.model_config
    try:
        items = prepare_dialogues(dialogues, checkpoint.modality, checkpoint.num_speakers,
                                  window.wp, window.wf)
    except ValueError as error:
        raise CheckpointMismatchError(f"{data_path}: {error}") from None
    device = next(checkpoint.model.parameters()).device
    probabilities = [torch.softmax(x, -1).numpy()
                     for x in logits_by_dialogue(checkpoint.model, items, batch_size, device)]

    gold = np.concatenate([item.labels.numpy() for item in items])
    predicted = np.concatenate([p.argmax(-1) for p in probabilities])
    labels = checkpoint.label_names
    metrics = classification_metrics(gold, predicted, labels)
    out = Path(out) if out else Path(checkpoint_dir) / f"eval_{split}"
    _write_predictions(out / "predictions.csv", items, probabilities, labels)
    if metrics["labelled"]:
        with atomic_open(out / "classification_report.txt", "w", encoding="utf-8") as handle:
            handle.write(report_text(gold, predicted, labels))
        save_confusion_matrix(metrics["confusion_matrix"], labels, out / "confusion_matrix.png",
                              title=f"{Path(checkpoint_dir).name} / {split}")
    else:  # nothing to score: leave no stale report from an earlier run
        for name in ("classification_report.txt", "confusion_matrix.png"):
            (out / name).unlink(missing_ok=True)
    result = {"checkpoint": str(checkpoint_dir), "data": str(data_path), "split": split,
              "modality": checkpoint.modality, "dialogues": len(items),
              "utterances": int(gold.size), **metrics}
    write_json(out / "metrics.json", result)
    return result


def _write_predictions(path, items, probabilities, label_names) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dialogue_id", "segment_id", "speaker", "gold", "predicted"]
                        + [f"prob_{name}" for name in label_names])
        for item, probs in zip(items, probabilities):
            for row, segment in enumerate(item.segment_ids):
                gold = int(item.labels[row])
                writer.writerow([item.dialogue_id, segment, item.speakers[row],
                                 label_names[gold] if gold >= 0 else "",
                                 label_names[int(probs[row].argmax())]]
                                + [f"{p:.6f}" for p in probs[row]])


def summary_line(name, result) -> str:
    if not result.get("labelled"):
        return f"{name} [{result['split']}]: {result['utterances']} utterances predicted, no gold labels"
    return (f"{name} [{result['split']}] acc {100 * result['accuracy']:.2f}  "
            f"wF1 {100 * result['weighted_f1']:.2f}  mF1 {100 * result['macro_f1']:.2f}  "
            f"(n={result['labelled']})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="folder with model.safetensors + config.json")
    parser.add_argument("--data", required=True, help="conversation pickle")
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--out", help="output folder (default: <checkpoint>/eval_<split>)")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, ...")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    try:
        result = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.out, args.device,
                                     args.batch_size)
    except (CheckpointMismatchError, ConversationFormatError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet and result.get("labelled"):
        gold_path = Path(args.out or Path(args.checkpoint) / f"eval_{args.split}")
        print((gold_path / "classification_report.txt").read_text(encoding="utf-8"))
    print(summary_line(Path(args.checkpoint).name, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
