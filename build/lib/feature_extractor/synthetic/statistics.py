"""Corpus statistics of an utterance table, side by side with the real KEMDy19 figures.

Input: a DataFrame with columns dialogue_id, speaker, turn, emotion, duration (the utterance index
of docs/contracts.md has them). Rows are ordered by (dialogue_id, turn) here; "previous utterance"
means the previous row of the same dialogue in that order, so rows left out of the table (ties
under the default `drop` policy) are skipped over, as in the real figures (tie rows dropped).

Definitions:
- speaker change rate: over consecutive utterance pairs, the fraction whose speakers differ;
- same-speaker persistence: over utterances that have an earlier utterance by the same speaker in
  the dialogue, the fraction whose emotion equals that speaker's previous emotion;
- partner agreement: over consecutive pairs with a speaker change, the fraction with equal emotions;
- transition table: same-speaker pairs, row = previous emotion, column = next, rows sum to 1;
- duration p95: linear interpolation between order statistics (numpy's default percentile).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from erc_core.labels import EMOTIONS, canonical_emotion
from feature_extractor.synthetic.reference import (
    KEMDY19_CLASS_MIX,
    KEMDY19_DURATION,
    KEMDY19_DYNAMICS,
    KEMDY19_TRANSITIONS,
    TABLE_ORDER,
)

REQUIRED_COLUMNS = ("dialogue_id", "speaker", "turn", "emotion", "duration")


@dataclass(frozen=True)
class CorpusStatistics:
    utterances: int
    dialogues: int
    class_mix: dict  # emotion -> fraction, EMOTIONS order
    duration: dict  # mean, median, p95, max (seconds)
    speaker_change_rate: float
    same_speaker_persistence: float
    partner_agreement: float
    transitions: pd.DataFrame  # TABLE_ORDER x TABLE_ORDER


def check_columns(frame: pd.DataFrame, source: str = "utterance table") -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["dialogue_id", "turn"], kind="stable").reset_index(drop=True)


def class_mix(frame: pd.DataFrame) -> dict:
    unknown = sorted(set(frame["emotion"]) - set(EMOTIONS))
    if unknown:
        raise ValueError(f"unknown emotion(s) {unknown}; expected one of {', '.join(EMOTIONS)}")
    counts = frame["emotion"].value_counts()
    return {name: float(counts.get(name, 0)) / len(frame) for name in EMOTIONS}


def duration_summary(frame: pd.DataFrame) -> dict:
    seconds = frame["duration"].to_numpy(dtype=np.float64)
    return {
        "mean": float(seconds.mean()),
        "median": float(np.median(seconds)),
        "p95": float(np.percentile(seconds, 95)),
        "max": float(seconds.max()),
    }


def consecutive_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each utterance with the previous one of its dialogue: speaker, emotion, prev_speaker, prev_emotion."""
    rows = ordered(frame)
    by_dialogue = rows.groupby("dialogue_id", sort=False)
    pairs = pd.DataFrame({
        "speaker": rows["speaker"],
        "emotion": rows["emotion"],
        "prev_speaker": by_dialogue["speaker"].shift(),
        "prev_emotion": by_dialogue["emotion"].shift(),
    })
    return pairs[pairs["prev_speaker"].notna()]


def same_speaker_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each utterance with the same speaker's previous utterance in the dialogue: emotion, prev_emotion."""
    rows = ordered(frame)
    previous = rows.groupby(["dialogue_id", "speaker"], sort=False)["emotion"].shift()
    pairs = pd.DataFrame({"emotion": rows["emotion"], "prev_emotion": previous})
    return pairs[pairs["prev_emotion"].notna()]


def speaker_change_rate(frame: pd.DataFrame) -> float:
    pairs = consecutive_pairs(frame)
    return _fraction(pairs["speaker"] != pairs["prev_speaker"])


def partner_agreement(frame: pd.DataFrame) -> float:
    pairs = consecutive_pairs(frame)
    changed = pairs[pairs["speaker"] != pairs["prev_speaker"]]
    return _fraction(changed["emotion"] == changed["prev_emotion"])


def same_speaker_persistence(frame: pd.DataFrame) -> float:
    pairs = same_speaker_pairs(frame)
    return _fraction(pairs["emotion"] == pairs["prev_emotion"])


