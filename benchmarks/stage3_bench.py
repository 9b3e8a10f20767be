"""Stage-3 speed: a training epoch of this project's model vs a reference with upstream COGMEN's
cost, on real-width (384-d) input, with 2 and 9 speakers per dialogue.

    python benchmarks/stage3_bench.py --threads 1 --json /tmp/stage3_bench.json
    python benchmarks/stage3_bench.py --data PICKLE --speakers 2 4 9 --epochs 3

Workloads (train split only; dev/test are not touched):
- `real`: `--data`, a conversation pickle or a COGMEN 9-tuple; default the IEMOCAP text file in
  ../shared/benchmarks/ (108 train dialogues, 384-d MiniLM features, 2 speakers), imported in
  memory with the project's importer. Skipped, with a message, when absent.
- `S=<n>`: generated dialogues with IEMOCAP's shape (108 train dialogues, 10-110 utterances,
  384-d features), each with n speakers taking random turns (all n speak).

Models, same batches (32 dialogues), one timed epoch = one pass over the train split:
- `ours`: ContextualGNN with configs/stage3/default.yaml through cgnn.train.train_epoch (the real
  training path: prepared dialogues, AdamW + the per-step schedule); also `ours, speaker_pair`
  (COGMEN's 2 S^2 relations on our relational layer).
- `reference`: what upstream COGMEN does per batch, rewritten here (not imported): one
  torch.tensor per utterance into a padded batch and speakers through a dict; a transformer at the
  input width (heads by COGMEN's rule, feed-forward 2048, dropout 0.5, no padding mask), then the
  projection; the graph built by Python loops (its window set is built twice per dialogue, one
  small tensor and one dict lookup per edge); PyG RGCNConv with 2 S^2 relations, TransformerConv,
  batch norm, classifier; Adam.
Reported: median wall and process-CPU seconds of `--epochs` timed epochs after one warm-up epoch,
and reference / ours. A last section times one relational layer (forward + backward) on one
batch: PyG RGCNConv, PyG FastRGCNConv and cgnn.relational.RelationalGraphConv."""

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import FastRGCNConv, RGCNConv, TransformerConv

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cgnn.batching import collate, prepare_dialogues  # noqa: E402
from cgnn.config import Stage3Config  # noqa: E402
from cgnn.conversation_pickle import ConversationFormatError, read_conversations  # noqa: E402
from cgnn.graph import relation_types  # noqa: E402
from cgnn.importers.cogmen_tuple import import_cogmen_tuple, load_cogmen_tuple  # noqa: E402
from cgnn.model import ContextualGNN  # noqa: E402
from cgnn.relational import RelationalGraphConv  # noqa: E402
from cgnn.train import build_optimizer, build_scheduler, train_epoch  # noqa: E402
from erc_core.config import load_config  # noqa: E402

DEFAULT_REAL = REPO.parent / "shared" / "benchmarks" / "iemocap6_text_minilm.pkl"
NUM_CLASSES = 6


# ---------------------------------------------------------------- workloads


def real_train_dialogues(path: Path):
    """Train dialogues of a conversation pickle, or of a COGMEN 9-tuple imported in memory."""
    try:
        return read_conversations(path).in_split("train")
    except ConversationFormatError:
        fields = load_cogmen_tuple(path)
        names = [f"class{i}" for i in range(1 + max(max(v) for v in fields[2].values()))]
        dialogues, _ = import_cogmen_tuple(fields, names, str(path))
        return [d for d in dialogues if d["split"] == "train"]


def generated_dialogues(num_speakers, count=108, width=384, seed=0):
    """IEMOCAP-shaped dialogues with `num_speakers` speakers each, random turns, all speaking."""
    rng = np.random.default_rng(seed)
    dialogues = []
    for index in range(count):
        n = int(np.clip(rng.normal(48, 20), max(10, num_speakers), 110))
        turns = np.concatenate([rng.permutation(num_speakers), rng.integers(0, num_speakers, n - num_speakers)])
        dialogues.append({
            "dialogue_id": f"gen{index:03d}", "split": "train",
            "segment_ids": [f"gen{index:03d}_{t:03d}" for t in range(n)],
            "speakers": [f"speaker{s}" for s in turns],
            "labels": rng.integers(0, NUM_CLASSES, n),
            "features": {"t": (rng.normal(size=(n, width)) / np.sqrt(width)).astype(np.float32)},
        })
    return dialogues


# ---------------------------------------------------------------- the reference (upstream COGMEN's cost)


