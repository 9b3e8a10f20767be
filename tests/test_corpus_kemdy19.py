"""The KEMDy19 reader on the hand-made tree of kemdy_fixtures.py (expected values worked out by hand)."""

import json
import math
import os

import numpy as np
import pytest
from kemdy_fixtures import write_kemdy19_tree

from erc_core.labels import EMOTIONS
from feature_extractor.corpus import INDEX_COLUMNS, SplitConfig, build_index, read_index, read_skipped, write_index

SPLIT = SplitConfig(test_sessions=[2], dev_sessions=[])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_kemdy19_tree(tmp_path_factory.mktemp("kemdy19"))


@pytest.fixture(scope="module")
def kept_ties(corpus):
    return build_index(corpus, tie_policy="first", split=SPLIT)


def by_segment(frame):
    return frame.set_index("segment_id")


def test_labels_come_from_the_speakers_own_file(kept_ties):
    frame = by_segment(kept_ties.frame)
    # Own-file emotions; each listener row in the other actor's file says something else
    # (F001: happy, M001: sad, F002: angry, impro M001: neutral, impro F001: fear, ...).
    assert frame["emotion"].to_dict() == {
        "Sess01_impro01_M001": "happy",
        "Sess01_impro01_F001": "disgust",
        "Sess01_script01_F001": "neutral",
        "Sess01_script01_M001": "angry",
        "Sess01_script01_M002": "happy",  # tie happy;neutral, first listed
        "Sess01_script01_F002": "sad",
        "Sess01_script01_F003": "surprise",  # tie surprise;fear, first listed
        "Sess02_script01_F001": "fear",
        "Sess02_script01_M001": "neutral",
    }
    assert frame.loc["Sess01_script01_M001", "valence"] == 1.8  # listener rows carry 1.0
    assert frame.loc["Sess01_script01_M001", "arousal"] == 4.2
    assert frame.loc["Sess01_script01_M001", "speaker"] == "Sess01_M"
    assert frame.loc["Sess02_script01_F001", "speaker"] == "Sess02_F"
    assert set(frame["gender"]) == {"F", "M"}
    assert (frame["label"] == frame["emotion"].map(EMOTIONS.index)).all()


def test_turns_follow_start_time_not_segment_ids(kept_ties):
    frame = kept_ties.frame
    dialogue = frame[frame["dialogue_id"] == "Sess01_script01"]
    chronological = ["Sess01_script01_F001", "Sess01_script01_M001", "Sess01_script01_M002",
                     "Sess01_script01_F002", "Sess01_script01_F003"]
    assert dialogue.sort_values("turn")["segment_id"].tolist() == chronological
    assert sorted(chronological) != chronological  # the id order would be wrong here
    assert dialogue["turn"].tolist() == [0, 1, 2, 3, 4]
    keys = list(zip(frame["session"], frame["dialogue_id"], frame["turn"]))
    assert keys == sorted(keys)


def test_tie_policies(corpus):
    drop = build_index(corpus, tie_policy="drop", split=SPLIT)
    assert not drop.frame["is_tie"].any()
    assert "Sess01_script01_M002" not in set(drop.frame["segment_id"])
    skipped = drop.skipped.set_index("segment_id")
    assert skipped.loc["Sess01_script01_M002", "reason"] == "tie"
    assert skipped.loc["Sess01_script01_M002", "file"] == "annotation/Session01_M_res.csv"
    assert skipped.loc["Sess01_script01_F003", "file"] == "annotation/Session01_F_res.csv"
    # turns are renumbered over the kept utterances
    dialogue = drop.frame[drop.frame["dialogue_id"] == "Sess01_script01"]
    assert dialogue["segment_id"].tolist() == ["Sess01_script01_F001", "Sess01_script01_M001", "Sess01_script01_F002"]
    assert dialogue["turn"].tolist() == [0, 1, 2]

    soft = by_segment(build_index(corpus, tie_policy="soft", split=SPLIT).frame)
    # M002: happy;neutral but raters neutral 5, happy 3 -> neutral; F003: surprise 4 = fear 4 -> listed first
    assert soft.loc["Sess01_script01_M002", "emotion"] == "neutral"
    assert soft.loc["Sess01_script01_F003", "emotion"] == "surprise"
    assert soft.loc["Sess01_script01_M002", "emotion_raw"] == "happy;neutral"
    assert soft.loc["Sess01_script01_M002", "is_tie"]
    assert not soft.loc["Sess01_script01_F001", "is_tie"]


