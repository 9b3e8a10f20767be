"""Stage 3 on real conversations: a COGMEN 9-tuple pickle (the shared IEMOCAP file by default),
imported with our importer (kemdy-import), trained for N seeds with one config, next to the context-free
logistic-regression baseline on the same features. Built on the experiment runner (pickle mode,
the pickle's own split), so finished seeds are not redone.

    python benchmarks/stage3_real_data.py                                 # 5 seeds, default.yaml
    python benchmarks/stage3_real_data.py --config configs/stage3/kemdy19.yaml --seeds 3
    python benchmarks/stage3_real_data.py --source my_tuple.pkl --labels iemocap_4 --modality at
    python benchmarks/stage3_real_data.py --seeds 1 trainer.max_epochs=3  # a quick end-to-end check
    python benchmarks/stage3_real_data.py --train-cv   # candidates by CV over the training sessions

--train-cv is the larger dev for choosing settings: the test split is removed from the imported
pickle and configs/experiments/iemocap_train_cv.yaml runs its candidates over session folds of
what is left (held-out session, dev session, train = the rest), so it cannot see test.

Writes into --work: the imported pickle, and a runner folder (runs/<config>/) holding runs.csv
(per-seed rows: dev / test accuracy, weighted-F1, macro-F1, seconds per epoch), summary.csv and
summary.md (mean ± std), paired.csv and benchmark.md (this command, the machine, the baseline
check and the tables). Without the source pickle it prints `skipped: <path> not found` and exits 0.
Not part of the test suite. Settings are chosen on dev; look at test once (../shared/benchmarks/README.md)."""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cgnn.conversation_pickle import read_conversations, write_conversations  # noqa: E402
from erc_core.cli import run_command  # noqa: E402
from erc_core.config import load_config  # noqa: E402
from erc_core.errors import UserError  # noqa: E402
from erc_core.files import atomic_open  # noqa: E402
from erc_experiments.config import RunnerConfig  # noqa: E402
from erc_experiments.runner import run_experiment  # noqa: E402

DEFAULT_SOURCE = REPO.parent / "shared" / "benchmarks" / "iemocap6_text_minilm.pkl"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "kemdy_erc_stage3_real_data"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="COGMEN 9-tuple pickle")
    parser.add_argument("--format", default="cogmen", choices=("cogmen", "kemdy-cogmen"), help="importer format")
    parser.add_argument("--labels", default="iemocap", help="known class order of the source (cogmen format)")
    parser.add_argument("--config", help="stage-3 config to benchmark (default configs/stage3/default.yaml)")
    parser.add_argument("--modality", default="t", help="stage-3 data.modality (the shared IEMOCAP file is text only)")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 (default 5; with --train-cv, the experiment config's)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads of each run")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="imported pickle and runner folder")
    parser.add_argument("--train-cv", action="store_true",
                        help="run configs/experiments/iemocap_train_cv.yaml on the pickle without its test split")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="stage-3 overrides, e.g. trainer.max_epochs=3")
    args = parser.parse_args(argv)
    if args.train_cv and args.config:
        raise UserError("--config does not apply with --train-cv: its candidates are the configs named in "
                        "configs/experiments/iemocap_train_cv.yaml")
    if args.seeds is not None and args.seeds < 1:
        raise UserError(f"--seeds {args.seeds}: expected at least 1")
    args.config = args.config or "configs/stage3/default.yaml"
    return args


def seed_list(count: int) -> str:
    return f"seeds=[{','.join(str(s) for s in range(count))}]"


def importer_command() -> list:
    """`kemdy-import`, as a module of this checkout's package."""
    return [sys.executable, "-m", "cgnn.importers.command"]


