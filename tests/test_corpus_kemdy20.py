"""The KEMDy20 reader on the hand-made tree of kemdy_fixtures.py (expected values worked out by hand)."""

import math

import numpy as np
import pytest
from kemdy_fixtures import write_kemdy20_tree

from feature_extractor.corpus import SplitConfig, build_index


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = write_kemdy20_tree(tmp_path_factory.mktemp("kemdy20"))
    return build_index(root, tie_policy="soft", split=SplitConfig(test_sessions=[17], dev_sessions=[]))


@pytest.fixture(scope="module")
def frame(result):
    return result.frame.set_index("segment_id")


def test_dataset_speakers_and_cp949_transcripts(result, frame):
    assert result.dataset == "KEMDy20"
    assert frame.loc["Sess01_script01_User002M_001", "speaker"] == "User002M"
    assert frame.loc["Sess01_script01_User001F_001", "gender"] == "F"
    assert frame.loc["Sess01_script01_User002M_001", "text"] == "안녕하세요"
    assert frame.loc["Sess01_script01_User001F_001", "text_raw"] == "으 싫어+ 싫어"
    assert frame.loc["Sess01_script01_User001F_001", "text"] == "으 싫어 싫어"
    assert frame.loc["Sess01_script01_User002M_002", "emotion"] == "neutral"  # neutral;angry 4-4, listed first
    assert frame.loc["Sess01_script01_User002M_001", "dialogue_id"] == "Sess01_script01"


def test_disqust_is_disgust(frame):
    row = frame.loc["Sess01_script01_User001F_001"]
    assert row["emotion_raw"] == "disqust"
    assert row["emotion"] == "disgust" and row["label"] == 5
    assert row["rater_01"] == "disgust"
    assert row["soft_disgust"] == pytest.approx(0.6)


def test_session_prefix_fix(result, frame):
    sess17 = result.frame[result.frame["session"] == 17]
    assert sess17["segment_id"].tolist() == [
        "Sess17_script02_User033F_001",
        "Sess17_script02_User034M_001",
        "Sess17_script02_User033F_002",
    ]
    assert set(sess17["dialogue_id"]) == {"Sess17_script02"}
    # wav found under the corrected id, or else under the id as written
    assert frame.loc["Sess17_script02_User033F_001", "wav_path"] == "wav/Session17/Sess17_script02_User033F_001.wav"
    assert frame.loc["Sess17_script02_User034M_001", "wav_path"] == "wav/Session17/Sess16_script02_User034M_001.wav"
    assert frame.loc["Sess17_script02_User034M_001", "text"] == "슬퍼요"
    assert result.notes == {"session_prefix_fixes": {"Sess17_eval.csv": 2}}
    assert set(sess17["split"]) == {"test"}


def test_e4_rate_is_read_from_the_header(frame):
    # EDA at 8 Hz: the tagged rows are rows 2, 3, 4 after the header -> t = 0.25, 0.375, 0.5 s.
    # values 0.5, 0.7, 1.2: mean 0.8; slope (0.125*0.3 + 0.125*0.4) / (2 * 0.125^2) = 2.8 per second
    # (a hard-coded 4 Hz would give 1.4). The partner's wrist file also tags this segment (9.0, 9.5): unused.
    row = frame.loc["Sess01_script01_User002M_001"]
    assert (row["eda_mean"], row["eda_std"], row["eda_slope"]) == pytest.approx((0.8, math.sqrt(0.26 / 3), 2.8))
    own = frame.loc["Sess01_script01_User001F_001"]
    assert (own["eda_mean"], own["eda_std"], own["eda_slope"]) == pytest.approx((3.0, 0.0, 0.0))


def test_ibi_uses_offsets_as_time(frame):
    # offsets 1, 2, 3 s; intervals 0.6, 0.8, 0.7: mean 0.7, slope (1*0.1 + 0) / 2 = 0.05, std sqrt(0.02 / 3)
    row = frame.loc["Sess01_script01_User002M_001"]
    assert row["has_ibi"]
    assert (row["ibi_mean"], row["ibi_std"], row["ibi_slope"]) == pytest.approx((0.7, math.sqrt(0.02 / 3), 0.05))


def test_physio_tagged_with_the_uncorrected_id_counts(frame):
    # Session 17 EDA at 4 Hz tags Sess16_script02_User033F_001: 2.0, 2.5 at t = 0, 0.25 s.
    row = frame.loc["Sess17_script02_User033F_001"]
    assert (row["eda_mean"], row["eda_std"], row["eda_slope"]) == pytest.approx((2.25, 0.25, 2.0))


def test_uncovered_signals_are_nan_and_masked(frame):
    assert not frame["has_ecg"].any() and frame["ecg_mean"].isna().all()  # KEMDy20 has no ECG
    assert not frame["has_temp"].any()
    row = frame.loc["Sess17_script02_User034M_001"]
    assert not row["has_eda"] and np.isnan(row["eda_mean"])
    assert not frame.loc["Sess01_script01_User001F_001", "has_ibi"]
