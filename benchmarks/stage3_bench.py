"""Stage-3 speed benchmark: this project's model vs a straightforward COGMEN-style reference.

    python benchmarks/stage3_bench.py --epochs 8 --threads 2

Both train on the same synthetic conversation pickle (realistic KEMDy19 shapes: 200 dialogues
of 25-105 utterances, mean ~48; text 768-d, audio 1024-d; modality `at`) with the same
hyperparameters, optimizer, batches and seed. The reference does what original COGMEN does:
per-utterance tensor building for every batch, a per-edge Python loop to build the graph for
every batch, and the transformer run at the input width (1792, COGMEN's head rule, feed-forward
2048, no padding mask) before projecting to the hidden size. The GNN and classifier are the same
modules in both. Reported: seconds per training epoch, seconds per evaluation pass, and
accuracy / weighted-F1 on the test split at the best dev-F1 epoch."""

import argparse
import copy
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cgnn.batching import iterate_batches, prepare_dialogues  # noqa: E402
from cgnn.conversation_pickle import modality_matrix, read_conversations, write_conversations  # noqa: E402
from cgnn.graph import local_speaker_indices, num_relations  # noqa: E402
from erc_core.metrics import classification_metrics  # noqa: E402
from cgnn.model import Classifier, ContextualGNN, ModelConfig, RelationalGNN  # noqa: E402
from cgnn.train import TrainConfig, evaluate, train_epoch  # noqa: E402

LABELS = ["neutral", "happy", "surprise", "angry", "sad", "disgust", "fear"]
CLASS_MIX = np.array([0.398, 0.146, 0.104, 0.192, 0.080, 0.041, 0.040])  # KEMDy19, measured


# ---------------------------------------------------------------- synthetic data


def synthetic_dialogues(count, dims, seed, stay=0.66, signal=2.0):
    """Each speaker's emotion is a sticky Markov chain (stays with p = `stay`, else a draw from
    the KEMDy19 class mix); features = `signal` * a random unit direction per class + unit
    Gaussian noise in every dimension, so a single utterance is ambiguous and context helps."""
    rng = np.random.default_rng(seed)
    directions = {}
    for m, d in dims.items():
        raw = rng.normal(size=(len(LABELS), d))
        directions[m] = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    dialogues = []
    for index in range(count):
        n = int(np.clip(rng.normal(48, 15), 25, 105))
        speaker = np.zeros(n, dtype=int)
        for t in range(1, n):
            speaker[t] = 1 - speaker[t - 1] if rng.random() < 0.87 else speaker[t - 1]
        labels, last = np.zeros(n, dtype=np.int64), {}
        for t in range(n):
            previous = last.get(speaker[t])
            keep = previous is not None and rng.random() < stay
            labels[t] = previous if keep else rng.choice(len(LABELS), p=CLASS_MIX / CLASS_MIX.sum())
            last[speaker[t]] = labels[t]
        split = "test" if index % 10 == 0 else "dev" if index % 10 == 1 else "train"
        dialogue_id = f"Sess{index // 10 + 1:02d}_dialogue{index % 10:02d}"
        dialogues.append({
            "dialogue_id": dialogue_id, "split": split,
            "segment_ids": [f"{dialogue_id}_{t:03d}" for t in range(n)],
            "speakers": [f"{dialogue_id}_{'FM'[s]}" for s in speaker],
            "labels": labels,
            "features": {m: (signal * directions[m][labels] + rng.normal(size=(n, d))).astype(np.float32)
                         for m, d in dims.items()},
        })
    return dialogues


# ---------------------------------------------------------------- the reference (COGMEN-style)


def reference_edge_perms(length, wp, wf):
    """COGMEN's functions.edge_perms: a Python set of (node, neighbour) pairs."""
    perms = set()
    for j in range(length):
        low = 0 if wp == -1 else max(0, j - wp)
        high = length if wf == -1 else min(length, j + wf + 1)
        for k in range(low, high):
            perms.add((j, k))
    return sorted(perms)


def reference_graphify(lengths, speakers, wp, wf, edge_type_to_idx):
    """COGMEN's batch_graphify: one small tensor and one dict lookup per edge, every batch."""
    edge_index, edge_type, offset = [], [], 0
    for row, length in enumerate(lengths.tolist()):
        for j, k in reference_edge_perms(length, wp, wf):
            edge_index.append(torch.tensor([k + offset, j + offset]))
            direction = "1" if k > j else "0"
            key = str(speakers[row, j].item()) + str(speakers[row, k].item()) + direction
            edge_type.append(edge_type_to_idx[key])
        offset += length
    return torch.stack(edge_index).t().contiguous(), torch.tensor(edge_type).long()


