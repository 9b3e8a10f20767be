"""Generate a synthetic corpus in the raw KEMDy19 / KEMDy20 layout (no download, numpy only).

    kemdy-synthetic-corpus --out data/synthetic_tiny --preset tiny
    kemdy-synthetic-corpus --out demo_work/corpus --preset demo --dataset KEMDy19 --seed 0

An existing synthetic corpus at --out is replaced; any other non-empty folder is refused unless
--overwrite is given. See docs/synthetic_corpus.md for the generative process and its knobs."""

import argparse
import sys
from pathlib import Path

from erc_core.cli import add_common_flags, quiet_libraries, run_command
from feature_extractor.synthetic.presets import PRESET_BUILDERS


def build_parser() -> argparse.ArgumentParser:
    """The command line; imports no more than the presets, so `--help` is quick."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="corpus root to create")
    parser.add_argument("--preset", choices=sorted(PRESET_BUILDERS), default="tiny",
                        help="corpus size: tiny (tests) or demo (scripts/demo.sh) (default: %(default)s)")
    parser.add_argument("--dataset", choices=("KEMDy19", "KEMDy20"), default="KEMDy19",
                        help="which raw layout to write (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty folder that is not a synthetic corpus")
    return add_common_flags(parser)


def parse_args(argv=None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    quiet_libraries(args.verbose)
    return args


def generate(argv) -> int:
    from feature_extractor.synthetic.generator import generate_corpus

    args = parse_args(argv)
    summary = generate_corpus(args.out, preset=args.preset, dataset=args.dataset, seed=args.seed,
                              overwrite=args.overwrite)
    print(f"synthetic {summary['dataset']} corpus (preset {summary['preset']}, seed {summary['seed']}) -> {summary['root']}: "
          f"{summary['sessions']} sessions, {summary['dialogues']} dialogues, {summary['utterances']} utterances "
          f"({summary['ties']} ties), {summary['audio_seconds']:.0f} s of audio")
    return 0


def main(argv=None) -> int:
    return run_command(generate, argv)


if __name__ == "__main__":
    sys.exit(main())
