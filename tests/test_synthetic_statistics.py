"""Corpus statistics against small hand-made utterance tables with hand-computed answers."""

import math

import numpy as np
import pandas as pd
import pytest

from feature_extractor.synthetic import statistics as stats
from feature_extractor.synthetic.reference import TABLE_ORDER

# Dialogue d1 (turns 0-5) and d2 (turns 0, 2, 5: rows 1, 3, 4 were dropped, e.g. ties).
#   d1: A neutral | B happy | B happy | A neutral | B angry | A happy
#   d2: C sad | D sad | C neutral
ROWS = [
    ("d1", "A", 0, "neutral", 1.0),
    ("d1", "B", 1, "happy", 2.0),
    ("d1", "B", 2, "happy", 3.0),
    ("d1", "A", 3, "neutral", 4.0),
    ("d1", "B", 4, "angry", 5.0),
    ("d1", "A", 5, "happy", 6.0),
    ("d2", "C", 0, "sad", 7.0),
    ("d2", "D", 2, "sad", 8.0),
    ("d2", "C", 5, "neutral", 9.0),
]


@pytest.fixture
def table():
    frame = pd.DataFrame(ROWS, columns=["dialogue_id", "speaker", "turn", "emotion", "duration"])
    # Shuffled rows: the functions must order by (dialogue, turn) themselves.
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_speaker_change_rate(table):
    # Consecutive pairs: d1 has 5 (changes at 0-1, 2-3, 3-4, 4-5), d2 has 2 (both changes): 6 of 7.
    assert stats.speaker_change_rate(table) == pytest.approx(6 / 7)


def test_partner_agreement(table):
    # Of the 6 speaker-change pairs only d2's sad -> sad agrees.
    assert stats.partner_agreement(table) == pytest.approx(1 / 6)


def test_same_speaker_persistence(table):
    # A: neutral->neutral (same), neutral->happy; B: happy->happy (same), happy->angry;
    # C: sad->neutral; D has a single utterance. 2 of 5.
    assert stats.same_speaker_persistence(table) == pytest.approx(2 / 5)


def test_transition_table(table):
    result = stats.transition_table(table)
    assert list(result.index) == list(TABLE_ORDER) and list(result.columns) == list(TABLE_ORDER)
    assert result.loc["neutral", "neutral"] == pytest.approx(0.5)
    assert result.loc["neutral", "happy"] == pytest.approx(0.5)
    assert result.loc["happy", "happy"] == pytest.approx(0.5)
    assert result.loc["happy", "angry"] == pytest.approx(0.5)
    assert result.loc["sad", "neutral"] == pytest.approx(1.0)
    assert result.loc["sad"].drop("neutral").eq(0).all()
    for row_without_data in ("angry", "disgust", "fear", "surprise"):
        assert result.loc[row_without_data].isna().all()


def test_class_mix_and_durations(table):
    mix = stats.class_mix(table)
    assert list(mix) == ["neutral", "happy", "surprise", "angry", "sad", "disgust", "fear"]
    assert mix == pytest.approx({"neutral": 3 / 9, "happy": 3 / 9, "surprise": 0.0, "angry": 1 / 9,
                                 "sad": 2 / 9, "disgust": 0.0, "fear": 0.0})
    durations = stats.duration_summary(table)
    # 1..9 s: p95 sits at rank 0.95 * 8 = 7.6 between the 8th (8 s) and 9th (9 s) values.
    assert durations == pytest.approx({"mean": 5.0, "median": 5.0, "p95": 8.6, "max": 9.0})


def test_report_shows_both_figures(table):
    report = stats.format_report(stats.corpus_statistics(table), "hand-made")
    assert "hand-made: 9 utterances in 2 dialogues" in report
    persistence_line = next(line for line in report.splitlines() if "persistence" in line)
    assert persistence_line.split()[-2:] == ["0.400", "0.665"]
    neutral_row = next(line for line in report.splitlines() if line.startswith("neutral "))
    assert "0.50/0.71" in neutral_row  # this corpus / KEMDy19 for neutral -> neutral


def test_missing_columns_and_unknown_emotion_are_errors(table):
    with pytest.raises(ValueError, match="missing column.*duration"):
        stats.corpus_statistics(table.drop(columns=["duration"]))
    with pytest.raises(ValueError, match="unknown emotion.*'joy'"):
        stats.corpus_statistics(table.assign(emotion=table["emotion"].replace("sad", "joy")))


def test_ground_truth_table_drops_ties_and_maps_spellings(tmp_path):
    path = tmp_path / "synthetic_ground_truth.csv"
    pd.DataFrame({
        "segment_id": ["s1", "s2", "s3", "s4"],
        "dialogue_id": ["d", "d", "d", "d"],
        "speaker": ["A", "B", "A", "B"],
        "turn": [0, 1, 2, 3],
        "duration": [1.0, 2.0, 3.0, 4.0],
        "hidden_state": ["disgust", "happy", "neutral", "sad"],
        "total_emotion_written": ["disqust", "happy;neutral", "neutral", "neutral"],
    }).to_csv(path, index=False)
    written = stats.ground_truth_table(path, "written")
    assert written["emotion"].tolist() == ["disgust", "neutral", "neutral"]
    assert written["turn"].tolist() == [0, 2, 3]
    hidden = stats.ground_truth_table(path, "hidden")
    assert hidden["emotion"].tolist() == ["disgust", "happy", "neutral", "sad"]
    # The tie row (B, turn 1) is skipped over: pairs are A0->A2 (no change) and A2->B3 (a change,
    # neutral both times).
    assert stats.speaker_change_rate(written) == pytest.approx(1 / 2)
    assert stats.partner_agreement(written) == pytest.approx(1.0)


def test_statistics_as_dict_is_json_ready(table):
    result = stats.statistics_as_dict(stats.corpus_statistics(table))
    assert result["transitions"]["sad"]["neutral"] == pytest.approx(1.0)
    assert result["transitions"]["fear"]["fear"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in result["class_mix"].values())
    assert np.isclose(result["speaker_change_rate"], 6 / 7)
