"""KEMDy trees as published (issue 23): the faults measured on the real corpora, each on a generated tree.

- a segment id repeated in one annotation file (real KEMDy19: Session03_F_res.csv writes the row
  at 0-3.944 s of Sess03_impro02 as the next row's id Sess03_impro02_M001): repaired from the
  session's other file where it settles the row, otherwise only that row is dropped and reported;
- transcripts that are empty or only markup: the utterance stays in its conversation;
- transcription markup that survived the cleaning (`s/`, `거야.b/`, `/n`, `(건데+u/)`).

Data lines of the hand-made Session01_{F,M}_res.csv (two header rows first):
3 F001 (0.5-2.5 s), 4 M001 (3-5), 5 M002, 6 F002 (6.5-9), 7 F003 (9.5-11), 8 impro01_M001, 9 impro01_F001."""

import json

import pandas as pd
import pytest
from kemdy_fixtures import edit_fields, set_field, write_kemdy19_tree, write_kemdy20_tree

from feature_extractor.corpus import SplitConfig, build_index, read_index, read_skipped, write_index
from feature_extractor.corpus import index_command, report_command

SPLIT = SplitConfig(test_sessions=[2], dev_sessions=[])
F_FILE, M_FILE = "annotation/Session01_F_res.csv", "annotation/Session01_M_res.csv"
SEGMENT_COLUMN, END_COLUMN = 9, 2


@pytest.fixture
def corpus(tmp_path):
    return write_kemdy19_tree(tmp_path / "KEMDy19")


@pytest.fixture(scope="module")
def clean_index(tmp_path_factory):
    return build(write_kemdy19_tree(tmp_path_factory.mktemp("clean") / "KEMDy19"))


def build(root):
    return build_index(root, tie_policy="first", split=SPLIT)


def skipped_rows(result) -> dict:
    return {row.segment_id: (row.reason, row.file) for row in result.skipped.itertuples()}


