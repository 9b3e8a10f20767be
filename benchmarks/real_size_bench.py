"""Real-size dry run (not a test): random-init encoders with the exact published architectures of
the defaults (configs/encoders/, nothing downloaded) run stage-1 training steps and stage-2
extraction on real utterances of an index.

    python benchmarks/real_size_bench.py --index INDEX [--audio wav2vec2-xls-r-300m] [--text klue-roberta-base]
        [--device cpu] [--precision 32-true] [--batch-sizes 4] [--train-steps 2] [--utterances 24] [--threads 1]
    GPU:  --device cuda --precision bf16-mixed --batch-sizes 4 8 16 32 64   (and again with --precision 32-true)
    DDP:  --ddp 2   (this script under torch.distributed.run: NCCL on GPUs, gloo on CPU; training steps only)

Prints one JSON report:
  flops     forward GFLOP per audio-second of the audio encoder (counted on the meta device, 5 s and 10 s)
  shapes    the batches the 10 s crop gives at the index's length distribution: [B, samples], [B, frames],
            [B, tokens] (median and largest batch), audio padding, for training and evaluation batches
  extract   per batch size: the stage-2 loop (`extract_features`) vs the bare model forward on the very
            same, pre-collated batches (overhead), padding, s/utterance, audio-s/s; group-norm encoders
            also time padded batches, the cost of their equal-length batching
  train     per batch size: forward + backward + AdamW on real batches (random 10 s crop), s/step,
            samples/s, audio-s/s
  memory    peak RSS (so far, after each phase) and CUDA peak allocated per batch size
`--max-layers K` cuts both encoders to K layers: a plumbing check only, flagged in the report.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import AutoModel  # noqa: E402

from erc_core.labels import EMOTIONS  # noqa: E402
from feature_extractor.encoders.real_size import real_size_folder  # noqa: E402
from feature_extractor.extraction.distributed import DistributedContext  # noqa: E402
from feature_extractor.extraction.extract import _bf16_ok, extract_features, move_to  # noqa: E402
from feature_extractor.extractor import AudioTextExtractor  # noqa: E402
from feature_extractor.inputs.audio_io import SAMPLE_RATE  # noqa: E402
from feature_extractor.inputs.batching import LengthBucketBatchSampler, padding_ratio  # noqa: E402
from feature_extractor.inputs.collate import Collator  # noqa: E402
from feature_extractor.inputs.dataset import UtteranceDataset, scan_utterances  # noqa: E402
from feature_extractor.inputs.index_table import load_index_table  # noqa: E402
from feature_extractor.training.config import ModelConfig  # noqa: E402
from feature_extractor.training.losses.loss import LossConfig, compute_loss  # noqa: E402

CROP_SECONDS = 10.0
MAX_TOKENS = 128
SHAPE_BATCH_SIZES = (4, 8, 16, 32, 64)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="folder with index.csv (e.g. the demo corpus's)")
    parser.add_argument("--audio", default="wav2vec2-xls-r-300m", help="configs/encoders/ name")
    parser.add_argument("--text", default="klue-roberta-base", help="configs/encoders/ name")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto (see erc_core/device.py)")
    parser.add_argument("--precision", default="32-true", choices=("32-true", "bf16-mixed"), help="stage-1 steps")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4])
    parser.add_argument("--train-steps", type=int, default=2, help="timed steps per batch size, after 1 warm-up")
    parser.add_argument("--utterances", type=int, help="utterances drawn from the index (default: 2 x largest batch)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-layers", type=int, help="cut both encoders to this many layers (plumbing check)")
    parser.add_argument("--repeats", type=int, default=1, help="stage-2 loop / bare forward pairs per batch size")
    parser.add_argument("--skip-extract", action="store_true")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--ddp", type=int, default=0, help="run the training steps in this many processes")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.ddp > 1 and "LOCAL_RANK" not in os.environ:
        sys.exit(launch_ddp(args.ddp, argv if argv is not None else sys.argv[1:]))
    torch.set_num_threads(args.threads)
    world = DistributedContext.from_environment(args.device)
    report = {"machine": machine(world.device), "args": vars(args), "world_size": world.size}
    with tempfile.TemporaryDirectory() as work:
        model, table = build_model(args, Path(work)), load_index_table(args.index)
        report["flops"] = audio_flops(model)
        report["shapes"] = {size: batch_shapes(table, model, size) for size in SHAPE_BATCH_SIZES}
        train_set, eval_set = datasets(table, args)
        model.to(world.device)
        report["memory"] = {"after_build": memory(world.device)}
        if not args.skip_extract and world.size == 1:
            report["extract"] = {size: time_extraction(model, eval_set, size, world.device, args.repeats)
                                 for size in args.batch_sizes}
            report["memory"]["after_extract"] = memory(world.device)
        if not args.skip_train:
            report["train"] = {size: time_training(model, train_set, size, args, world) for size in args.batch_sizes}
            report["memory"]["after_train"] = memory(world.device)
    world.close()
    if world.is_zero:
        print(json.dumps(report, indent=2))


def launch_ddp(processes: int, argv: list) -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes),
               "--master-addr", "127.0.0.1", "--master-port", str(port), __file__, *argv]
    return subprocess.run(command, env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))).returncode


def machine(device: torch.device) -> dict:
    info = {"cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2), "torch": torch.__version__,
            "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def memory(device: torch.device) -> dict:
    found = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device.type == "cuda":
        found["cuda_peak_allocated_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return found


# -- model and data -----------------------------------------------------------------------------------
def build_model(args, work: Path) -> AudioTextExtractor:
    """The concat head over both real-size encoders, random init from their configs."""
    table = load_index_table(args.index)
    texts = table.loc[table["split"] == "train", "text"].tolist()
    cfg = ModelConfig(head="concat")
    cfg.audio.name = real_size_folder(args.audio, work / "audio")
    cfg.text.name = real_size_folder(args.text, work / "text", texts)
    cfg.text.max_tokens = MAX_TOKENS
    if args.max_layers:
        for folder in (cfg.audio.name, cfg.text.name):
            cut_layers(Path(folder) / "config.json", args.max_layers)
    torch.manual_seed(args.seed)
    return AudioTextExtractor(cfg, num_classes=len(EMOTIONS), pretrained=False)


def cut_layers(config_file: Path, layers: int) -> None:
    config = json.loads(config_file.read_text())
    config["num_hidden_layers"] = min(layers, config["num_hidden_layers"])
    config_file.write_text(json.dumps(config))


def datasets(table, args):
    """(train, eval) datasets over the same random draw of utterances: random vs centre crop."""
    size = args.utterances or 2 * max(args.batch_sizes)
    rows = table.sample(n=min(size, len(table)), random_state=args.seed).reset_index(drop=True)
    kept, _ = scan_utterances(rows, use_text=True, audio_kind="hf")
    return tuple(UtteranceDataset(kept, use_text=True, audio_kind="hf", max_audio_seconds=CROP_SECONDS, crop_mode=crop)
                 for crop in ("random", "center"))


def collated(model, dataset, batch_size: int, shuffle: bool, equal_lengths: bool = False, world=None) -> list[dict]:
    sampler = LengthBucketBatchSampler(dataset.lengths(), batch_size, shuffle=shuffle, equal_lengths=equal_lengths,
                                       num_replicas=world.size if world else 1, rank=world.rank if world else 0)
    collator = Collator(model.tokenizer, MAX_TOKENS)
    return [collator([dataset[i] for i in batch]) for batch in sampler]


def audio_seconds(batch: dict) -> float:
    return float(batch["audio_mask"].sum()) / SAMPLE_RATE


# -- what the crop gives -------------------------------------------------------------------------------
def batch_shapes(table, model, batch_size: int) -> dict:
    """Shapes of every batch of one epoch over the whole index, from durations and transcripts only."""
    samples = np.minimum(np.round(table["duration"].to_numpy() * SAMPLE_RATE), CROP_SECONDS * SAMPLE_RATE).astype(np.int64)
    tokens = np.array([len(ids) for ids in model.tokenizer(table["text"].astype(str).tolist(), truncation=True,
                                                             max_length=MAX_TOKENS)["input_ids"]])
    frames_of = model.audio_encoder.model._get_feat_extract_output_lengths
    report = {}
    for name, shuffle in (("train", True), ("eval", False)):
        batches = list(LengthBucketBatchSampler(samples, batch_size, shuffle=shuffle, seed=0))
        padded_size = np.array([len(batch) * samples[batch].max() for batch in batches])
        order = np.argsort(padded_size, kind="stable")
        report[name] = {
            "batches": len(batches),
            "audio_padding": round(padding_ratio(samples, batches), 4),
            **{f"{label}_batch": shape_of(batches[order[at]], samples, tokens, frames_of)  # by padded samples
               for label, at in (("median", len(order) // 2), ("largest", -1))},
        }
    return report


def shape_of(batch, samples, tokens, frames_of) -> dict:
    longest = int(samples[batch].max())
    frames = int(frames_of(torch.tensor(longest)))
    return {"audio": f"{len(batch)}x{longest}", "frames": f"{len(batch)}x{frames}", "tokens": f"{len(batch)}x{int(tokens[batch].max())}"}


def audio_flops(model) -> dict:
    """Forward GFLOP per audio-second of the audio encoder, counted on shapes only (meta device)."""
    config = model.audio_encoder.model.config
    with torch.device("meta"):
        shapes_only = AutoModel.from_config(config).eval()
        counted, front_end = {}, {}
        for seconds in (5, 10):
            wave = torch.zeros(1, int(seconds * SAMPLE_RATE))
            for part, found in ((shapes_only, counted), (shapes_only.feature_extractor, front_end)):
                with FlopCounterMode(display=False) as counter:
                    part(wave)
                found[f"{seconds}s"] = round(counter.get_total_flops() / seconds / 1e9, 1)
    return {"audio_forward_gflop_per_audio_s": counted, "cnn_front_end_gflop_per_audio_s": front_end,
            "audio_params_m": round(sum(p.numel() for p in model.audio_encoder.parameters()) / 1e6, 1),
            "text_params_m": round(sum(p.numel() for p in model.text_encoder.parameters()) / 1e6, 1)}


# -- stage 2 ----------------------------------------------------------------------------------------------
def time_extraction(model, dataset, batch_size: int, device: torch.device, repeats: int) -> dict:
    """The stage-2 loop vs the bare forward on the same batches (both in stage 2's precision)."""
    model.eval()
    reset_peak(device)
    equal = not model.batch_padding_invariant
    batches = collated(model, dataset, batch_size, shuffle=False, equal_lengths=equal)
    timed(bare_forward, model, batches[:1], device)  # warm-up
    loops, bares = [], []
    for repeat in range(repeats):  # the order alternates, so drifting load favours neither
        if repeat % 2:
            bares.append(timed(bare_forward, model, batches, device))
        loops.append(timed(stage2_loop, model, dataset, batch_size, device))
        if not repeat % 2:
            bares.append(timed(bare_forward, model, batches, device))
    seconds = sum(audio_seconds(batch) for batch in batches)
    wall = float(np.median([loop["wall"] for loop in loops]))
    report = {"utterances": len(dataset), "batches": len(batches), "audio_seconds": round(seconds, 1),
              "equal_length_batches": equal, "padding": round(padding_ratio(dataset.lengths(), sampler_batches(dataset, batch_size, equal)), 4),
              "loop": loops, "bare_forward": bares,
              "overhead_wall": [round(a["wall"] / b["wall"] - 1, 3) for a, b in zip(loops, bares)],
              "overhead_cpu": [round(a["cpu"] / b["cpu"] - 1, 3) for a, b in zip(loops, bares)],
              "s_per_utterance": round(wall / len(dataset), 3), "audio_s_per_s": round(seconds / wall, 2),
              **memory(device)}
    if equal:
        padded = collated(model, dataset, batch_size, shuffle=False)
        report["padded_batches_instead"] = {"batches": len(padded), "bare_forward": timed(bare_forward, model, padded, device)}
    return report


def timed(run, *args) -> dict:
    """Wall and process CPU seconds of `run(*args)`; CPU time is what a shared machine disturbs least."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)
    return {"wall": round(time.perf_counter() - wall, 2), "cpu": round(time.process_time() - cpu, 2)}


def stage2_loop(model, dataset, batch_size: int, device: torch.device) -> None:
    extract_features(model, dataset, Collator(model.tokenizer, MAX_TOKENS), batch_size, 0, device, DistributedContext())
    synchronize(device)


def sampler_batches(dataset, batch_size: int, equal: bool) -> list:
    return list(LengthBucketBatchSampler(dataset.lengths(), batch_size, shuffle=False, equal_lengths=equal))


def bare_forward(model, batches: list, device: torch.device) -> None:
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=_bf16_ok(device))
    with torch.inference_mode(), autocast:
        for batch in batches:
            model(move_to(batch, device))
    synchronize(device)


# -- stage 1 ----------------------------------------------------------------------------------------------
def time_training(model, dataset, batch_size: int, args, world) -> dict:
    """1 warm-up step, then `--train-steps` timed steps of forward + backward + AdamW."""
    device = world.device
    model.train()
    trainer = model
    if world.size > 1:
        trainer = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    batches = collated(model, dataset, batch_size, shuffle=True, world=world)
    reset_peak(device)
    steps, seconds = [], []
    for step in range(args.train_steps + 1):
        batch = move_to(batches[step % len(batches)], device)
        took = timed(train_step, trainer, optimizer, batch, args.precision, device)
        if step:  # the first step is warm-up
            seconds.append(audio_seconds(batch))
            steps.append({**took, "audio_s": round(seconds[-1], 1)})
    step_s = slowest_rank(float(np.median([took["wall"] for took in steps])), world)
    samples = batch_size * world.size
    return {"steps": steps, "s_per_step": round(step_s, 3), "samples_per_s": round(samples / step_s, 2),
            "audio_s_per_s": round(float(np.mean(seconds)) * world.size / step_s, 2),
            "audio_s_per_step": round(float(np.mean(seconds)), 1), "precision": args.precision, **memory(device)}


def train_step(trainer, optimizer, batch: dict, precision: str, device: torch.device) -> None:
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed"):
        output, _ = trainer(batch)
        loss = compute_loss(output, batch["labels"], None, None, LossConfig())
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    synchronize(device)


def slowest_rank(value: float, world) -> float:
    if world.size == 1:
        return value
    found = torch.tensor([value], device=world.device)
    torch.distributed.all_reduce(found, op=torch.distributed.ReduceOp.MAX)
    return float(found.item())


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


if __name__ == "__main__":
    main()
