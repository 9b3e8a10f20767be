"""Convert a COGMEN-style feature pickle into a conversation pickle for stage 3.

    kemdy-import --format cogmen --labels iemocap_4 IEMOCAP_features_4.pkl data/iemocap4.pkl
    kemdy-import --format cogmen --label-names neg,pos my_tuple.pkl data/mine.pkl
    kemdy-import --format cogmen --labels meld --dev-ids meld_dev_ids.txt MELD_features.pkl data/meld.pkl
    kemdy-import --format kemdy-cogmen new_2019cogmen_format_feat.pkl data/kemdy19_cogmen.pkl

The input is read with the restricted unpickler (no code from it runs). Dev is either the
official list given with --dev-ids (a file with one dialogue id per line, or comma-separated ids)
or, by default, the first 10 % of the train ids in stored order (COGMEN's rule; --dev-fraction
changes the share). The rule used is printed and recorded in the pickle's config, with the
source file's SHA-256."""

import argparse
import sys
from pathlib import Path

from cgnn.arguments import import_parser as build_parser  # the parser lives in a torch-free module
from cgnn.conversation_pickle import write_conversations
from cgnn.importers.cogmen_tuple import (
    LABEL_SETS,
    check_dev_fraction,
    check_dialogues,
    import_cogmen_tuple,
    load_cogmen_tuple,
)
from cgnn.importers.kemdy_cogmen import SOURCE_LABELS, import_kemdy_cogmen, load_kemdy_cogmen
from erc_core.cli import run_command
from erc_core.errors import UserError
from erc_core.files import file_sha256
from erc_core.labels import EMOTIONS
from erc_core.provenance import run_provenance


def parse_args(argv) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    check_dev_fraction(args.dev_fraction, "--dev-fraction")
    return args


def dev_id_list(given: str | None) -> list | None:
    """Ids from a file (one per line, blank lines and # comments skipped) or a comma list."""
    if given is None:
        return None
    path = Path(given)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        ids = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    else:
        ids = [part.strip() for part in given.split(",") if part.strip()]
    if not ids:
        raise UserError(f"--dev-ids {given}: no dialogue ids in it (a file with one id per line, or id1,id2,...)")
    return ids


def import_pickle(argv) -> int:
    args = parse_args(argv)
    explicit = [n.strip() for n in args.label_names.split(",")] if args.label_names else None
    dev_ids = dev_id_list(args.dev_ids)
    if args.format == "cogmen":
        if not (explicit or args.labels):
            raise UserError("--format cogmen needs --labels or --label-names (the source's class order)")
        label_names = explicit or LABEL_SETS[args.labels]
        dialogues, report = import_cogmen_tuple(load_cogmen_tuple(args.input), label_names, str(args.input),
                                                dev_fraction=args.dev_fraction, dev_ids=dev_ids)
    else:
        dialogues, report = import_kemdy_cogmen(load_kemdy_cogmen(args.input), str(args.input),
                                                explicit or SOURCE_LABELS, dev_fraction=args.dev_fraction,
                                                dev_ids=dev_ids)
        label_names = list(EMOTIONS)
    check_dialogues(dialogues, label_names, str(args.input))
    config = {"importer": args.format, "source": str(args.input), "label_set": args.labels,
              "label_names": label_names, "dev_rule": report.dev_rule,
              "dev_fraction": None if dev_ids else args.dev_fraction, "dev_ids": dev_ids,
              "empty_features": report.empty_features, "unassigned_dialogues": report.unassigned,
              "provenance": {"imported_from": {"path": str(args.input), "sha256": file_sha256(args.input),
                                               "format": args.format},
                             "run": run_provenance()}}
    write_conversations(args.output, dialogues, label_names, config)
    for line in report.lines():
        print(line)
    print(f"wrote {args.output}")
    return 0


def main(argv=None) -> int:
    return run_command(import_pickle, argv)


if __name__ == "__main__":
    sys.exit(main())
