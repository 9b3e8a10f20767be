"""Convert a COGMEN-style feature pickle into a conversation pickle for stage 3.

    python scripts/import_features.py --format cogmen --labels iemocap_4 IEMOCAP_features_4.pkl data/iemocap4.pkl
    python scripts/import_features.py --format cogmen --label-names neg,pos my_tuple.pkl data/mine.pkl
    python scripts/import_features.py --format kemdy-cogmen new_2019cogmen_format_feat.pkl data/kemdy19_cogmen.pkl

The input is read with the restricted unpickler (no code from it runs). Dev = the first 10 % of
the train ids in stored order (COGMEN's rule; --dev-fraction changes the share)."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cgnn.conversation_pickle import write_conversations  # noqa: E402
from cgnn.importers.cogmen_tuple import (  # noqa: E402
    DEV_FRACTION, LABEL_SETS, ImportFormatError, check_dialogues, import_cogmen_tuple, load_cogmen_tuple)
from cgnn.importers.kemdy_cogmen import SOURCE_LABELS, import_kemdy_cogmen, load_kemdy_cogmen  # noqa: E402
from erc_core.labels import EMOTIONS  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", required=True, choices=("cogmen", "kemdy-cogmen"))
    parser.add_argument("--labels", choices=sorted(LABEL_SETS),
                        help="known class order of the source pickle (cogmen format)")
    parser.add_argument("--label-names", help="comma-separated class names in the source's numbering")
    parser.add_argument("--dev-fraction", type=float, default=DEV_FRACTION)
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    explicit = [n.strip() for n in args.label_names.split(",")] if args.label_names else None
    try:
        if args.format == "cogmen":
            if not (explicit or args.labels):
                parser.error("--format cogmen needs --labels or --label-names")
            label_names = explicit or LABEL_SETS[args.labels]
            dialogues, report = import_cogmen_tuple(load_cogmen_tuple(args.input), label_names,
                                                    str(args.input), dev_fraction=args.dev_fraction)
        else:
            source_labels = explicit or SOURCE_LABELS
            dialogues, report = import_kemdy_cogmen(load_kemdy_cogmen(args.input), str(args.input),
                                                    source_labels, dev_fraction=args.dev_fraction)
            label_names = list(EMOTIONS)
        check_dialogues(dialogues, label_names, str(args.input))
    except (ImportFormatError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = {"importer": args.format, "source": str(args.input), "label_set": args.labels,
              "label_names": label_names, "dev_fraction": args.dev_fraction,
              "dev_rule": "first dev_fraction of train ids in stored order (sets sorted)",
              "empty_features": report.empty_features, "unassigned_dialogues": report.unassigned}
    write_conversations(args.output, dialogues, label_names, config)
    for line in report.lines():
        print(line)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
