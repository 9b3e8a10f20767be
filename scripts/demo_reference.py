"""Write docs/demo_reference.json: the demo's test metrics as mean ± std over seeds, from a runner
table (kemdy-experiment in index mode on the demo index, the demo's own split, seeds 0-4).

    kemdy-experiment --config configs/experiments/demo_seeds.yaml data.index=demo_work/index \\
        run_dir=runs/experiments/demo_seeds
    python scripts/demo_reference.py --runs runs/experiments/demo_seeds/runs.csv --out docs/demo_reference.json

The demo prints it next to its own single run (scripts/demo_summary.py) and tests/test_demo.py
checks that a fresh demo lands within `tolerance_std` standard deviations of these means."""

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

METRICS = ("accuracy", "weighted_f1", "macro_f1")
ROWS = {"stage1": "stage1", "stage3": "demo"}  # reference key -> runner config name


def summarise(rows: list, config: str) -> dict:
    chosen = [row for row in rows if row["config"] == config]
    if len(chosen) < 2:
        raise SystemExit(f"error: the runner table holds {len(chosen)} runs of {config!r}; need at least 2")
    return {metric: {"mean": statistics.mean(float(r[f"test_{metric}"]) for r in chosen),
                     "std": statistics.stdev(float(r[f"test_{metric}"]) for r in chosen)} for metric in METRICS}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", required=True, type=Path, help="runs.csv of the runner")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tolerance-std", type=float, default=3.0)
    args = parser.parse_args(argv)
    with open(args.runs, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seeds = sorted({int(row["seed"]) for row in rows})
    reference = {"source": "kemdy-experiment --config configs/experiments/demo_seeds.yaml; docs/demo.md",
                 "seeds": seeds, "tolerance_std": args.tolerance_std,
                 **{key: summarise(rows, config) for key, config in ROWS.items()}}
    args.out.write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
