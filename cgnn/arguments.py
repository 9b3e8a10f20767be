"""The argparse parsers of the stage-3 commands without a config schema (kemdy-stage3-eval,
kemdy-import), in a module that imports no torch: `--help` is answered from here at once
(erc_core/commands.py), and the commands parse their arguments with the very same parsers. Each
parser's description is its command module's docstring, read from the source without importing it."""

import argparse
from pathlib import Path

from cgnn.conversation_pickle import SPLITS
from cgnn.importers.cogmen_tuple import DEV_FRACTION, LABEL_SETS
from erc_core.cli import add_common_flags
from erc_core.commands import module_docstring


def eval_parser() -> argparse.ArgumentParser:
    """kemdy-stage3-eval (cgnn/eval.py)."""
    parser = argparse.ArgumentParser(description=module_docstring("cgnn.eval"),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True,
                        help="stage-3 checkpoint folder (model.safetensors + config.json)")
    parser.add_argument("--data", required=True, help="conversation pickle (stage 2 or kemdy-import)")
    parser.add_argument("--split", default="test", choices=SPLITS, help="split to evaluate (default: %(default)s)")
    parser.add_argument("--out", help="output folder (default: runs/eval/<checkpoint name>_<split> under the "
                        "current folder, never inside the checkpoint)")
    parser.add_argument("--device", default="cpu", help="cpu, auto, cuda, cuda:1, mps (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="dialogues per batch (default: %(default)s)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="leave out the context-free logistic regression on the same features and split "
                        "(fitted once per pickle and cached; printed and written to metrics.json by default)")
    parser.add_argument("--texts", help="a CSV / TSV with the utterances' text (segment_id + text, e.g. the index's "
                        "index.csv, or dialogue_id + turn + text): shown in report.html, which the pickle cannot")
    parser.add_argument("--quiet", action="store_true",
                        help="accepted for old scripts; the command prints only the summary line anyway")
    return add_common_flags(parser)


def import_parser() -> argparse.ArgumentParser:
    """kemdy-import (cgnn/importers/command.py)."""
    parser = argparse.ArgumentParser(description=module_docstring("cgnn.importers.command"),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", required=True, choices=("cogmen", "kemdy-cogmen"),
                        help="cogmen: the COGMEN / DialogueRNN 9-tuple; "
                        "kemdy-cogmen: the KEMDy19 COGMEN 10-element list")
    parser.add_argument("--labels", choices=sorted(LABEL_SETS),
                        help="known class order of the source pickle (cogmen format; no default)")
    parser.add_argument("--label-names", help="comma-separated class names in the source's numbering "
                        "(default: --labels; kemdy-cogmen: neutral,angry,happy,surprise,sad,fear,disgust)")
    parser.add_argument("--dev-fraction", type=float, default=DEV_FRACTION,
                        help="share in [0, 1) of the train ids (stored order) taken as dev, when no --dev-ids "
                        "(default: %(default)s)")
    parser.add_argument("--dev-ids", help="official dev dialogue ids: a file (one id per line) or id1,id2,... "
                        "(default: none, --dev-fraction applies)")
    parser.add_argument("input", type=Path, help="the foreign feature pickle to read (read without running code)")
    parser.add_argument("output", type=Path, help="the conversation pickle to write (+ OUTPUT.config.json)")
    return add_common_flags(parser)
