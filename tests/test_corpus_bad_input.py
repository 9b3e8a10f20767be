"""Malformed corpora: clear errors for structural faults, listed skips for per-segment faults."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile
from kemdy_fixtures import edit_fields, set_field, write_kemdy19_tree, write_kemdy20_tree

from feature_extractor.corpus import CorpusError, SplitConfig, build_index, read_skipped, write_index

SPLIT = SplitConfig(test_sessions=[2], dev_sessions=[])
# Data lines of Session01_F_res.csv / Session01_M_res.csv (two header rows first):
# 3 F001, 4 M001, 5 M002, 6 F002, 7 F003, 8 impro01_M001, 9 impro01_F001.
F_FILE = "annotation/Session01_F_res.csv"


@pytest.fixture
def corpus(tmp_path):
    return write_kemdy19_tree(tmp_path / "KEMDy19")


def build(root, **kwargs):
    return build_index(root, tie_policy="first", split=SPLIT, **kwargs)


def test_missing_annotation_folder(corpus):
    shutil.rmtree(corpus / "annotation")
    with pytest.raises(CorpusError, match=r"annotation: no annotation folder"):
        build(corpus)


def test_annotation_folder_without_known_files(corpus):
    for path in (corpus / "annotation").iterdir():
        path.rename(path.with_name("notes_" + path.name))
    with pytest.raises(CorpusError, match="no annotation files"):
        build(corpus)


def test_wrong_column_count_names_file_line_and_expected_count(corpus):
    edit_fields(corpus / F_FILE, 6, lambda fields: fields[:-1])
    with pytest.raises(CorpusError) as caught:
        build(corpus)
    error = caught.value
    assert error.file.endswith("Session01_F_res.csv") and error.row == 6
    assert "Session01_F_res.csv, line 6: 42 columns (expected 43 columns in every row)" in str(error)


def test_unknown_emotion_names_file_row_word_and_allowed_list(corpus):
    edit_fields(corpus / F_FILE, 6, set_field(10, "joy"))
    with pytest.raises(CorpusError) as caught:
        build(corpus)
    message = str(caught.value)
    assert "Session01_F_res.csv, line 6" in message and "'joy'" in message
    assert "neutral, happy, surprise, angry, sad, disgust, fear" in message


def test_unknown_rater_emotion(corpus):
    edit_fields(corpus / F_FILE, 3, set_field(13 + 3 * 4, "bored"))  # rater 5 of F001
    with pytest.raises(CorpusError, match=r"Session01_F_res\.csv, line 3: unknown emotion 'bored'"):
        build(corpus)


def test_unparsable_time_names_file_row_and_column(corpus):
    edit_fields(corpus / F_FILE, 7, set_field(2, "11.0s"))
    with pytest.raises(CorpusError, match=r"Session01_F_res\.csv, line 7: column 3 \(end\) holds '11\.0s'"):
        build(corpus)


def test_malformed_segment_id_and_wrong_session(corpus):
    edit_fields(corpus / F_FILE, 8, set_field(9, "Sess01-impro01-M001"))
    with pytest.raises(CorpusError, match=r"line 8: segment id 'Sess01-impro01-M001' does not parse"):
        build(corpus)
    edit_fields(corpus / F_FILE, 8, set_field(9, "Sess02_impro01_M001"))
    with pytest.raises(CorpusError, match=r"line 8: segment id Sess02_impro01_M001 belongs to another session"):
        build(corpus)


def test_missing_actor_file(corpus):
    (corpus / "annotation" / "Session02_M_res.csv").unlink()
    with pytest.raises(CorpusError, match=r"Session02_M_res\.csv is missing"):
        build(corpus)


def test_segment_only_the_listener_lists_is_skipped(corpus):
    lines = (corpus / F_FILE).read_text(encoding="utf-8").splitlines()
    del lines[6 - 1]  # F002 leaves its own actor's file; the M file still lists it as a listener row
    (corpus / F_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = build(corpus)
    assert "Sess01_script01_F002" not in set(result.frame["segment_id"])
    row = result.skipped.set_index("segment_id").loc["Sess01_script01_F002"]
    assert (row["reason"], row["file"]) == ("missing speaker annotation", F_FILE)


def test_per_segment_media_faults_are_skipped_with_reasons(corpus, tmp_path):
    folder = corpus / "wav" / "Session01" / "Sess01_script01"
    (folder / "Sess01_script01_M001.wav").unlink()
    (folder / "Sess01_script01_F002.wav").write_bytes(b"this is not audio")
    soundfile.write(str(folder / "Sess01_script01_F003.wav"), np.zeros(0, dtype=np.float32), 16000)
    (folder / "Sess01_script01_M002.txt").unlink()
    impro = corpus / "wav" / "Session01" / "Sess01_impro01"
    (impro / "Sess01_impro01_F001.txt").write_bytes(b"\xff\xfe\xff\xff")

    result = build(corpus)
    expected = {
        "Sess01_script01_M001": ("missing wav", "wav/Session01/Sess01_script01/Sess01_script01_M001.wav"),
        "Sess01_script01_F002": ("unreadable wav", "wav/Session01/Sess01_script01/Sess01_script01_F002.wav"),
        "Sess01_script01_F003": ("empty wav", "wav/Session01/Sess01_script01/Sess01_script01_F003.wav"),
        "Sess01_script01_M002": ("missing transcript", "wav/Session01/Sess01_script01/Sess01_script01_M002.txt"),
        "Sess01_impro01_F001": ("undecodable transcript", "wav/Session01/Sess01_impro01/Sess01_impro01_F001.txt"),
    }
    skipped = {row.segment_id: (row.reason, row.file) for row in result.skipped.itertuples()}
    assert skipped == expected
    kept = ["Sess01_impro01_M001", "Sess01_script01_F001", "Sess02_script01_F001", "Sess02_script01_M001"]
    assert sorted(result.frame["segment_id"]) == kept

    write_index(result, tmp_path / "index", {})
    on_disk = read_skipped(tmp_path / "index")
    assert {row.segment_id: (row.reason, row.file) for row in on_disk.itertuples()} == expected
    assert result.counts()["skipped"]["missing wav"] == 1 and result.counts()["skipped_total"] == 5


def test_labels_never_shift_when_a_middle_wav_is_missing(corpus):
    before = build(corpus).frame.set_index("segment_id")
    (corpus / "wav" / "Session01" / "Sess01_script01" / "Sess01_script01_M001.wav").unlink()
    after = build(corpus).frame.set_index("segment_id")
    assert "Sess01_script01_M001" not in after.index
    kept = after.index
    columns = ["emotion", "label", "valence", "arousal", "text", "start", "soft_sad", "ecg_mean", "has_ecg"]
    pd.testing.assert_frame_equal(after[columns], before.loc[kept, columns])
    assert after.loc["Sess01_script01_M002", "emotion"] == "happy"  # the next speaker's own label
    assert after.loc["Sess01_script01_F002", "emotion"] == "sad"


def test_everything_skipped_is_an_error(corpus):
    for wav in (corpus / "wav").rglob("*.wav"):
        wav.unlink()
    with pytest.raises(CorpusError, match=r"every one of the 9 annotated segments would be skipped.*missing wav"):
        build(corpus)


def test_unknown_tie_policy_and_dataset(corpus):
    with pytest.raises(CorpusError, match="unknown tie policy 'majority'"):
        build_index(corpus, tie_policy="majority", split=SPLIT)
    with pytest.raises(CorpusError, match="KEMDy20 annotation files"):
        build_index(corpus, dataset="KEMDy20")


def test_kemdy20_wrong_column_count(tmp_path):
    root = write_kemdy20_tree(tmp_path / "KEMDy20")
    edit_fields(root / "annotation" / "Sess01_eval.csv", 4, lambda fields: fields + ["3"])
    with pytest.raises(CorpusError, match=re.escape("Sess01_eval.csv, line 4: 38 columns (expected 37 columns")):
        build_index(root, split=SplitConfig(test_sessions=[17], dev_sessions=[]))


def test_blank_trailing_cells_from_a_spreadsheet_export_are_accepted(tmp_path):
    root = write_kemdy20_tree(tmp_path / "KEMDy20")
    split = SplitConfig(test_sessions=[17], dev_sessions=[])
    before = build_index(root, split=split).frame
    edit_fields(root / "annotation" / "Sess01_eval.csv", 4, lambda fields: fields + ["", " "])
    after = build_index(root, split=split).frame
    pd.testing.assert_frame_equal(after, before)