def cogmen_window_pairs(length, wp, wf):
    """(node, neighbour) pairs of a dialogue as COGMEN's edge_perms builds them: Python sets."""
    pairs = set()
    for j in range(length):
        low = 0 if wp == -1 else max(0, j - wp)
        high = length if wf == -1 else min(length, j + wf + 1)
        pairs |= {(j, k) for k in range(low, high)}
    return list(pairs)


def cogmen_graph(lengths, speakers, wp, wf, relation_of):
    """Per batch: COGMEN builds every dialogue's window set twice, then one tensor per edge."""
    edges, types, offset = [], [], 0
    for length in lengths:
        cogmen_window_pairs(length, wp, wf)  # COGMEN computes this list once more and discards it
    for row, length in enumerate(lengths):
        for j, k in cogmen_window_pairs(length, wp, wf):
            edges.append(torch.tensor([j + offset, k + offset]))
            types.append(relation_of[(speakers[row][j], speakers[row][k], 0 if j < k else 1)])
        offset += length
    return torch.stack(edges).t().contiguous(), torch.tensor(types).long()


def cogmen_batch(dialogues, width):
    """COGMEN's Dataset.padding: one tensor per utterance, stacked into a zero-padded batch."""
    lengths = [len(d["segment_ids"]) for d in dialogues]
    features = torch.zeros(len(dialogues), max(lengths), width)
    speakers, labels = [], []
    for row, dialogue in enumerate(dialogues):
        names = {}
        speakers.append([names.setdefault(s, len(names)) for s in dialogue["speakers"]])
        features[row, : lengths[row]] = torch.stack([torch.tensor(x) for x in dialogue["features"]["t"]])
        labels.extend(int(y) for y in dialogue["labels"])
    return features, lengths, speakers, torch.tensor(labels)


class ReferenceModel(nn.Module):
    def __init__(self, width, num_speakers, hidden=100, wp=5, wf=5, dropout=0.5):
        super().__init__()
        heads = next((h for h in range(7, 15) if width % h == 0), 1)  # COGMEN's rule
        layer = nn.TransformerEncoderLayer(width, heads, dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.project = nn.Linear(width, hidden)
        self.rgcn = RGCNConv(hidden, hidden, 2 * num_speakers ** 2)
        self.attention = TransformerConv(hidden, hidden, heads=1)
        self.norm = nn.BatchNorm1d(hidden)
        self.classifier = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                                        nn.Linear(hidden, NUM_CLASSES))
        self.wp, self.wf = wp, wf
        self.relation_of = {(a, b, d): 2 * (a * num_speakers + b) + d for a in range(num_speakers)
                            for b in range(num_speakers) for d in (0, 1)}

    def forward(self, features, lengths, speakers):
        hidden = self.project(self.encoder(features))
        nodes = torch.cat([hidden[row, :length] for row, length in enumerate(lengths)])
        edge_index, edge_type = cogmen_graph(lengths, speakers, self.wp, self.wf, self.relation_of)
        graph = self.rgcn(nodes, edge_index, edge_type)
        graph = nn.functional.leaky_relu(self.norm(self.attention(graph, edge_index)))
        return nn.functional.log_softmax(self.classifier(graph), dim=-1)


def reference_epoch(model, optimizer, dialogues, batch_size, rng, width):
    model.train()
    order = rng.permutation(len(dialogues))
    for start in range(0, len(dialogues), batch_size):
        features, lengths, speakers, labels = cogmen_batch(
            [dialogues[i] for i in order[start: start + batch_size]], width)
        model.zero_grad()
        loss = nn.functional.nll_loss(model(features, lengths, speakers), labels)
        loss.backward()
        optimizer.step()


# ---------------------------------------------------------------- timing


