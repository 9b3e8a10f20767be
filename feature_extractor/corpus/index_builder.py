"""Raw KEMDy19 / KEMDy20 tree -> the utterance index (one row per utterance, docs/contracts.md).

`IndexResult` is what every corpus reader returns (KEMDy here, utterance tables and their presets
in utterance_table.py / presets/): one contract, written by index_io.write_index."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from erc_core.labels import KEMDY_LABELS
from feature_extractor.corpus.datasets import corpus_layout
from feature_extractor.corpus.emotion_labels import add_emotion_columns
from feature_extractor.corpus.errors import CorpusError, display_path
from feature_extractor.corpus.physio import MASK_COLUMNS, PHYSIO_COLUMNS, summarize_physio
from feature_extractor.corpus.schema import SKIPPED_COLUMNS, complete_index_frame
from feature_extractor.corpus.segment_media import attach_media
from feature_extractor.corpus.splits import SPLIT_NAMES, ResolvedSplit, SplitConfig, resolve_split


@dataclass
class IndexResult:
    frame: pd.DataFrame  # index columns (schema.py), sorted by (session, dialogue_id, turn)
    skipped: pd.DataFrame  # segment_id, file (relative to the corpus root), reason
    dataset: str
    corpus_root: Path
    label_names: tuple  # the class order: `label` indexes it
    options: dict = field(default_factory=dict)  # the reader's resolved options (split rule, ...)
    notes: dict = field(default_factory=dict)

    def resolved_options(self) -> dict:
        return {"dataset": self.dataset, "label_names": list(self.label_names), **self.options}

    def counts(self) -> dict:
        frame = self.frame
        mask_columns = [c for c in MASK_COLUMNS if c in frame.columns]
        return {
            "utterances": len(frame),
            "dialogues": int(frame["dialogue_id"].nunique()),
            "sessions": int(frame["session"].nunique()),
            "speakers": int(frame["speaker"].nunique()),
            "emotions": {name: int((frame["emotion"] == name).sum()) for name in self.label_names},
            "ties_kept": int(frame["is_tie"].sum()) if "is_tie" in frame else 0,
            "empty_text": int((frame["text"] == "").sum()),
            "splits": {name: _split_counts(frame[frame["split"] == name]) for name in SPLIT_NAMES},
            "physio_coverage": {c.removeprefix("has_"): int(frame[c].sum()) for c in mask_columns},
            "skipped": dict(sorted(Counter(self.skipped["reason"]).items())),
            "skipped_total": len(self.skipped),
        }


def build_index(
    root, dataset: str | None = None, tie_policy: str = "drop", split: SplitConfig | None = None, physio: bool = True
) -> IndexResult:
    """Read the corpus at `root` into the utterance index.

    dataset: "KEMDy19", "KEMDy20" or None (recognised from the annotation file names).
    tie_policy: "drop", "soft" or "first" (see emotion_labels.py). split: SplitConfig or None
    (the dataset's default held-out sessions). physio: False skips the signal files (all
    physio summaries NaN, masks False). Raises CorpusError on malformed input and when every
    segment would be skipped."""
    root = Path(root).resolve()
    layout = corpus_layout(root, dataset)
    annotated = layout.read_segments(root)
    segments = add_emotion_columns(annotated.frame, tie_policy)
    resolved = resolve_split(split, layout.name, segments["session"])
    skipped = [dict(row, file=display_path(row["file"], root)) for row in annotated.skipped]

    if tie_policy == "drop":
        segments = _drop_ties(segments, skipped, root)
    segments = _with_media(segments, skipped, root)
    if segments.empty:
        reasons = dict(Counter(row["reason"] for row in skipped))
        raise CorpusError(
            f"every one of the {len(skipped)} annotated segments would be skipped ({reasons})",
            root,
            expected="at least one segment with a readable wav and a transcript",
        )

    frame = _index_frame(segments, layout.name, resolved)
    frame = _with_physio(frame, root, segments, layout) if physio else frame
    return IndexResult(
        frame=complete_index_frame(frame, KEMDY_LABELS),
        skipped=pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS)).astype(str),
        dataset=layout.name,
        corpus_root=root,
        label_names=KEMDY_LABELS,
        options={"tie_policy": tie_policy, "split": resolved.as_dict(), "physio": physio},
        notes=annotated.notes,
    )


def _drop_ties(segments: pd.DataFrame, skipped: list, root: Path) -> pd.DataFrame:
    ties = segments[segments["is_tie"]]
    skipped += _skip_rows(ties, ["tie"] * len(ties), ties["annotation_file"], root)
    return segments[~segments["is_tie"]]


def _with_media(segments: pd.DataFrame, skipped: list, root: Path) -> pd.DataFrame:
    """Segments with a usable wav and transcript, with `wav_path` (as found), `text_raw` and
    `text`; the others are appended to `skipped`."""
    media = attach_media(root, segments)
    unusable = media["skip_reason"] != ""
    skipped += _skip_rows(segments[unusable], media.loc[unusable, "skip_reason"], media.loc[unusable, "skip_file"], root)
    segments = pd.concat([segments.drop(columns=["wav_path"]), media[["wav_path", "text_raw", "text"]]], axis=1)
    return segments[~unusable]


def _skip_rows(rows: pd.DataFrame, reasons, files, root: Path) -> list[dict]:
    return [
        {"segment_id": segment, "file": display_path(Path(root) / file, root), "reason": reason}
        for segment, file, reason in zip(rows["segment_id"], files, reasons)
    ]


def _index_frame(segments: pd.DataFrame, dataset: str, resolved: ResolvedSplit) -> pd.DataFrame:
    frame = segments.sort_values(["session", "dialogue_id", "start", "end", "segment_id"], kind="stable").copy()
    frame["turn"] = frame.groupby("dialogue_id", sort=False).cumcount()
    frame["dataset"] = dataset
    frame["duration"] = frame["end"] - frame["start"]
    frame["split"] = resolved.split_of(frame["session"])
    for column in PHYSIO_COLUMNS:
        frame[column] = float("nan")
    for column in MASK_COLUMNS:
        frame[column] = False
    return frame


def _with_physio(frame: pd.DataFrame, root: Path, segments: pd.DataFrame, layout) -> pd.DataFrame:
    summaries = summarize_physio(root, segments, layout.signals, layout.signal_owner, layout.owner_column)
    frame = frame.drop(columns=list(summaries.columns))
    return frame.merge(summaries, left_on="segment_id", right_index=True, how="left", validate="1:1")


def _split_counts(frame: pd.DataFrame) -> dict:
    return {
        "utterances": len(frame),
        "dialogues": int(frame["dialogue_id"].nunique()),
        "sessions": sorted(int(s) for s in frame["session"].unique()),
    }
