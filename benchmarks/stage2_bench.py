"""Stage-2 benchmark (not a test): extraction throughput against the bare model forward, padding
waste of length-aware vs random batching, and peak memory of extraction at two corpus sizes.

    python benchmarks/stage2_bench.py --checkpoint RUN_DIR --index INDEX_DIR [--utterances 300]

1. throughput: `extract_features` (the stage-2 loop: audio reading, collation in `--num-workers`
   DataLoader workers, model, copying out) vs the model forward alone on the very same batches,
   collated beforehand (same process, same threads). Overhead = loop time / forward time - 1.
2. padding: padded positions / real positions over one epoch of batches, LengthBucketBatchSampler
   vs random batches, on the index's real utterance lengths (16 kHz samples).
3. memory: `kemdy-extract` on the first N and 4N utterances, each in a fresh
   process; peak RSS (ru_maxrss) against the size of the feature arrays written, and the
   process's RSS (VmRSS, sampled every 0.5 s) at each tenth of its run: flat memory means that
   it stops growing once the batches reach their longest, whatever the number of utterances.

    python benchmarks/stage2_bench.py --checkpoint RUN_DIR --index INDEX_DIR --memory-only --memory-sizes 1751 7433 --threads 1
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feature_extractor.encoders.acoustic import FRAMES_PER_SECOND  # noqa: E402
from feature_extractor.export import load_export  # noqa: E402
from feature_extractor.extraction.distributed import DistributedContext  # noqa: E402
from feature_extractor.extraction.extract import extract_features, prepare_utterances  # noqa: E402
from feature_extractor.inputs.audio_io import SAMPLE_RATE  # noqa: E402
from feature_extractor.inputs.batching import LengthBucketBatchSampler, padding_ratio  # noqa: E402
from feature_extractor.inputs.collate import Collator  # noqa: E402
from feature_extractor.inputs.index_table import load_index_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--utterances", type=int, default=300, help="utterances for the throughput part")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--num-workers", type=int, default=1, help="DataLoader workers of the stage-2 loop")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-sizes", type=int, nargs=2, default=(200, 1200))
    parser.add_argument("--memory-only", action="store_true", help="only part 3 (e.g. a text-only index, which has "
                        "no durations for part 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {"machine": machine(), "args": vars(args)}
    if not args.memory_only:
        report["throughput"] = throughput(args)
        report["padding"] = padding(args)
    if not args.skip_memory:
        report["memory"] = [peak_memory(args, n) for n in args.memory_sizes]
    print(json.dumps(report, indent=2))


def machine() -> dict:
    return {"cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0], "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def throughput(args) -> dict:
    model, export = load_export(args.checkpoint)
    with tempfile.TemporaryDirectory() as work:
        index = first_rows(args.index, args.utterances, Path(work) / "index")
        options = argparse.Namespace(index=index, corpus_root=None, num_workers=0, feature_cache=None, checkpoint=args.checkpoint)
        kept, _, _, dataset = prepare_utterances(options, export, progress=False)
    collator = Collator(model.tokenizer, export.inputs.max_tokens)
    per_second = FRAMES_PER_SECOND if export.inputs.audio_kind == "acoustic" else SAMPLE_RATE
    audio_seconds = float(dataset.lengths().sum()) / per_second
    world = DistributedContext()

    extract_features(model, dataset, collator, args.batch_size, args.num_workers, torch.device("cpu"), world)  # warm-up
    start = time.perf_counter()
    extract_features(model, dataset, collator, args.batch_size, args.num_workers, torch.device("cpu"), world)
    loop_seconds = time.perf_counter() - start

    sampler = LengthBucketBatchSampler(dataset.lengths(), args.batch_size, shuffle=False)
    batches = [collator([dataset[i] for i in batch]) for batch in sampler]
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            model(batch)
    forward_seconds = time.perf_counter() - start
    return {
        "utterances": len(kept),
        "audio_seconds": round(audio_seconds, 1),
        "stage2_loop_s": round(loop_seconds, 3),
        "bare_forward_s": round(forward_seconds, 3),
        "utterances_per_s": round(len(kept) / loop_seconds, 1),
        "audio_seconds_per_s": round(audio_seconds / loop_seconds, 1),
        "overhead_vs_forward": round(loop_seconds / forward_seconds - 1, 3),
    }


def padding(args) -> dict:
    table = load_index_table(args.index)
    lengths = np.round(table["duration"].to_numpy() * 16000).astype(np.int64)
    report = {"utterances": len(lengths), "length_source": "index duration x 16 kHz"}
    for batch_size in (8, 16, 32):
        bucketed = LengthBucketBatchSampler(lengths, batch_size, shuffle=True, seed=0)
        order = np.random.default_rng(0).permutation(len(lengths))
        random_batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        report[f"batch_{batch_size}"] = {
            "length_aware": round(padding_ratio(lengths, list(bucketed)), 4),
            "random": round(padding_ratio(lengths, random_batches), 4),
        }
    return report


def first_rows(index_dir, n_rows: int, target: Path) -> Path:
    """A copy of an index folder holding only its first `n_rows` utterances."""
    source = Path(index_dir)
    target.mkdir(parents=True)
    pd.read_csv(source / "index.csv", dtype=str, keep_default_na=False).head(n_rows).to_csv(target / "index.csv", index=False)
    for name in ("index.meta.json", "skipped.csv"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def peak_memory(args, n_utterances: int) -> dict:
    """Extract the first `n_utterances` in a fresh process; its peak RSS and the feature bytes."""
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        index = first_rows(args.index, n_utterances, work / "index")
        out = work / "features.pkl"
        code = (  # the module ends in sys.exit(main()): the peak is printed on the way out
            "import resource, sys, runpy\nsys.argv = ['extract'] + sys.argv[1:]\ntry:\n"
            "    runpy.run_module('feature_extractor.extraction.extract', run_name='__main__')\nfinally:\n"
            "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)"
        )
        command = [sys.executable, "-c", code, "--checkpoint", args.checkpoint, "--index", str(index), "--out", str(out),
                   "--num-workers", "0", "--threads", str(args.threads), "--no-progress", "--batch-size", str(args.batch_size)]
        with open(work / "stdout", "w+") as stdout, open(work / "stderr", "w+") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True,
                                       cwd=Path(__file__).resolve().parents[1])
            samples = rss_samples(process)
            stdout.seek(0), stderr.seek(0)
            if process.returncode:
                raise RuntimeError(stderr.read()[-2000:])
            peak_kb = int(stdout.read().split("PEAK_KB")[-1].split()[0])
        summary = json.loads((work / "features.pkl.config.json").read_text())
        dims = sum(summary["feature_dims"].values())
        n = sum(split["utterances"] for split in summary["counts"].values())
        tenths = [round(samples[min(len(samples) - 1, len(samples) * k // 10)] / 1024) for k in range(1, 11)] if samples else None
        return {"utterances": n, "peak_rss_mb": round(peak_kb / 1024, 1), "feature_mb": round(n * dims * 4 / 2**20, 3),
                "rss_mb_at_each_tenth_of_the_run": tenths, "rss_samples": len(samples)}


def rss_samples(process, every: float = 0.5) -> list:
    """VmRSS (kB) of a running process every `every` seconds until it ends (Linux /proc; [] elsewhere)."""
    samples, status = [], Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            rss = [line for line in status.read_text().splitlines() if line.startswith("VmRSS")]
        except OSError:
            break
        samples += [int(rss[0].split()[1])] if rss else []
        time.sleep(every)
    process.wait()
    return samples


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