def test_rater_columns_and_soft_labels(kept_ties):
    frame = by_segment(kept_ties.frame)
    f002 = frame.loc["Sess01_script01_F002"]
    assert [f002[f"rater_{k:02d}"] for k in range(1, 11)] == ["sad"] * 8 + ["angry", ""]
    assert f002["soft_sad"] == pytest.approx(8 / 9)  # the blank rater is not counted
    assert f002["soft_angry"] == pytest.approx(1 / 9)
    m002 = frame.loc["Sess01_script01_M002"]
    assert (m002["soft_neutral"], m002["soft_happy"], m002["soft_sad"]) == pytest.approx((0.5, 0.3, 0.2))
    soft = kept_ties.frame[[f"soft_{name}" for name in EMOTIONS]].to_numpy()
    assert np.allclose(soft.sum(axis=1), 1.0)


def test_transcripts_are_cleaned_and_raw_text_kept(kept_ties):
    frame = by_segment(kept_ties.frame)
    assert frame.loc["Sess01_script01_F001", "text_raw"] == "l/ 안녕 (3시)/(세 시)에 보자+ b/"
    assert frame.loc["Sess01_script01_F001", "text"] == "안녕 3시에 보자"
    assert frame.loc["Sess01_script01_M001", "text"] == "뭐 하는 거야"
    assert frame.loc["Sess01_impro01_M001", "text"] == "하하"


def test_physio_summaries_match_hand_computation(kept_ties):
    frame = by_segment(kept_ties.frame)
    # ECG has no header, so samples are spread evenly over the segment (step = duration / n).
    # F001 (0.5-2.5 s) from Sess01F.csv: 1, 2, 4 at steps of 2/3 s.
    #   mean 7/3; std sqrt(((4/3)^2 + (1/3)^2 + (5/3)^2) / 3) = sqrt(14/9);
    #   slope per sample = sum((i - 1) * (v - 7/3)) / sum((i - 1)^2) = 3 / 2, per second 1.5 / (2/3) = 2.25.
    #   (Sess01M.csv also tags F001 with 50, 60: the listener's sensor, not used.)
    f001 = frame.loc["Sess01_script01_F001"]
    assert (f001["ecg_mean"], f001["ecg_std"], f001["ecg_slope"]) == pytest.approx((7 / 3, math.sqrt(14 / 9), 2.25))
    # M001 (3.0-5.0 s) from Sess01M.csv: 0.5, 1.0, 1.5, 2.0, step 0.5 s -> slope 1.0 per second;
    #   mean 1.25; std sqrt((0.75^2 + 0.25^2) * 2 / 4) = sqrt(0.3125). (Sess01F.csv's 100, 100 ignored.)
    m001 = frame.loc["Sess01_script01_M001"]
    assert (m001["ecg_mean"], m001["ecg_std"], m001["ecg_slope"]) == pytest.approx((1.25, math.sqrt(0.3125), 1.0))
    # F002 (6.5-9.0 s): 2, 2, 3, 5, step 0.625 s; per sample sum((i-1.5)(v-3)) / sum((i-1.5)^2) = 5 / 5 = 1
    #   -> 1.6 per second; std sqrt((1 + 1 + 0 + 4) / 4).
    f002 = frame.loc["Sess01_script01_F002"]
    assert (f002["ecg_mean"], f002["ecg_std"], f002["ecg_slope"]) == pytest.approx((3.0, math.sqrt(1.5), 1.6))
    # M002 (5.2-6.0 s): 3, 1 at steps of 0.4 s -> slope -2 / 0.4 = -5.
    assert frame.loc["Sess01_script01_M002", "ecg_slope"] == pytest.approx(-5.0)
    # EDA of F001 with an E4 header at 2 Hz: rows 1..3 after the header -> t = 0.5, 1.0, 1.5 s;
    #   values 0.2, 0.4, 0.9: mean 0.5; slope (0.5*0.3 + 0.5*0.4) / (0.25 + 0.25) = 0.7;
    #   std sqrt((0.09 + 0.01 + 0.16) / 3).
    assert (f001["eda_mean"], f001["eda_std"], f001["eda_slope"]) == pytest.approx((0.5, math.sqrt(0.26 / 3), 0.7))
    assert f001["has_ecg"] and f001["has_eda"] and not f001["has_temp"]


