"""Report a corpus's class mix, durations and conversation dynamics (next to the real KEMDy19 figures
for a KEMDy index).

    kemdy-corpus-report --index work/kemdy19_index
    kemdy-corpus-report --index work/meld            # any index: MELD, IEMOCAP, a table, ...
    kemdy-corpus-report --ground-truth demo_work/corpus/synthetic_ground_truth.csv
    kemdy-corpus-report --ground-truth ... --label hidden    # the speakers' true states

With --index the labels are the index's `emotion` column (ties handled by the index's tie policy);
with --ground-truth they are the written Total Evaluation labels with tie rows dropped (as in the
real figures), or the hidden states with --label hidden. An index whose label set is not KEMDy's,
or that has no utterance durations, gets the corpus-agnostic report: class mix in the index's
own class order (and where that order came from), split and speaker counts, durations where
known, and the same dynamics definitions (feature_extractor/synthetic/statistics.py)."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from erc_core.cli import add_common_flags, run_command
from erc_core.files import write_json
from erc_core.labels import KEMDY_LABELS
from feature_extractor.synthetic.statistics import (
    corpus_statistics,
    format_report,
    ground_truth_table,
    partner_agreement,
    same_speaker_pairs,
    same_speaker_persistence,
    speaker_change_rate,
    statistics_as_dict,
)

DYNAMICS = {"speaker_change_rate": speaker_change_rate, "same_speaker_persistence": same_speaker_persistence,
            "partner_agreement": partner_agreement}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=Path, help="an index folder written by kemdy-index")
    source.add_argument("--ground-truth", type=Path, help="synthetic_ground_truth.csv of a synthetic corpus")
    parser.add_argument("--label", choices=("written", "hidden"), default="written",
                        help="with --ground-truth: written labels (ties dropped) or hidden states (default: written)")
    parser.add_argument("--json", type=Path, help="also write the statistics as JSON here (default: none)")
    return add_common_flags(parser).parse_args(argv)


def load_table(args):
    """(table, title, label names, where the class order came from)."""
    if args.index is not None:
        from feature_extractor.corpus import read_index, read_index_meta

        meta = read_index_meta(args.index)
        names = tuple(meta.get("label_names", KEMDY_LABELS))
        source = meta.get("resolved", {}).get("label_source", "the corpus reader's")
        return read_index(args.index), f"index {args.index} ({meta.get('dataset')})", names, source
    table = ground_truth_table(args.ground_truth, args.label)
    return table, f"{args.ground_truth} ({args.label} labels)", KEMDY_LABELS, "KEMDy"


def is_kemdy_like(table: pd.DataFrame, label_names) -> bool:
    """The KEMDy19 comparison needs KEMDy's label set and a duration for every utterance."""
    return tuple(label_names) == KEMDY_LABELS and bool(table["duration"].notna().all())


def generic_statistics(table: pd.DataFrame, label_names) -> dict:
    counts = table["emotion"].value_counts()
    seconds = table["duration"].dropna().to_numpy(dtype=np.float64) if "duration" in table else np.zeros(0)
    speakers = table.groupby("dialogue_id")["speaker"].nunique()
    stats = {
        "utterances": len(table),
        "dialogues": int(table["dialogue_id"].nunique()),
        "class_mix": {name: float(counts.get(name, 0)) / max(len(table), 1) for name in label_names},
        "speakers": int(table["speaker"].nunique()),
        "speakers_per_dialogue": {"mean": float(speakers.mean()), "max": int(speakers.max())},
        "duration": None if seconds.size == 0 else {
            "known": int(seconds.size), "mean": float(seconds.mean()), "median": float(np.median(seconds)),
            "p95": float(np.percentile(seconds, 95)), "max": float(seconds.max())},
        **{key: function(table) for key, function in DYNAMICS.items()},
        "transitions": transitions(table, label_names),
    }
    if "split" in table:
        groups = table.groupby("split")
        stats["splits"] = {name: {"utterances": int(groups.size().get(name, 0)),
                                  "dialogues": int(groups["dialogue_id"].nunique().get(name, 0))}
                           for name in ("train", "dev", "test")}
    return stats


def transitions(table: pd.DataFrame, label_names) -> dict:
    """Same-speaker transition frequencies in the class order, rows summing to 1 (None: no data)."""
    pairs = same_speaker_pairs(table)
    counts = pd.crosstab(pairs["prev_emotion"], pairs["emotion"]).reindex(
        index=list(label_names), columns=list(label_names), fill_value=0)
    totals = counts.sum(axis=1)
    table = counts.div(totals.where(totals > 0), axis=0).astype(object)
    return {prev: {k: (None if pd.isna(v) else float(v)) for k, v in table.loc[prev].items()} for prev in table.index}


def format_generic(stats: dict, title: str, label_names, label_source: str) -> str:
    lines = [f"{title}: {stats['utterances']} utterances in {stats['dialogues']} dialogues, "
             f"{stats['speakers']} speakers (per dialogue mean {stats['speakers_per_dialogue']['mean']:.2f}, "
             f"max {stats['speakers_per_dialogue']['max']})", ""]
    lines.append(f"class mix (class order: {label_source})")
    lines += [f"  {name:<26}{stats['class_mix'][name]:>8.3f}" for name in label_names]
    for name, split in stats.get("splits", {}).items():
        lines.append(f"  {name:<5} {split['utterances']} utterances, {split['dialogues']} dialogues")
    duration = stats["duration"]
    lines += ["", "duration (s): " + ("unknown (no start / end times)" if duration is None else
                                       f"mean {duration['mean']:.2f}, median {duration['median']:.2f}, "
                                       f"p95 {duration['p95']:.2f}, max {duration['max']:.2f} "
                                       f"({duration['known']} utterances)")]
    lines += ["", "dynamics"] + [f"  {key.replace('_', ' '):<26}{stats[key]:>8.3f}" for key in DYNAMICS]
    lines += ["", "same-speaker transitions (row = previous, column = next)"]
    lines.append(f"{'':<12}" + "".join(f"{name[:10]:>11}" for name in label_names))
    for prev in label_names:
        row = stats["transitions"][prev]
        lines.append(f"{prev[:12]:<12}" + "".join(f"{'-' if row[n] is None else format(row[n], '.2f'):>11}"
                                                   for n in label_names))
    return "\n".join(lines)


def report(argv) -> int:
    args = parse_args(argv)
    table, title, label_names, label_source = load_table(args)
    if is_kemdy_like(table, label_names):
        stats = corpus_statistics(table)
        print(format_report(stats, title))
        as_dict = statistics_as_dict(stats)
    else:
        as_dict = generic_statistics(table, label_names) | {"label_names": list(label_names)}
        print(format_generic(as_dict, title, label_names, label_source))
    if "text" in table:
        as_dict["empty_text"] = int((table["text"] == "").sum())
        print(f"\nempty text: {as_dict['empty_text']} utterances "
              "(kept with their audio; transcript empty or only markup)")
    if args.json is not None:
        write_json(args.json, as_dict)
    return 0


def main(argv=None) -> int:
    return run_command(report, argv)


if __name__ == "__main__":
    sys.exit(main())
