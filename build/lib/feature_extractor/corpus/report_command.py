"""Report a corpus's class mix, durations and conversation dynamics next to the real KEMDy19 figures.

    kemdy-corpus-report --index work/kemdy19_index
    kemdy-corpus-report --ground-truth demo_work/corpus/synthetic_ground_truth.csv
    kemdy-corpus-report --ground-truth ... --label hidden    # the speakers' true states

With --index the labels are the index's `emotion` column (ties handled by the index's tie policy);
with --ground-truth they are the written Total Evaluation labels with tie rows dropped (as in the
real figures), or the hidden states with --label hidden."""

import argparse
import sys
from pathlib import Path

from erc_core.cli import run_command
from erc_core.files import write_json
from feature_extractor.synthetic.statistics import (
    corpus_statistics,
    format_report,
    ground_truth_table,
    statistics_as_dict,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=Path, help="an index folder written by kemdy-index")
    source.add_argument("--ground-truth", type=Path, help="synthetic_ground_truth.csv of a synthetic corpus")
    parser.add_argument("--label", choices=("written", "hidden"), default="written",
                        help="with --ground-truth: written labels (ties dropped) or hidden states")
    parser.add_argument("--json", type=Path, help="also write the statistics as JSON here")
    return parser.parse_args(argv)


def load_table(args):
    if args.index is not None:
        from feature_extractor.corpus import read_index

        return read_index(args.index), f"index {args.index}"
    return ground_truth_table(args.ground_truth, args.label), f"{args.ground_truth} ({args.label} labels)"


def report(argv) -> int:
    args = parse_args(argv)
    table, title = load_table(args)
    stats = corpus_statistics(table)
    print(format_report(stats, title))
    if args.json is not None:
        write_json(args.json, statistics_as_dict(stats))
    return 0


def main(argv=None) -> int:
    return run_command(report, argv)


if __name__ == "__main__":
    sys.exit(main())
