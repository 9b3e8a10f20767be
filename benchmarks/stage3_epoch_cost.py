"""Stage-3 training cost side by side with an earlier commit: the same run (IEMOCAP text by
default, `configs/stage3/default.yaml` of each side, 1 torch thread) timed for this checkout and
for `--before REV` (its `cgnn`, `erc_core` and `configs` unpacked from `git archive` into a
temporary folder), in pairs started at the same moment, so that other load on the machine falls
on both sides alike.

    python benchmarks/stage3_epoch_cost.py --before 76f17dc              # 4 pairs of 22 epochs
    python benchmarks/stage3_epoch_cost.py --before HEAD~3 --pairs 6 --epochs 30

Prints each pair's wall seconds (train() from start to end: set-up, epochs, dev evaluation and
checkpoints) with its dev weighted-F1 (the same on both sides when the change leaves the
computation alone), and after / before over all pairs. Without the data it prints `skipped: ...`
and exits 0. Not a test."""

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "benchmarks" / "iemocap6_text_minilm.pkl"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the earlier commit to compare with")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="COGMEN 9-tuple pickle (IEMOCAP labels)")
    parser.add_argument("--epochs", type=int, default=22, help="trainer.max_epochs of each run")
    parser.add_argument("--pairs", type=int, default=4, help="pairs of simultaneous runs")
    parser.add_argument("--worker", nargs=3, metavar=("CODE", "PICKLE", "EPOCHS"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(code: str, pickle_path: str, epochs: str) -> None:
    """One timed run with the code in `code` (prints: seconds dev-weighted-F1)."""
    sys.path.insert(0, code)
    import torch
    from cgnn.config import Stage3Config
    from cgnn.train import train
    from erc_core.config import load_config

    if not Path(sys.modules[train.__module__].__file__).resolve().is_relative_to(Path(code).resolve()):
        raise SystemExit(f"error: cgnn was imported from {sys.modules[train.__module__].__file__}, not from {code}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(Stage3Config, Path(code, "configs", "stage3", "default.yaml"), [
            f"data.path={pickle_path}", f"run_dir={folder}/run", "seed=0", "data.modality=t", "tracking.comet=false",
            "trainer.progress_bar=false", "trainer.print_every_n_epochs=100000", f"trainer.max_epochs={epochs}"])
        if hasattr(config, "baseline"):
            config.baseline = False  # timed: the epochs, not the once-per-pickle baseline fit
        started = time.perf_counter()
        summary = train(config)
        print(f"{time.perf_counter() - started:.2f} {100 * summary['dev']['weighted_f1']:.2f}")


def unpack(revision: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision, "cgnn", "erc_core", "configs"], cwd=REPO,
                             capture_output=True, check=True).stdout
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        tarfile.open(fileobj=handle).extractall(folder, filter="data")
    return folder


def timed_pair(before: Path, pickle_path: Path, epochs: int) -> list:
    runs = [subprocess.Popen([sys.executable, __file__, "--before", "-", "--worker", str(code), str(pickle_path),
                              str(epochs)], stdout=subprocess.PIPE, text=True) for code in (before, REPO)]
    return [tuple(map(float, run.communicate()[0].split()[-2:])) for run in runs]


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        worker(*args.worker)
        return 0
    if not args.source.is_file():
        print(f"skipped: {args.source} not found")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        pickle_path = Path(folder, "iemocap.pkl")
        subprocess.run([sys.executable, "-m", "cgnn.importers.command", "--format", "cogmen", "--labels", "iemocap",
                        str(args.source), str(pickle_path)], cwd=REPO, check=True, capture_output=True)
        before = unpack(args.before, Path(folder, "before"))
        totals = [0.0, 0.0]
        print(f"{args.epochs} epochs, seed 0, 1 thread; wall s (dev wF1): {args.before} | this checkout")
        for pair in range(args.pairs):
            (old, old_f1), (new, new_f1) = timed_pair(before, pickle_path, args.epochs)
            totals = [totals[0] + old, totals[1] + new]
            print(f"  pair {pair + 1}: {old:.2f} ({old_f1:.2f}) | {new:.2f} ({new_f1:.2f})")
        print(f"  sum {totals[0]:.2f} | {totals[1]:.2f}: after / before = {totals[1] / totals[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