def transition_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Row-normalised same-speaker transition frequencies; a row without data is NaN."""
    pairs = same_speaker_pairs(frame)
    counts = pd.crosstab(pairs["prev_emotion"], pairs["emotion"])
    counts = counts.reindex(index=list(TABLE_ORDER), columns=list(TABLE_ORDER), fill_value=0)
    totals = counts.sum(axis=1)
    return counts.div(totals.where(totals > 0), axis=0)


def corpus_statistics(frame: pd.DataFrame) -> CorpusStatistics:
    check_columns(frame)
    if len(frame) == 0:
        raise ValueError("utterance table is empty")
    return CorpusStatistics(
        utterances=len(frame),
        dialogues=int(frame["dialogue_id"].nunique()),
        class_mix=class_mix(frame),
        duration=duration_summary(frame),
        speaker_change_rate=speaker_change_rate(frame),
        same_speaker_persistence=same_speaker_persistence(frame),
        partner_agreement=partner_agreement(frame),
        transitions=transition_table(frame),
    )


def ground_truth_table(path, label: str = "written") -> pd.DataFrame:
    """The utterance table of a synthetic corpus's ground truth file.

    label="written": the speaker's Total Evaluation label, tie rows dropped (like the real figures);
    label="hidden": the speaker's true state, every row kept."""
    truth = pd.read_csv(path, encoding="utf-8", keep_default_na=False)
    missing = [c for c in ("dialogue_id", "speaker", "turn", "duration", "hidden_state", "total_emotion_written")
               if c not in truth.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; is this a synthetic_ground_truth.csv?")
    if label == "hidden":
        emotion = truth["hidden_state"]
    elif label == "written":
        truth = truth[~truth["total_emotion_written"].str.contains(";")]
        emotion = truth["total_emotion_written"].map(canonical_emotion)
    else:
        raise ValueError(f"label {label!r}: expected 'written' or 'hidden'")
    return truth[["dialogue_id", "speaker", "turn", "duration"]].assign(emotion=emotion.to_numpy())


def statistics_as_dict(stats: CorpusStatistics) -> dict:
    """JSON-able form (transition table as nested dict; NaN rows become None)."""
    table = stats.transitions.astype(object).where(stats.transitions.notna(), None)
    return {
        "utterances": stats.utterances, "dialogues": stats.dialogues, "class_mix": stats.class_mix,
        "duration": stats.duration, "speaker_change_rate": stats.speaker_change_rate,
        "same_speaker_persistence": stats.same_speaker_persistence, "partner_agreement": stats.partner_agreement,
        "transitions": {prev: table.loc[prev].to_dict() for prev in table.index},
    }


def format_report(stats: CorpusStatistics, title: str = "corpus") -> str:
    """A plain-text report: every synthetic figure next to the real KEMDy19 one."""
    lines = [f"{title}: {stats.utterances} utterances in {stats.dialogues} dialogues", ""]
    lines.append(f"{'class mix':<28}{'this':>8}{'KEMDy19':>9}")
    for name in EMOTIONS:
        lines.append(f"  {name:<26}{stats.class_mix[name]:>8.3f}{KEMDY19_CLASS_MIX[name]:>9.3f}")
    lines += ["", f"{'duration (s)':<28}{'this':>8}{'KEMDy19':>9}"]
    for key in ("mean", "median", "p95", "max"):
        lines.append(f"  {key:<26}{stats.duration[key]:>8.2f}{KEMDY19_DURATION[key]:>9.2f}")
    lines += ["", f"{'dynamics':<28}{'this':>8}{'KEMDy19':>9}"]
    for key in ("speaker_change_rate", "same_speaker_persistence", "partner_agreement"):
        lines.append(f"  {key.replace('_', ' '):<26}{getattr(stats, key):>8.3f}{KEMDY19_DYNAMICS[key]:>9.3f}")
    lines += ["", "same-speaker transitions, this corpus / KEMDy19 (row = previous, column = next)"]
    lines.append(f"{'':<10}" + "".join(f"{name[:8]:>12}" for name in TABLE_ORDER))
    for prev in TABLE_ORDER:
        cells = []
        for position, nxt in enumerate(TABLE_ORDER):
            value = stats.transitions.loc[prev, nxt]
            shown = "  - " if np.isnan(value) else f"{value:.2f}"
            cells.append(f"{shown + '/' + format(KEMDY19_TRANSITIONS[prev][position], '.2f'):>12}")
        lines.append(f"{prev:<10}" + "".join(cells))
    return "\n".join(lines)


def _fraction(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")
