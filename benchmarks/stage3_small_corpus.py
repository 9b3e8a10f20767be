"""Stage 3 on a small corpus: IEMOCAP with only 10 training dialogues (random draws; dev and test
unchanged), each draw trained for N seeds next to the context-free logistic regression on the
same features, through the experiment runner (pickle mode), so finished seeds are not redone.

    python benchmarks/stage3_small_corpus.py --phase dev              # choosing settings: test removed
    python benchmarks/stage3_small_corpus.py --phase test             # once, for the chosen settings
    python benchmarks/stage3_small_corpus.py --phase dev data.min_batches_per_epoch=0   # a candidate

--phase dev trains on pickles without their test split (it cannot see test) and compares dev
weighted-F1; --phase test reports test weighted-F1 of the same runs' design. Per draw and on
average: stage 3 (mean over seeds) minus the logistic regression, and every run whose kept model
predicts (nearly) one class on dev (cgnn/collapse.py), read from its metrics.json.
Without the source pickle it prints `skipped: <path> not found` and exits 0. Not a test."""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.stage3_real_data import DEFAULT_SOURCE, import_source, seed_list, without_test  # noqa: E402
from cgnn.conversation_pickle import read_conversations, write_conversations  # noqa: E402
from erc_core.cli import run_command  # noqa: E402
from erc_core.config import load_config  # noqa: E402
from erc_experiments.config import RunnerConfig  # noqa: E402
from erc_experiments.runner import run_experiment  # noqa: E402

DEFAULT_WORK = Path(tempfile.gettempdir()) / "kemdy_erc_stage3_small_corpus"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="COGMEN 9-tuple pickle")
    parser.add_argument("--format", default="cogmen", choices=("cogmen", "kemdy-cogmen"), help="importer format")
    parser.add_argument("--labels", default="iemocap", help="known class order of the source (cogmen format)")
    parser.add_argument("--config", default="configs/stage3/default.yaml", help="stage-3 config")
    parser.add_argument("--modality", default="t", help="stage-3 data.modality")
    parser.add_argument("--phase", choices=("dev", "test"), required=True,
                        help="dev: test split removed, compare dev; test: the full split, report test")
    parser.add_argument("--dialogues", type=int, default=10, help="training dialogues kept per draw")
    parser.add_argument("--draws", type=int, default=3, help="random draws of the training dialogues (seeds 0..N-1)")
    parser.add_argument("--seeds", type=int, default=5, help="stage-3 seeds 0..N-1 per draw")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads of each run")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="pickles and runner folders")
    parser.add_argument("--name", help="name of this candidate's runner folders (default: from the overrides)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="stage-3 overrides")
    return parser.parse_args(argv)


def subsample(pickle_path: Path, dialogues: int, draw: int, out: Path) -> Path:
    """The pickle with `dialogues` training dialogues drawn at random (numpy seed `draw`); dev and
    test untouched. Written once, reused while it exists."""
    if not out.is_file():
        data = read_conversations(pickle_path)
        train = [d for d in data.dialogues if d["split"] == "train"]
        if dialogues > len(train):
            raise SystemExit(f"error: --dialogues {dialogues}: {pickle_path} has {len(train)} training dialogues")
        keep = set(np.random.default_rng(draw).choice(len(train), dialogues, replace=False).tolist())
        kept = [d for i, d in enumerate(train) if i in keep] + [d for d in data.dialogues if d["split"] != "train"]
        config = {**data.config, "subsampled_from": str(pickle_path), "train_dialogues": dialogues, "draw": draw}
        write_conversations(out, kept, data.label_names, config, data.feature_dims)
    return out


def run_draw(args, pickle_path: Path, name: str) -> dict:
    run_dir = args.work / "runs" / args.phase / name / pickle_path.stem
    stage3 = [f"data.modality={args.modality}", f"trainer.cpu_threads={args.threads}", "tracking.comet=false",
              "trainer.progress_bar=false", "baseline=false", *args.overrides]  # the runner fits the baseline
    overrides = [f"data.pickle={pickle_path}", f"run_dir={run_dir}", seed_list(args.seeds), "folds=0",
                 f"configs.stage3.file={args.config}", f"stage3_overrides=[{','.join(stage3)}]",
                 "baselines=[logreg]"]
    result = run_experiment(load_config(RunnerConfig, None, overrides))
    by_name = {entry["config"]: entry for entry in result["summary"]}
    collapsed = [str(p.parent.relative_to(run_dir)) for p in sorted((run_dir / "stage3").glob("*/metrics.json"))
                 if (json.loads(p.read_text(encoding="utf-8")).get("collapse") or {}).get("collapsed")]
    column = f"{args.phase}_weighted_f1"
    return {"stage3": 100 * by_name["stage3"][f"{column}_mean"], "stage3_std": 100 * by_name["stage3"][f"{column}_std"],
            "logreg": 100 * by_name["logreg"][f"{column}_mean"], "collapsed": collapsed}


def _main(argv) -> int:
    args = parse_args(argv)
    if not args.source.is_file():
        print(f"skipped: {args.source} not found")
        return 0
    os.chdir(REPO)
    args.work.mkdir(parents=True, exist_ok=True)
    full = import_source(args)
    base = without_test(full) if args.phase == "dev" else full
    name = args.name or ("_".join(o.replace("=", "-") for o in args.overrides) or "default")
    gaps = []
    print(f"{args.phase} weighted-F1, {args.dialogues} training dialogues, seeds 0-{args.seeds - 1}, "
          f"config {args.config} {' '.join(args.overrides)}")
    for draw in range(args.draws):
        pickle_path = subsample(base, args.dialogues, draw, args.work / f"{base.stem}_{args.dialogues}d_draw{draw}.pkl")
        result = run_draw(args, pickle_path, name)
        gaps.append(result["stage3"] - result["logreg"])
        print(f"  draw {draw}: stage 3 {result['stage3']:.2f} ± {result['stage3_std']:.2f}  logreg "
              f"{result['logreg']:.2f}  gap {gaps[-1]:+.2f}  collapsed runs: {result['collapsed'] or 'none'}")
    print(f"  mean gap over draws: {np.mean(gaps):+.2f} wF1 (target: >= +2 on test)")
    return 0


def main(argv=None) -> int:
    return run_command(_main, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