def reference_batch(dialogues, modality, num_speakers):
    """COGMEN's Dataset.padding: per-utterance tensors concatenated into a padded batch."""
    lengths = torch.tensor([len(d["segment_ids"]) for d in dialogues])
    width = modality_matrix(dialogues[0], modality).shape[1]
    features = torch.zeros(len(dialogues), int(lengths.max()), width)
    speakers = torch.zeros(len(dialogues), int(lengths.max()), dtype=torch.long)
    labels = []
    for row, dialogue in enumerate(dialogues):
        rows = []
        for t in range(len(dialogue["segment_ids"])):
            parts = [torch.tensor(dialogue["features"][m][t]) for m in modality]
            rows.append(torch.cat(parts))
        features[row, : len(rows)] = torch.stack(rows)
        speakers[row, : len(rows)] = torch.tensor(local_speaker_indices(dialogue["speakers"]))
        labels.extend(dialogue["labels"].tolist())
    return {"features": features, "lengths": lengths, "speakers": speakers, "labels": torch.tensor(labels)}


class ReferenceModel(nn.Module):
    def __init__(self, config: ModelConfig, input_dim, num_classes, num_speakers):
        super().__init__()
        heads = next((h for h in range(7, 15) if input_dim % h == 0), 1)  # COGMEN's rule
        layer = nn.TransformerEncoderLayer(input_dim, heads, dropout=config.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.encoder_layers, enable_nested_tensor=False)
        self.project = nn.Linear(input_dim, config.hidden)
        self.gnn = RelationalGNN(config.hidden, num_relations(num_speakers), config.gnn_heads)
        self.classifier = Classifier(config.hidden * config.gnn_heads, config.hidden, num_classes, config.dropout)
        self.wp, self.wf = config.wp, config.wf
        self.edge_type_to_idx = {}
        for a in range(num_speakers):
            for b in range(num_speakers):
                for direction in "01":
                    self.edge_type_to_idx[f"{a}{b}{direction}"] = len(self.edge_type_to_idx)

    def forward(self, batch):
        hidden = self.project(self.encoder(batch["features"]))
        nodes = torch.cat([hidden[row, :length] for row, length in enumerate(batch["lengths"].tolist())])
        edge_index, edge_type = reference_graphify(batch["lengths"], batch["speakers"], self.wp, self.wf,
                                                   self.edge_type_to_idx)
        return self.classifier(self.gnn(nodes, edge_index, edge_type))