def test_segments_without_physio_coverage_are_nan_and_masked(kept_ties):
    frame = by_segment(kept_ties.frame)
    # impro01 and session 2: no rows tagged; F003: a single ECG sample; TEMP and IBI: no files.
    for segment in ("Sess01_impro01_M001", "Sess02_script01_F001", "Sess01_script01_F003"):
        row = frame.loc[segment]
        assert not row["has_ecg"] and not row["has_eda"]
        assert np.isnan(row[["ecg_mean", "ecg_std", "ecg_slope", "eda_mean", "eda_std", "eda_slope"]].to_numpy(float)).all()
    assert not frame["has_temp"].any() and not frame["has_ibi"].any()
    assert frame["temp_mean"].isna().all() and frame["ibi_slope"].isna().all()
    assert not frame.loc["Sess01_script01_M001", "has_eda"]  # only the F file has EDA


def test_columns_paths_splits_and_detection(corpus, kept_ties):
    frame = kept_ties.frame
    assert kept_ties.dataset == "KEMDy19"  # recognised from the annotation names
    assert tuple(frame.columns) == INDEX_COLUMNS
    assert frame["segment_id"].is_unique
    row = by_segment(frame).loc["Sess01_script01_M001"]
    assert row["wav_path"] == "wav/Session01/Sess01_script01/Sess01_script01_M001.wav"
    assert (corpus / row["wav_path"]).is_file()
    assert row["duration"] == pytest.approx(2.0)
    assert set(frame.loc[frame["session"] == 2, "split"]) == {"test"}
    assert set(frame.loc[frame["session"] == 1, "split"]) == {"train"}
    no_physio = build_index(corpus, tie_policy="first", split=SPLIT, physio=False).frame
    assert not no_physio["has_ecg"].any() and no_physio["ecg_mean"].isna().all()


def test_write_and_read_round_trip(corpus, tmp_path):
    result = build_index(corpus, tie_policy="drop", split=SPLIT)
    write_index(result, tmp_path, {"tie_policy": "drop"})
    back = read_index(tmp_path)
    assert back["wav_file"].tolist() == [str(corpus.resolve() / p) for p in result.frame["wav_path"]]
    assert all(os.path.isfile(p) for p in back["wav_file"])
    restored = back.drop(columns=["wav_file"])
    assert restored.dtypes.to_dict() == result.frame.dtypes.to_dict()
    assert restored.equals(result.frame)
    assert back.loc[back["segment_id"] == "Sess01_script01_F002", "rater_10"].item() == ""  # not NaN
    skipped = read_skipped(tmp_path)
    assert sorted(skipped["segment_id"]) == ["Sess01_script01_F003", "Sess01_script01_M002"]
    meta = json.loads((tmp_path / "index.meta.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 2 and meta["dataset"] == "KEMDy19"
    assert meta["label_names"] == ["neutral", "happy", "surprise", "angry", "sad", "disgust", "fear"]
    assert meta["corpus_root"] == str(corpus.resolve())
    assert meta["counts"]["utterances"] == 7 and meta["counts"]["skipped"] == {"tie": 2}
    assert meta["options"] == {"tie_policy": "drop"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_command_line_writes_the_index_and_prints_a_summary(corpus, tmp_path, capsys):
    from feature_extractor.corpus import index_command as cli

    out = tmp_path / "index"
    assert cli.main(["--corpus", str(corpus), "--out", str(out), "--test-sessions", "2", "--dev-sessions"]) == 0
    printed = capsys.readouterr().out
    assert "utterances 7, dialogues 3, sessions 2" in printed
    assert "skipped 2 (tie: 2)" in printed
    assert "test : 2 utterances, 1 dialogues, sessions [2]" in printed
    assert len(read_index(out)) == 7
    meta = json.loads((out / "index.meta.json").read_text(encoding="utf-8"))
    assert meta["options"]["test_sessions"] == ["2"] and meta["resolved"]["split"]["test"] == [2]

    assert cli.main(["--corpus", str(corpus), "--out", str(tmp_path / "bad")]) == 2  # default test 19-20 absent
    assert "test sessions [19, 20] are not in the corpus" in capsys.readouterr().err
    assert cli.session_list(["19-20", "3,5"]) == [19, 20, 3, 5]
