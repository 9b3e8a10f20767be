"""Build the utterance index of a raw KEMDy19 / KEMDy20 tree.

    kemdy-index --corpus data/KEMDy19 --out work/kemdy19_index
    kemdy-index --corpus data/KEMDy20_v1_1 --out work/k20 --tie-policy soft --folds 5 --fold 0

Writes index.csv, index.meta.json and skipped.csv into --out and prints a summary. Sessions may
be given as numbers or ranges: `--test-sessions 19 20`, `--test-sessions 19-20`."""

import argparse
import sys
from pathlib import Path

from erc_core.cli import run_command
from erc_core.errors import UserError
from feature_extractor.corpus import SplitConfig, build_index, write_index
from feature_extractor.corpus.emotion_labels import TIE_POLICIES


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, type=Path, help="root of the raw corpus tree")
    parser.add_argument("--out", required=True, type=Path, help="folder for index.csv, index.meta.json, skipped.csv")
    parser.add_argument("--dataset", choices=("KEMDy19", "KEMDy20"), help="default: recognised from annotation/")
    parser.add_argument("--tie-policy", choices=TIE_POLICIES, default="drop")
    parser.add_argument("--test-sessions", nargs="+", help="default: KEMDy19 19-20, KEMDy20 37-40")
    parser.add_argument("--dev-sessions", nargs="*", help="default: KEMDy19 17-18, KEMDy20 33-36; none: no dev")
    parser.add_argument("--folds", type=int, default=0, help="k-fold by contiguous session blocks (0: off)")
    parser.add_argument("--fold", type=int, default=0, help="test block under --folds; dev is the next block")
    parser.add_argument("--no-physio", action="store_true", help="do not read the signal files")
    return parser.parse_args(argv)


def session_list(items) -> list[int] | None:
    """`["19", "20"]`, `["19-20"]` or `["19,20"]` -> [19, 20]; None stays None."""
    if items is None:
        return None
    sessions = []
    for item in items:
        for part in item.split(","):
            low, _, high = part.partition("-")
            try:
                sessions += list(range(int(low), int(high or low) + 1))
            except ValueError:
                raise UserError(f"session {part!r} is not a number or a range like 19-20") from None
    return sessions


def print_summary(result, out_dir: Path) -> None:
    counts = result.counts()
    print(f"{result.dataset} index written to {out_dir}")
    print(f"  utterances {counts['utterances']}, dialogues {counts['dialogues']}, sessions {counts['sessions']}, "
          f"speakers {counts['speakers']} (ties kept: {counts['ties_kept']})")
    total = max(counts["utterances"], 1)
    mix = ", ".join(f"{name} {n} ({100 * n / total:.1f}%)" for name, n in counts["emotions"].items())
    print(f"  classes: {mix}")
    for name, split in counts["splits"].items():
        print(f"  {name:5s}: {split['utterances']} utterances, {split['dialogues']} dialogues, sessions {split['sessions']}")
    coverage = ", ".join(f"{s} {n}" for s, n in counts["physio_coverage"].items())
    print(f"  physio coverage (utterances): {coverage}" + ("" if result.physio else " (physio not read)"))
    reasons = ", ".join(f"{reason}: {n}" for reason, n in counts["skipped"].items()) or "none"
    print(f"  skipped {counts['skipped_total']} ({reasons}); see {out_dir / 'skipped.csv'}")
    for note, value in result.notes.items():
        print(f"  note: {note}: {value}")


def main(argv=None) -> int:
    return run_command(build, argv)


def build(argv) -> int:
    args = parse_args(argv)
    split = SplitConfig(
        test_sessions=session_list(args.test_sessions),
        dev_sessions=session_list(args.dev_sessions),
        folds=args.folds,
        fold=args.fold,
    )
    result = build_index(args.corpus, dataset=args.dataset, tie_policy=args.tie_policy, split=split,
                         physio=not args.no_physio)
    options = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()}
    write_index(result, args.out, options)
    print_summary(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