def reference_epoch(model, dialogues, optimizer, config, rng, modality, speakers):
    model.train()
    order = rng.permutation(len(dialogues))
    for start in range(0, len(dialogues), config.batch_size):
        batch = reference_batch([dialogues[i] for i in order[start: start + config.batch_size]], modality,
                                speakers)
        loss = nn.functional.cross_entropy(model(batch), batch["labels"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def reference_evaluate(model, dialogues, config, modality, speakers):
    model.eval()
    gold, predicted = [], []
    for start in range(0, len(dialogues), config.batch_size):
        batch = reference_batch(dialogues[start: start + config.batch_size], modality, speakers)
        predicted.append(model(batch).argmax(-1))
        gold.append(batch["labels"])
    return classification_metrics(torch.cat(gold).numpy(), torch.cat(predicted).numpy(), LABELS)


# ---------------------------------------------------------------- the comparison


def timed(fn):
    """(result, process CPU seconds, wall seconds). CPU time is the measure that survives a
    shared machine; with one torch thread it is the work done."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def run(name, epoch_fn, eval_fn, model, epochs):
    """Train `epochs` epochs; time each epoch and each dev evaluation; keep the best dev epoch."""
    epoch_cpu, epoch_wall, eval_cpu, eval_wall, best = [], [], [], [], None
    for epoch in range(1, epochs + 1):
        _, cpu, wall = timed(epoch_fn)
        epoch_cpu.append(cpu)
        epoch_wall.append(wall)
        dev, cpu, wall = timed(lambda: eval_fn("dev"))
        eval_cpu.append(cpu)
        eval_wall.append(wall)
        if best is None or dev["weighted_f1"] > best[0]:
            best = (dev["weighted_f1"], epoch, copy.deepcopy(model.state_dict()))
        print(f"  {name} epoch {epoch}: cpu {epoch_cpu[-1]:.2f} s, wall {epoch_wall[-1]:.2f} s, "
              f"dev wF1 {dev['weighted_f1']:.4f}", flush=True)
    model.load_state_dict(best[2])
    test = eval_fn("test")
    return {"epoch_cpu_seconds": epoch_cpu, "epoch_wall_seconds": epoch_wall,
            "dev_eval_cpu_seconds": eval_cpu, "dev_eval_wall_seconds": eval_wall, "best_epoch": best[1],
            "dev_weighted_f1": best[0], "test_accuracy": test["accuracy"],
            "test_weighted_f1": test["weighted_f1"], "test_macro_f1": test["macro_f1"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3, help="both models (COGMEN: 1e-4 over 55 epochs)")
    parser.add_argument("--signal", type=float, default=2.0, help="class signal vs unit noise")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU time is per process)")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dims, modality = {"t": 768, "a": 1024}, "at"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pkl"
        write_conversations(path, synthetic_dialogues(args.dialogues, dims, args.seed, signal=args.signal), LABELS,
                            {"generator": "benchmarks/stage3_bench.py", "seed": args.seed,
                                                    "signal": args.signal})
        data = read_conversations(path)
    config = TrainConfig(modality=modality, lr=args.lr, seed=args.seed)  # COGMEN defaults otherwise
    speakers, width = 2, sum(dims.values())
    splits = {s: data.in_split(s) for s in ("train", "dev", "test")}
    sizes = {s: (len(d), sum(len(x["segment_ids"]) for x in d)) for s, d in splits.items()}
    print(f"data: {sizes} (dialogues, utterances); torch threads {torch.get_num_threads()}")

    start = time.perf_counter()
    prepared = {s: prepare_dialogues(d, modality, speakers, config.model.wp, config.model.wf)
                for s, d in splits.items()}
    prepare_seconds = time.perf_counter() - start

    torch.manual_seed(args.seed)
    ours = ContextualGNN(config.model, width, len(LABELS), speakers)
    optimizer = torch.optim.Adam(ours.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(args.seed)
    ours_result = run("ours", lambda: train_epoch(ours, prepared["train"], optimizer, config, rng, "cpu", None),
                      lambda s: evaluate(ours, prepared[s], LABELS, config.batch_size, "cpu"), ours, args.epochs)

    torch.manual_seed(args.seed)
    reference = ReferenceModel(config.model, width, len(LABELS), speakers)
    optimizer = torch.optim.Adam(reference.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(args.seed)
    reference_result = run(
        "reference", lambda: reference_epoch(reference, splits["train"], optimizer, config, rng, modality, speakers),
        lambda s: reference_evaluate(reference, splits[s], config, modality, speakers), reference, args.epochs)

    graph_seconds = time_graph_building(splits["train"], config, speakers)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
                   f"torch {torch.__version__}, python {platform.python_version()}",
        "data": sizes, "epochs": args.epochs, "lr": args.lr, "prepare_seconds_once": prepare_seconds,
        "ours": ours_result, "reference": reference_result, "graph_build_seconds_per_epoch": graph_seconds,
        "parameters": {"ours": sum(p.numel() for p in ours.parameters()),
                       "reference": sum(p.numel() for p in reference.parameters())},
    }
    result["speedup_median"] = {
        key: float(np.median(reference_result[key]) / np.median(ours_result[key]))
        for key in ("epoch_cpu_seconds", "epoch_wall_seconds", "dev_eval_cpu_seconds", "dev_eval_wall_seconds")}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


def time_graph_building(dialogues, config, speakers):
    """Per-epoch seconds spent building graphs: reference loop (every batch) vs vectorised."""
    edge_type_to_idx = {f"{a}{b}{d}": 2 * (a * speakers + b) + int(d)
                        for a in range(speakers) for b in range(speakers) for d in "01"}
    start = time.perf_counter()
    for first in range(0, len(dialogues), config.batch_size):
        chunk = dialogues[first: first + config.batch_size]
        lengths = torch.tensor([len(d["segment_ids"]) for d in chunk])
        table = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
        for row, d in enumerate(chunk):
            table[row, : len(d["speakers"])] = torch.tensor(local_speaker_indices(d["speakers"]))
        reference_graphify(lengths, table, config.model.wp, config.model.wf, edge_type_to_idx)
    loop = time.perf_counter() - start
    start = time.perf_counter()
    items = prepare_dialogues(dialogues, "at", speakers, config.model.wp, config.model.wf)
    vectorised_once = time.perf_counter() - start
    start = time.perf_counter()
    for _ in iterate_batches(items, config.batch_size):
        pass
    collate = time.perf_counter() - start
    return {"reference_loop": loop, "ours_prepare_once_incl_features": vectorised_once,
            "ours_collate_per_epoch": collate}


if __name__ == "__main__":
    main()
