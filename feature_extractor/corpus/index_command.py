"""Build the utterance index of a corpus: a raw KEMDy tree, a release read by a preset, or any table.

    kemdy-index --corpus data/KEMDy19 --out work/kemdy19_index
    kemdy-index --corpus data/KEMDy20_v1_1 --out work/k20 --tie-policy soft --folds 5 --fold 0
    kemdy-index --preset meld --corpus data/MELD --out work/meld
    kemdy-index --preset emorynlp --corpus data/EmoryNLP --out work/emorynlp
    kemdy-index --preset iemocap --corpus data/IEMOCAP_full_release --classes 4 --out work/iemocap4
    kemdy-index --table ../shared/benchmarks/iemocap6_text.csv --columns split=split \\
        --labels hap,sad,neu,ang,exc,fru --out work/iemocap6
    kemdy-index --table talks.jsonl --spec talks_spec.yaml --audio-root data/talks --out work/talks

Writes index.csv, index.meta.json and skipped.csv into --out and prints a summary. KEMDy sessions
may be given as numbers or ranges: `--test-sessions 19 20`, `--test-sessions 19-20`.

Table columns (`--columns KEY=COLUMN ...` or the same keys in a YAML / JSON `--spec` file; the
command line wins): dialogue, order, speaker, text, label (required; defaults dialogue_id, turn,
speaker, text, emotion) and split, audio, clip_start, clip_end, start, end, gender, soft,
valence, arousal, session, segment_id. A spec file may also set labels, label_map, drop_labels,
speaker_list. See docs/corpus.md, "Utterance tables and release presets"."""

import argparse
import json
import sys
from pathlib import Path

import yaml

from erc_core.cli import add_common_flags, run_command
from erc_core.errors import UserError
from feature_extractor.corpus import SplitConfig, build_index, write_index
from feature_extractor.corpus.emotion_labels import TIE_POLICIES
from feature_extractor.corpus.presets import PRESETS, read_preset
from feature_extractor.corpus.presets.iemocap import DEV_RULES
from feature_extractor.corpus.utterance_table import FORMATS, TableSpec, read_utterance_table

KEMDY_DATASETS = ("KEMDy19", "KEMDy20")
KEMDY_ONLY = ("tie_policy", "test_sessions", "dev_sessions", "folds", "fold", "no_physio")
TABLE_ONLY = ("columns", "spec", "labels", "label_map", "drop_labels", "audio_root", "format", "speaker_list")
IEMOCAP_ONLY = ("classes", "dev_rule")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_argument_group("what to read (one of --corpus, --table)")
    source.add_argument("--corpus", type=Path, help="a raw KEMDy tree, or with --preset the release folder")
    source.add_argument("--preset", choices=sorted(PRESETS), help="read --corpus as this release (default: KEMDy tree)")
    source.add_argument("--table", type=Path, help="an utterance table (.csv, .tsv, .jsonl), one row per utterance")
    parser.add_argument("--out", required=True, type=Path, help="folder for index.csv, index.meta.json, skipped.csv")
    parser.add_argument("--dataset", help="dataset name in the index (default: KEMDy trees recognised from "
                        "annotation/, presets MELD / EmoryNLP / IEMOCAP, a table its file name)")
    kemdy = parser.add_argument_group("KEMDy trees")
    kemdy.add_argument("--tie-policy", choices=TIE_POLICIES, help="rows whose Total Evaluation is a tie "
                       "(default: drop; see docs/corpus.md)")
    kemdy.add_argument("--test-sessions", nargs="+", help="default: KEMDy19 19-20, KEMDy20 37-40")
    kemdy.add_argument("--dev-sessions", nargs="*", help="default: KEMDy19 17-18, KEMDy20 33-36; none: no dev")
    kemdy.add_argument("--folds", type=int, help="k-fold by contiguous session blocks (default: 0, off)")
    kemdy.add_argument("--fold", type=int, help="test block under --folds; dev is the next block (default: 0)")
    kemdy.add_argument("--no-physio", action="store_true", default=None,
                       help="do not read the signal files (default: read them)")
    table = parser.add_argument_group("utterance tables")
    table.add_argument("--columns", nargs="+", metavar="KEY=COLUMN",
                       help="which column holds what, e.g. dialogue=conv_id order=start_s label=emo "
                       "(default: dialogue_id, turn, speaker, text, emotion; no split / audio column)")
    table.add_argument("--spec", type=Path, help="a YAML or JSON file with the same keys (default: none)")
    table.add_argument("--labels", help="class order, comma separated; every label must be in it "
                       "(default: the labels found, sorted)")
    table.add_argument("--label-map", nargs="+", metavar="RAW=LABEL",
                       help="rename labels, e.g. exc=hap (default: none)")
    table.add_argument("--drop-labels", help="labels whose rows are skipped (label_not_in_set), comma separated "
                       "(default: none)")
    table.add_argument("--audio-root", type=Path,
                       help="folder the audio column is relative to (default: the table's folder)")
    table.add_argument("--format", choices=sorted(set(FORMATS.values())),
                       help="table format (default: from the extension: " + ", ".join(FORMATS) + ")")
    table.add_argument("--speaker-list", action="store_true", default=None,
                       help="speaker cells are list literals like ['Ross', 'Joey'] (default: plain names)")
    iemocap = parser.add_argument_group("--preset iemocap")
    iemocap.add_argument("--classes", type=int, choices=(6, 4), help="6: hap sad neu ang exc fru; 4: exc merged "
                         "into hap, fru left out (default: 6)")
    iemocap.add_argument("--dev-rule", choices=DEV_RULES, help="sorted: first 10%% of the train dialogues in "
                         "sorted order; cogmen: the COGMEN pickle's 12 dev dialogues (default: sorted)")
    return add_common_flags(parser).parse_args(argv)


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