def labels_and_times(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["emotion", "valence", "arousal", "start", "end", "speaker", "text", "soft_neutral", "rater_01"]
    return frame.set_index("segment_id")[columns].sort_index()


# --- repeated segment ids -----------------------------------------------------------------------


def test_the_published_typo_is_repaired_from_the_other_actors_file(corpus, clean_index):
    # F001's own row is written with the next row's id, as Sess03_impro02 is in the real corpus.
    edit_fields(corpus / F_FILE, 3, set_field(SEGMENT_COLUMN, "Sess01_script01_M001"))
    result = build(corpus)
    pd.testing.assert_frame_equal(result.frame, clean_index.frame)  # nothing lost, F001 keeps its own label
    assert skipped_rows(result) == skipped_rows(clean_index) == {}
    assert result.notes["repeated_segment_ids"] == [
        f"{F_FILE}, line 3: segment id Sess01_script01_M001 is repeated; read as Sess01_script01_F001 "
        "(Session01_M_res.csv gives Sess01_script01_F001 the same 0.500-2.500 s; the id is also written on line 4)"
    ]


def test_kemdy_index_reads_the_typo_tree_and_says_what_it_repaired(corpus, tmp_path, capsys):
    edit_fields(corpus / F_FILE, 3, set_field(SEGMENT_COLUMN, "Sess01_script01_M001"))
    out = tmp_path / "index"
    assert index_command.main(["--corpus", str(corpus), "--out", str(out), "--test-sessions", "2",
                               "--dev-sessions", "--tie-policy", "first"]) == 0
    printed = capsys.readouterr().out
    assert "note: repeated_segment_ids: 1" in printed
    assert f"    {F_FILE}, line 3: segment id Sess01_script01_M001 is repeated; read as Sess01_script01_F001" in printed
    assert "Sess01_script01_F001" in set(read_index(out)["segment_id"])
    meta = json.loads((out / "index.meta.json").read_text(encoding="utf-8"))
    assert len(meta["notes"]["repeated_segment_ids"]) == 1


def test_an_own_row_nothing_settles_is_the_only_one_lost(corpus, clean_index):
    # F002's own row written as F003; the M file's F002 row has other times, so it settles nothing,
    # but the M file confirms line 7 as F003.
    edit_fields(corpus / F_FILE, 6, set_field(SEGMENT_COLUMN, "Sess01_script01_F003"))
    edit_fields(corpus / M_FILE, 6, set_field(END_COLUMN, "9.10"))
    result = build(corpus)
    # No row of the F file is F002 any more: it is its speaker's file that lacks it.
    assert skipped_rows(result) == {"Sess01_script01_F002": ("missing speaker annotation", F_FILE)}
    kept = labels_and_times(clean_index.frame).drop(index="Sess01_script01_F002")
    pd.testing.assert_frame_equal(labels_and_times(result.frame), kept)
    assert result.notes["repeated_segment_ids"] == [
        f"{F_FILE}, line 6: segment id Sess01_script01_F003 is repeated; row dropped "
        "(Session01_M_res.csv does not settle which row it is; the id is also written on line 7)"
    ]


def test_an_own_id_nothing_settles_is_skipped_and_reported(corpus, clean_index, tmp_path, capsys):
    edit_fields(corpus / F_FILE, 6, set_field(SEGMENT_COLUMN, "Sess01_script01_F003"))
    for line in (6, 7):  # neither F002's nor F003's times in the M file match the F file's
        edit_fields(corpus / M_FILE, line, set_field(END_COLUMN, "11.10"))
    result = build(corpus)
    assert skipped_rows(result) == {
        "Sess01_script01_F002": ("missing speaker annotation", F_FILE),
        "Sess01_script01_F003": ("duplicate segment id", F_FILE),  # not also "missing speaker annotation"
    }
    kept = labels_and_times(clean_index.frame).drop(index=["Sess01_script01_F002", "Sess01_script01_F003"])
    pd.testing.assert_frame_equal(labels_and_times(result.frame), kept)
    assert [note.split(":")[0] for note in result.notes["repeated_segment_ids"]] == [f"{F_FILE}, line 6",
                                                                                    f"{F_FILE}, line 7"]
    assert result.counts()["skipped"] == {"duplicate segment id": 1, "missing speaker annotation": 1}

    out = tmp_path / "index"
    write_index(result, out, {})
    assert ["Sess01_script01_F003", F_FILE, "duplicate segment id"] in read_skipped(out).values.tolist()
    index_command.print_summary(result, out)
    printed = capsys.readouterr().out
    assert "skipped 2 (duplicate segment id: 1, missing speaker annotation: 1)" in printed
    assert f"    {F_FILE}, line 7: segment id Sess01_script01_F003 is repeated; row dropped" in printed


def test_a_dropped_listener_row_loses_nothing(corpus, clean_index):
    # In the M file F002 is a listener row: written as F003 at times the F file does not know.
    edit_fields(corpus / M_FILE, 6, set_field(SEGMENT_COLUMN, "Sess01_script01_F003"))
    edit_fields(corpus / M_FILE, 6, set_field(END_COLUMN, "9.10"))
    result = build(corpus)
    pd.testing.assert_frame_equal(result.frame, clean_index.frame)
    assert skipped_rows(result) == {}
    assert result.notes["repeated_segment_ids"] == [
        f"{M_FILE}, line 6: segment id Sess01_script01_F003 is repeated; row dropped "
        "(Session01_F_res.csv does not settle which row it is; the id is also written on line 7)"
    ]


def test_a_row_written_twice_is_read_once(corpus, clean_index):
    lines = (corpus / F_FILE).read_text(encoding="utf-8").splitlines()
    (corpus / F_FILE).write_text("\n".join(lines + [lines[6 - 1]]) + "\n", encoding="utf-8")  # F002 again, line 10
    result = build(corpus)
    pd.testing.assert_frame_equal(result.frame, clean_index.frame)
    assert result.notes["repeated_segment_ids"] == [
        f"{F_FILE}, line 10: segment id Sess01_script01_F002 is repeated; row dropped (a copy of line 6)"
    ]


def test_kemdy20_drops_every_row_of_a_repeated_id_and_reports_it(tmp_path):
    root = write_kemdy20_tree(tmp_path / "KEMDy20")
    # Data lines of Sess01_eval.csv: 3 User002M_001, 4 User001F_001, 5 User002M_002.
    edit_fields(root / "annotation" / "Sess01_eval.csv", 5, set_field(3, "Sess01_script01_User002M_001"))
    result = build_index(root, tie_policy="first", split=SplitConfig(test_sessions=[17], dev_sessions=[]))
    session_1 = result.frame.loc[result.frame["session"] == 1, "segment_id"].tolist()
    assert session_1 == ["Sess01_script01_User001F_001"]
    assert skipped_rows(result) == {
        "Sess01_script01_User002M_001": ("duplicate segment id", "annotation/Sess01_eval.csv")
    }
    notes = result.notes["repeated_segment_ids"]
    assert notes == [
        f"annotation/Sess01_eval.csv, line {line}: segment id Sess01_script01_User002M_001 is repeated; row dropped "
        f"(no other annotation file of the session settles which row it is; the id is also written on line {other})"
        for line, other in ((3, 5), (5, 3))
    ]


# --- empty transcripts --------------------------------------------------------------------------


def write_transcript(root, segment: str, text: str) -> None:
    dialogue = segment.rsplit("_", 1)[0]
    (root / "wav" / "Session01" / dialogue / f"{segment}.txt").write_text(text, encoding="utf-8")


def test_utterances_with_an_empty_transcript_stay_in_their_conversation(corpus, clean_index, tmp_path, capsys):
    write_transcript(corpus, "Sess01_script01_M001", " \n")  # nothing at all
    write_transcript(corpus, "Sess01_script01_F002", "l/ n/\n")  # only markup
    result = build(corpus)
    assert skipped_rows(result) == {}
    frame = result.frame.set_index("segment_id")
    assert frame.loc["Sess01_script01_M001", ["text_raw", "text"]].tolist() == ["", ""]
    assert frame.loc["Sess01_script01_F002", ["text_raw", "text"]].tolist() == ["l/ n/", ""]
    pd.testing.assert_frame_equal(result.frame.drop(columns=["text_raw", "text"]),
                                  clean_index.frame.drop(columns=["text_raw", "text"]))  # same turns, labels, wavs
    assert result.counts()["empty_text"] == 2 and clean_index.counts()["empty_text"] == 0

    out = tmp_path / "index"
    index_command.print_summary(result, out)
    assert "empty text: 2 utterances kept with their audio" in capsys.readouterr().out
    write_index(result, out, {})
    assert report_command.main(["--index", str(out), "--json", str(tmp_path / "report.json")]) == 0
    assert "empty text: 2 utterances" in capsys.readouterr().out
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["empty_text"] == 2


# --- markup that survived the cleaning ----------------------------------------------------------


def test_markup_found_in_real_transcripts_is_cleaned_by_the_reader(corpus):
    transcripts = {
        "Sess01_script01_F001": ("s/ 뭐야 진짜", "뭐야 진짜"),
        "Sess01_script01_M001": ("그런 거야.b/", "그런 거야."),
        "Sess01_script01_F002": ("알았어 /n", "알았어"),
        "Sess01_script01_F003": ("그런(건데+u/) 뭐", "그런건데 뭐"),
    }
    for segment, (raw, _) in transcripts.items():
        write_transcript(corpus, segment, raw + "\n")
    frame = build(corpus).frame.set_index("segment_id")
    assert {segment: frame.loc[segment, "text"] for segment in transcripts} == {
        segment: clean for segment, (_, clean) in transcripts.items()
    }
