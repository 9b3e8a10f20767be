"""Compare stage 1 (utterance-level) with stage 3 (contextual GNN) on the same test split.

    python scripts/demo_summary.py --stage1 demo_work/stage1/metrics.json \
        --stage3 demo_work/eval/demo_stage3_at/metrics.json [--stage3 ...] [--reference docs/demo_reference.json]

`--stage1` is the stage-1 run's metrics.json (its `test` entry: the best-dev model on the test
split); each `--stage3` is a metrics.json written by `kemdy-stage3-eval`. Prints one row per
model (one run, on this machine), per stage-3 model whether it beat stage 1 on weighted-F1, and
with `--reference` the documented mean ± std over seeds (scripts/demo_reference.py), which is
what a reader should quote. Exit code 0 either way (a comparison, not a test); 2 when a file is
missing or the two were scored on different numbers of utterances."""

import argparse
import json
import sys
from pathlib import Path

HEADLINE = ("accuracy", "weighted_f1", "macro_f1")


def load_stage1(path: Path) -> dict:
    metrics = _read_json(path)
    test = metrics.get("test")
    if not isinstance(test, dict) or any(k not in test for k in HEADLINE + ("n",)):
        raise ValueError(f"{path}: expected a stage-1 metrics.json with a 'test' entry holding "
                         f"{', '.join(HEADLINE)} and n")
    return {"name": "stage 1 (utterance-level)", "n": int(test["n"]), **{k: float(test[k]) for k in HEADLINE}}


def load_stage3(path: Path) -> dict:
    metrics = _read_json(path)
    if any(k not in metrics for k in HEADLINE + ("n", "split")):
        raise ValueError(f"{path}: expected a cgnn.eval metrics.json with {', '.join(HEADLINE)}, "
                         "n and split")
    if metrics["split"] != "test":
        raise ValueError(f"{path}: evaluated on split {metrics['split']!r}, expected 'test'")
    name = f"stage 3 GNN, modality {metrics.get('modality', '?')}"
    return {"name": name, "n": int(metrics["n"]), **{k: float(metrics[k]) for k in HEADLINE}}


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: metrics file not found")
    return json.loads(path.read_text(encoding="utf-8"))


def reference_lines(reference: dict) -> list:
    """The documented mean ± std over seeds, one line per model."""
    lines = [f"documented over seeds {reference['seeds']} on the same split ({reference['source']}):"]
    for key, name in (("stage1", "stage 1 (utterance-level)"), ("stage3", "stage 3 GNN")):
        cells = "  ".join(f"{label} {100 * reference[key][metric]['mean']:.2f} ± {100 * reference[key][metric]['std']:.2f}"
                          for metric, label in (("accuracy", "acc"), ("weighted_f1", "wF1"), ("macro_f1", "mF1")))
        lines.append(f"  {name:34s} {cells}")
    return lines


def summary_lines(stage1: dict, stage3: list) -> list:
    lines = [f"{'this run, on this machine':36s} {'n':>5s} {'acc':>7s} {'wF1':>7s} {'mF1':>7s}"]
    for row in [stage1, *stage3]:
        lines.append(f"{row['name']:36s} {row['n']:5d} " + " ".join(f"{100 * row[k]:7.2f}" for k in HEADLINE))
    for row in stage3:
        delta = 100 * (row["weighted_f1"] - stage1["weighted_f1"])
        verdict = "BEAT" if delta > 0 else "did NOT beat"
        lines.append(f"{row['name']} {verdict} stage 1 on test weighted-F1 ({delta:+.2f} points)")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage1", required=True, type=Path, help="stage-1 run's metrics.json")
    parser.add_argument("--stage3", required=True, type=Path, action="append", help="cgnn.eval metrics.json")
    parser.add_argument("--reference", type=Path, help="documented mean ± std over seeds (docs/demo_reference.json)")
    args = parser.parse_args(argv)
    try:
        stage1 = load_stage1(args.stage1)
        stage3 = [load_stage3(path) for path in args.stage3]
        reference = _read_json(args.reference) if args.reference else None
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for row in stage3:
        if row["n"] != stage1["n"]:
            print(f"error: stage 1 was scored on {stage1['n']} test utterances but {row['name']} on "
                  f"{row['n']}: not the same test set", file=sys.stderr)
            return 2
    print("\n".join(summary_lines(stage1, stage3)))
    if reference:
        print("\n".join(reference_lines(reference)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