def import_source(args) -> Path:
    """The source converted by kemdy-import (once; reused while it exists)."""
    out = args.work / f"{args.source.stem}.pkl"
    if out.is_file():
        return out
    command = [*importer_command(), "--format", args.format,
               *(["--labels", args.labels] if args.format == "cogmen" else []), str(args.source), str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    return out


def stage3_overrides(args) -> str:
    stage3 = [f"data.modality={args.modality}", f"trainer.cpu_threads={args.threads}", "tracking.comet=false",
              "trainer.progress_bar=false", *args.overrides]
    return f"stage3_overrides=[{','.join(stage3)}]"


def runner_overrides(args, pickle_path: Path) -> tuple:
    name = Path(args.config).stem
    return name, [f"data.pickle={pickle_path}", f"run_dir={args.work / 'runs' / name}",
                  seed_list(args.seeds or 5), "folds=0",
                  f"configs.{name}.file={args.config}", stage3_overrides(args),
                  "baselines=[logreg]"]


def without_test(pickle_path: Path) -> Path:
    """A copy of the imported pickle with its test dialogues removed (once; reused while it exists)."""
    out = pickle_path.with_name(f"{pickle_path.stem}_without_test.pkl")
    if not out.is_file():
        data = read_conversations(pickle_path)
        kept = [dialogue for dialogue in data.dialogues if dialogue["split"] != "test"]
        config = {**data.config, "test_removed_from": str(pickle_path)}
        write_conversations(out, kept, data.label_names, config, data.feature_dims)
    return out


def run_train_cv(args, pickle_path: Path) -> int:
    config_file = REPO / "configs" / "experiments" / "iemocap_train_cv.yaml"
    overrides = [f"data.pickle={without_test(pickle_path)}", f"run_dir={args.work / 'runs' / 'train_cv'}",
                 stage3_overrides(args), *([seed_list(args.seeds)] if args.seeds else [])]
    result = run_experiment(load_config(RunnerConfig, config_file, overrides))
    print("held-out weighted-F1 (the runner's 'test' column: a held-out training session, not the official test):")
    for entry in result["summary"]:
        print(f"  {entry['config']:<14} {100 * entry['test_weighted_f1_mean']:.2f} "
              f"± {100 * entry['test_weighted_f1_std']:.2f} ({entry['runs']} runs)")
    return 0


def verdict(summary: list, name: str) -> str:
    by_name = {entry["config"]: entry for entry in summary}
    gnn, logreg = by_name[name]["test_weighted_f1_mean"], by_name["logreg"]["test_weighted_f1_mean"]
    relation = ">=" if gnn >= logreg else "BELOW"
    return (f"test weighted-F1: {name} {100 * gnn:.2f} (mean of {by_name[name]['runs']}) {relation} "
            f"context-free logreg {100 * logreg:.2f}")


def _main(argv) -> int:
    args = parse_args(argv)
    if not args.source.is_file():
        print(f"skipped: {args.source} not found")
        return 0
    os.chdir(REPO)  # config paths are relative to the repository
    pickle_path = import_source(args)
    if args.train_cv:
        return run_train_cv(args, pickle_path)
    name, overrides = runner_overrides(args, pickle_path)
    config = load_config(RunnerConfig, None, overrides)
    result = run_experiment(config)
    line = verdict(result["summary"], name)
    run_dir = Path(config.run_dir)
    header = [f"# Stage 3 on {args.source.name}: `{args.config}` over {args.seeds or 5} seed(s)", "",
              f"Command: `python benchmarks/stage3_real_data.py {' '.join(argv)}`".rstrip() + "  ",
              f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s), torch threads per run {args.threads}  ",
              f"Check: {line}", ""]
    body = (run_dir / "summary.md").read_text(encoding="utf-8").split("\n", 1)[1]
    with atomic_open(run_dir / "benchmark.md", "w", encoding="utf-8") as handle:
        handle.write("\n".join(header) + body)
    print(line)
    print(f"tables: {run_dir / 'benchmark.md'}, {run_dir / 'summary.csv'}, {run_dir / 'runs.csv'}")
    return 0


def main(argv=None) -> int:
    return run_command(_main, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