def timed_epochs(run_epoch, epochs):
    """Median (wall, CPU) seconds of `epochs` epochs after one warm-up epoch."""
    run_epoch()
    walls, cpus = [], []
    for _ in range(epochs):
        cpu, wall = time.process_time(), time.perf_counter()
        run_epoch()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def ours_epoch_fn(dialogues, config: Stage3Config, num_speakers, seed):
    torch.manual_seed(seed)
    items = prepare_dialogues(dialogues, "t", num_speakers, config.model.wp, config.model.wf)
    model = ContextualGNN(config.model, items[0].features.shape[1], NUM_CLASSES, num_speakers)
    optimizer = build_optimizer(model, config.optim)
    steps = config.trainer.max_epochs * -(-len(items) // config.data.batch_size)
    scheduler = build_scheduler(optimizer, config.optim, steps)
    rng = np.random.default_rng(seed)
    return lambda: train_epoch(model, items, optimizer, config, rng, "cpu", None, scheduler)


def reference_epoch_fn(dialogues, num_speakers, batch_size, seed):
    torch.manual_seed(seed)
    width = dialogues[0]["features"]["t"].shape[1]
    model = ReferenceModel(width, num_speakers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-8)
    rng = np.random.default_rng(seed)
    return lambda: reference_epoch(model, optimizer, dialogues, batch_size, rng, width)


def compare(name, dialogues, config, epochs, seed):
    speakers = max(len(set(d["speakers"])) for d in dialogues)
    shape = {"dialogues": len(dialogues), "utterances": sum(len(d["segment_ids"]) for d in dialogues),
             "speakers": speakers, "width": int(dialogues[0]["features"]["t"].shape[1])}
    print(f"{name}: {shape}", flush=True)
    pairs = dataclasses.replace(config, model=dataclasses.replace(config.model, relations="speaker_pair"))
    rows = {"ours": timed_epochs(ours_epoch_fn(dialogues, config, speakers, seed), epochs),
            "ours, speaker_pair": timed_epochs(ours_epoch_fn(dialogues, pairs, speakers, seed), epochs),
            "reference": timed_epochs(reference_epoch_fn(dialogues, speakers, config.data.batch_size, seed), epochs)}
    for key, value in rows.items():
        print(f"  {key:20s} wall {value['wall_s']:7.3f} s  cpu {value['cpu_s']:7.3f} s", flush=True)
    ratio = {k: rows["reference"][k] / rows["ours"][k] for k in ("wall_s", "cpu_s")}
    print(f"  reference / ours: wall {ratio['wall_s']:.1f}x, cpu {ratio['cpu_s']:.1f}x", flush=True)
    return {"shape": shape, **rows, "reference_over_ours": ratio}


def layer_times(dialogues, repeats=5, seed=0):
    """Forward + backward of one relational layer on one 32-dialogue batch, milliseconds."""
    speakers = max(len(set(d["speakers"])) for d in dialogues)
    relations = 2 * speakers ** 2
    batch = collate(prepare_dialogues(dialogues[:32], "t", speakers, 5, 5))
    edge_type = relation_types("speaker_pair", batch.speaker_index, batch.edge_index, speakers)
    torch.manual_seed(seed)
    x = torch.randn(len(batch.speaker_index), 100)
    pyg = RGCNConv(100, 100, relations)
    layers = {"PyG RGCNConv": pyg, "PyG FastRGCNConv": FastRGCNConv(100, 100, relations),
              "RelationalGraphConv": RelationalGraphConv(100, 100, relations)}
    layers["PyG FastRGCNConv"].load_state_dict(pyg.state_dict())
    layers["RelationalGraphConv"].load_state_dict(pyg.state_dict())
    result = {"relations": relations, "nodes": int(x.shape[0]), "edges": int(edge_type.numel())}
    for name, layer in layers.items():
        def step():
            inputs = x.clone().requires_grad_(True)
            layer(inputs, batch.edge_index, edge_type).square().sum().backward()
        step()
        start = time.process_time()
        for _ in range(repeats):
            step()
        result[name] = 1000 * (time.process_time() - start) / repeats
    print(f"  relational layer, {relations} relations: " +
          ", ".join(f"{k} {result[k]:.1f} ms" for k in layers), flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_REAL,
                        help="conversation pickle or COGMEN 9-tuple with a 't' feature (default: %(default)s)")
    parser.add_argument("--speakers", type=int, nargs="*", default=[2, 9], help="generated workloads")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model (after one warm-up)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--config", type=Path, default=REPO / "configs/stage3/default.yaml")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = load_config(Stage3Config, args.config, [])
    result = {"machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch "
                         f"threads, torch {torch.__version__}, python {platform.python_version()}",
              "workloads": {}, "relational_layer": {}}
    print(result["machine"])
    workloads = {}
    if args.data.is_file():
        workloads["real"] = real_train_dialogues(args.data)
    else:
        print(f"skipping the real workload: {args.data} not found (pass --data)")
    workloads.update({f"S={s}": generated_dialogues(s, seed=args.seed) for s in args.speakers})
    for name, dialogues in workloads.items():
        result["workloads"][name] = compare(name, dialogues, config, args.epochs, args.seed)
        result["relational_layer"][name] = layer_times(dialogues)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