def source_kind(args) -> str:
    """"kemdy", "preset" or "table"; options of another kind are an error, not silently ignored."""
    if (args.corpus is None) == (args.table is None):
        raise UserError("give one of --corpus (a KEMDy tree, or a release with --preset) and --table")
    if args.preset and args.table is not None:
        raise UserError("--preset reads a release folder: give it with --corpus, not --table")
    kind = "table" if args.table is not None else "preset" if args.preset else "kemdy"
    allowed = {"kemdy": KEMDY_ONLY, "table": TABLE_ONLY, "preset": IEMOCAP_ONLY if args.preset == "iemocap" else ()}
    given = [key for key in KEMDY_ONLY + TABLE_ONLY + IEMOCAP_ONLY
             if key not in allowed[kind] and getattr(args, key) is not None]
    if given:
        flags = ", ".join("--" + key.replace("_", "-") for key in given)
        what = {"kemdy": "a KEMDy tree", "table": "--table", "preset": f"--preset {args.preset}"}[kind]
        raise UserError(f"{flags}: not an option for {what}")
    return kind


def table_spec(args) -> TableSpec:
    """The spec file's keys, then --columns, --labels, --label-map, --drop-labels, --speaker-list."""
    values = read_spec_file(args.spec) if args.spec else {}
    values |= key_values(args.columns or (), "--columns", "KEY=COLUMN")
    if args.labels is not None:
        values["labels"] = args.labels
    if args.label_map:
        values["label_map"] = key_values(args.label_map, "--label-map", "RAW=LABEL")
    if args.drop_labels is not None:
        values["drop_labels"] = args.drop_labels
    if args.speaker_list:
        values["speaker_list"] = True
    return TableSpec.from_mapping(values, str(args.spec or "--columns"))


def read_spec_file(path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    try:
        values = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise UserError(f"{path}: not a valid spec file ({type(error).__name__}: {error})") from None
    if not isinstance(values, dict):
        raise UserError(f"{path}: expected a mapping of spec keys (dialogue: ..., order: ...)")
    return values


def key_values(items, flag: str, shape: str) -> dict:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"{flag} {item!r}: expected {shape}")
        pairs[key.strip()] = value.strip()
    return pairs


def read_source(args, kind: str):
    if kind == "table":
        return read_utterance_table(args.table, table_spec(args), dataset=args.dataset, audio_root=args.audio_root,
                                    fmt=args.format)
    if kind == "preset":
        options = {k: getattr(args, k) for k in IEMOCAP_ONLY if getattr(args, k) is not None}
        result = read_preset(args.preset, args.corpus, **options)
        result.dataset = args.dataset or result.dataset
        result.frame["dataset"] = result.dataset
        return result
    if args.dataset is not None and args.dataset not in KEMDY_DATASETS:
        raise UserError(f"--dataset {args.dataset!r}: a KEMDy tree is one of {', '.join(KEMDY_DATASETS)} "
                        "(for other corpora use --preset or --table)")
    split = SplitConfig(test_sessions=session_list(args.test_sessions), dev_sessions=session_list(args.dev_sessions),
                        folds=args.folds or 0, fold=args.fold or 0)
    return build_index(args.corpus, dataset=args.dataset, tie_policy=args.tie_policy or "drop", split=split,
                       physio=not args.no_physio)


def _has_sessions(result) -> bool:
    """False for a table index read without a session column (its rows all carry session 0)."""
    spec = result.options.get("spec")
    return spec is None or spec.get("session") is not None


def print_summary(result, out_dir: Path) -> None:
    counts = result.counts()
    kemdy = result.dataset in KEMDY_DATASETS
    print(f"{result.dataset} index written to {out_dir}")
    ties = f" (ties kept: {counts['ties_kept']})" if kemdy else ""
    sessions = counts["sessions"] if _has_sessions(result) else "none (no session column: every row in session 0)"
    print(f"  utterances {counts['utterances']}, dialogues {counts['dialogues']}, sessions {sessions}, "
          f"speakers {counts['speakers']}{ties}")
    total = max(counts["utterances"], 1)
    mix = ", ".join(f"{name} {n} ({100 * n / total:.1f}%)" for name, n in counts["emotions"].items())
    source = result.options.get("label_source")
    print(f"  classes{' (' + source + ')' if source else ''}: {mix}")
    if counts["empty_text"]:
        print(f"  empty text: {counts['empty_text']} utterances kept with their audio "
              "(transcript empty or only markup)")
    for name, split in counts["splits"].items():
        print(f"  {name:5s}: {split['utterances']} utterances, {split['dialogues']} dialogues, "
              f"sessions {split['sessions']}")
    if "split_rule" in result.options:
        print(f"  split: {result.options['split_rule']}")
    if kemdy:
        coverage = ", ".join(f"{s} {n}" for s, n in counts["physio_coverage"].items())
        read = "" if result.options.get("physio") else " (physio not read)"
        print(f"  physio coverage (utterances): {coverage}{read}")
    reasons = ", ".join(f"{reason}: {n}" for reason, n in counts["skipped"].items()) or "none"
    print(f"  skipped {counts['skipped_total']} ({reasons}); see {out_dir / 'skipped.csv'}")
    for note, value in result.notes.items():
        if isinstance(value, list):  # one line per item: each names its file and line
            print(f"  note: {note}: {len(value)}")
            for item in value:
                print(f"    {item}")
        else:
            print(f"  note: {note}: {value}")


def main(argv=None) -> int:
    return run_command(build, argv)


def build(argv) -> int:
    args = parse_args(argv)
    result = read_source(args, source_kind(args))
    options = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()
               if value is not None and key not in ("verbose", "debug")}
    write_index(result, args.out, options)
    print_summary(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
