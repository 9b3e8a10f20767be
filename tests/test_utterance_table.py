"""The corpus-agnostic utterance table reader (feature_extractor/corpus/utterance_table.py)."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from erc_core.errors import UserError
from feature_extractor.corpus import index_command, read_index, read_index_meta, read_skipped, report_command
from feature_extractor.corpus.utterance_table import (
    TableSpec,
    clean_text,
    default_split,
    parse_speaker_list,
    read_utterance_table,
)

HEADER = ["conv", "t", "who", "utt", "emo"]
SPEC = TableSpec(dialogue="conv", order="t", speaker="who", text="utt", label="emo")
REAL_TABLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "iemocap6_text.csv"


def write_table(path: Path, rows, header=HEADER, delimiter=",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROWS = [  # file order is not conversation order; order values have gaps
    ["b", "7", "Ann", "Later.", "sad"],
    ["a", "10", "Bo", "Fine, thanks.", "joy"],
    ["a", "2", "Ann", "How are you?", "neutral"],
    ["b", "3", "Bo", "Bye now.", "sad"],
]


def test_rows_are_ordered_by_dialogue_and_order_value_with_gaps(tmp_path):
    result = read_utterance_table(write_table(tmp_path / "talk.csv", ROWS), SPEC)
    frame = result.frame
    assert frame["segment_id"].tolist() == ["a_2", "a_10", "b_3", "b_7"]  # numeric order, not text order
    assert frame["turn"].tolist() == [0, 1, 0, 1]
    assert result.label_names == ("joy", "neutral", "sad")  # no labels given: the observed ones, sorted
    assert frame["label"].tolist() == [1, 0, 2, 2]
    assert frame["dataset"].unique().tolist() == ["talk"] and frame["session"].unique().tolist() == [0]
    assert frame["wav_path"].unique().tolist() == [""] and frame["clip_start"].isna().all()
    assert result.options["label_source"] == "the labels found, sorted"


@pytest.mark.parametrize("fmt", ["tsv", "jsonl"])
def test_tsv_and_jsonl_read_like_csv(tmp_path, fmt):
    expected = read_utterance_table(write_table(tmp_path / "talk.csv", ROWS), SPEC).frame
    path = tmp_path / f"talk.{fmt}"
    if fmt == "tsv":
        write_table(path, ROWS, delimiter="\t")
    else:
        lines = [json.dumps(dict(zip(HEADER, [r[0], int(r[1]), *r[2:]]))) for r in ROWS]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_utterance_table(path, SPEC).frame
    pd.testing.assert_frame_equal(frame.drop(columns="dataset"), expected.drop(columns="dataset"))


def test_default_split_rule_is_by_sorted_dialogue_ids():
    ids = [f"d{i:02d}" for i in range(20)][::-1]
    splits = default_split(ids)
    assert [splits[f"d{i:02d}"] for i in range(20)] == ["train"] * 16 + ["dev"] * 2 + ["test"] * 2
    assert set(default_split(["x", "y"]).values()) == {"train"}  # too few dialogues to hold any out


def test_default_split_is_written_to_the_meta(tmp_path):
    rows = [[f"d{i}", "0", "A", "hi", "joy"] for i in range(10)]
    result = read_utterance_table(write_table(tmp_path / "t.csv", rows), SPEC)
    assert result.frame.groupby("split")["dialogue_id"].apply(list).to_dict() == {
        "dev": ["d8"], "test": ["d9"], "train": [f"d{i}" for i in range(8)]}
    assert index_command.main(["--table", str(tmp_path / "t.csv"), "--columns", "dialogue=conv", "order=t",
                               "speaker=who", "text=utt", "label=emo", "--out", str(tmp_path / "idx")]) == 0
    meta = read_index_meta(tmp_path / "idx")
    assert "last 10%" in meta["resolved"]["split_rule"] and meta["label_names"] == ["joy"]


def test_given_class_order_is_kept_and_an_unknown_label_names_file_line_column(tmp_path):
    path = write_table(tmp_path / "t.csv", ROWS)
    result = read_utterance_table(path, TableSpec(**{**vars(SPEC), "labels": ["sad", "joy", "neutral", "fear"]}))
    assert result.label_names == ("sad", "joy", "neutral", "fear") and result.frame["label"].tolist() == [2, 1, 0, 0]
    unknown = r"t\.csv, line 4: column 'emo': unknown label 'neutral' \(expected one of sad, joy\)"
    with pytest.raises(UserError, match=unknown):
        read_utterance_table(path, TableSpec(**{**vars(SPEC), "labels": ["sad", "joy"]}))


def test_missing_column_is_named_with_the_files_columns(tmp_path):
    path = write_table(tmp_path / "t.csv", ROWS)
    with pytest.raises(UserError) as caught:
        read_utterance_table(path, TableSpec(**{**vars(SPEC), "text": "transcript"}))
    message = str(caught.value)
    assert "t.csv, line 1: missing column(s) 'transcript' (text)" in message
    assert "'conv', 't', 'who', 'utt', 'emo'" in message


@pytest.mark.parametrize(
    "bad_row, pattern",
    [
        (["a", "2", "Cy", "Again?", "joy"],
         r"line 6: column 't': dialogue 'a' has 2 rows with order '2' \(lines 4, 6\)"),
        (["a", "two", "Cy", "Again?", "joy"], r"line 6: column 't': holds 'two' \(expected a number\)"),
        (["a", "", "Cy", "Again?", "joy"], r"line 6: column 't': holds '' \(expected a number\)"),
        (["a", "5", "Cy", "   ", "joy"], r"line 6: column 'utt': the cell is empty \(expected the utterance's text\)"),
        (["a", "5", "", "Hm.", "joy"], r"line 6: column 'who': the cell is empty"),
        (["a", "5", "Cy", "Hm.", ""], r"line 6: column 'emo': the cell is empty \(expected a label\)"),
        (["", "5", "Cy", "Hm.", "joy"], r"line 6: column 'conv': the cell is empty"),
    ],
)
def test_row_problems_are_one_error_naming_file_line_and_column(tmp_path, bad_row, pattern):
    path = write_table(tmp_path / "t.csv", ROWS + [bad_row])
    with pytest.raises(UserError, match=r"t\.csv, " + pattern):
        read_utterance_table(path, SPEC)


def test_duplicate_segment_ids_name_both_lines(tmp_path):
    rows = [row + [f"id{i}"] for i, row in enumerate(ROWS)] + [["c", "1", "Cy", "Hm.", "joy", "id1"]]
    path = write_table(tmp_path / "t.csv", rows, HEADER + ["sid"])
    doubled = r"line 6: column 'sid': segment id 'id1' appears 2 times \(.*line 3, .*line 6\)"
    with pytest.raises(UserError, match=doubled):
        read_utterance_table(path, TableSpec(**{**vars(SPEC), "segment_id": "sid"}))


def test_line_numbers_count_quoted_line_breaks(tmp_path):
    rows = [["a", "1", "Ann", "two\nlines", "joy"], ["a", "x", "Bo", "no", "joy"]]
    with pytest.raises(UserError, match=r"line 4: column 't'"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows), SPEC)


def test_wrong_field_count_and_unknown_format_are_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("conv,t,who,utt,emo\na,1,Ann,hi,joy\na,2,Bo,hi\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"t\.csv, line 3: 4 fields \(expected 5 fields"):
        read_utterance_table(path, SPEC)
    with pytest.raises(UserError, match="unknown table format '.xlsx'"):
        read_utterance_table(tmp_path / "t.xlsx", SPEC)


def test_split_column_values_and_one_split_per_dialogue(tmp_path):
    spec = TableSpec(**{**vars(SPEC), "split": "part"})
    rows = [row + [part] for row, part in zip(ROWS, ["Test", "train", "train", "test"])]
    frame = read_utterance_table(write_table(tmp_path / "t.csv", rows, HEADER + ["part"]), spec).frame
    assert frame.groupby("dialogue_id")["split"].first().to_dict() == {"a": "train", "b": "test"}
    rows[0][-1] = "dev"
    with pytest.raises(UserError, match=r"line 5: column 'part': dialogue 'b' is 'test' here and 'dev'"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows, HEADER + ["part"]), spec)
    rows[0][-1] = "holdout"
    with pytest.raises(UserError, match=r"line 2: column 'part': holds 'holdout' \(expected train, dev or test\)"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows, HEADER + ["part"]), spec)


def test_label_map_and_dropped_labels_are_reported_as_skipped(tmp_path):
    rows = ROWS + [["c", "0", "Cy", "Ugh.", "xxx"], ["c", "1", "Di", "Wow!", "exc"]]
    spec = TableSpec(**{**vars(SPEC), "labels": ["joy", "neutral", "sad"], "label_map": {"exc": "joy"},
                        "drop_labels": ["xxx"]})
    result = read_utterance_table(write_table(tmp_path / "t.csv", rows), spec)
    wow = result.frame.set_index("segment_id").loc["c_1"]
    assert (wow["emotion_raw"], wow["emotion"], wow["turn"]) == ("exc", "joy", 0)
    assert result.skipped.to_dict("records") == [{"segment_id": "c_0", "file": str(tmp_path / "t.csv"),
                                                  "reason": "label_not_in_set"}]


def test_audio_paths_clip_windows_and_missing_wavs(tmp_path):
    audio = tmp_path / "audio"
    (audio / "a").mkdir(parents=True)
    for name in ("a/long.wav", "b.wav"):
        soundfile.write(audio / name, np.full(16_000, 0.1, np.float32), 16_000)
    rows = [["a", "1", "Ann", "hi", "joy", "a/long.wav", "0.0", "0.5"],
            ["a", "2", "Bo", "yo", "joy", "a/long.wav", "0.5", ""],
            ["a", "3", "Ann", "so", "joy", "gone.wav", "", ""], ["b", "1", "Bo", "ok", "sad", "b.wav", "", ""]]
    spec = TableSpec(**{**vars(SPEC), "audio": "file", "clip_start": "from", "clip_end": "to"})
    path = write_table(tmp_path / "t.csv", rows, HEADER + ["file", "from", "to"])
    result = read_utterance_table(path, spec, audio_root=audio)
    frame = result.frame
    assert frame["wav_path"].tolist() == ["a/long.wav", "a/long.wav", "b.wav"]
    assert frame["clip_start"].tolist()[:2] == [0.0, 0.5] and np.isnan(frame["clip_end"].tolist()[1])
    assert frame["turn"].tolist() == [0, 1, 0] and result.corpus_root == audio.resolve()
    assert result.skipped.to_dict("records") == [{"segment_id": "a_3", "file": "gone.wav", "reason": "missing_wav"}]

    rows[0][-1] = "0.0"  # a clip that ends where it starts
    with pytest.raises(UserError, match=r"line 2: column 'to': clip ends at 0.0 s, not after its start 0.0 s"):
        read_utterance_table(write_table(path, rows, HEADER + ["file", "from", "to"]), spec, audio_root=audio)
    rows[0][-1] = "0.5"
    write_table(path, rows, HEADER + ["file", "from", "to"])
    with pytest.raises(UserError, match=r"none of the 4 audio files named in column 'file' exists"):
        read_utterance_table(path, spec, audio_root=tmp_path / "elsewhere")


def test_an_empty_transcript_with_audio_is_kept_and_counted(tmp_path):
    """With an audio column an empty text cell is an empty text input (the turn stays in its
    conversation); the table without audio still refuses it (the row-problem test above)."""
    soundfile.write(tmp_path / "x.wav", np.full(1600, 0.1, np.float32), 16_000)
    rows = [["a", "1", "Ann", "hi", "joy", "x.wav"], ["a", "2", "Bo", "  ", "sad", "x.wav"],
            ["a", "3", "Ann", "so", "joy", "x.wav"]]
    path = write_table(tmp_path / "t.csv", rows, HEADER + ["file"])
    out = tmp_path / "index"
    assert index_command.main(["--table", str(path), "--columns", "dialogue=conv", "order=t", "speaker=who",
                               "text=utt", "label=emo", "audio=file", "--out", str(out)]) == 0
    table = read_index(out)
    assert table["text"].tolist() == ["hi", "", "so"] and table["turn"].tolist() == [0, 1, 2]
    assert read_index_meta(out)["counts"]["empty_text"] == 1


def test_index_written_from_a_table_reads_back_with_clip_windows(tmp_path):
    soundfile.write(tmp_path / "x.wav", np.full(1600, 0.1, np.float32), 16_000)
    rows = [["a", "0", "Ann", "hi", "joy", "x.wav", "0.01", "0.05"]]
    path = write_table(tmp_path / "t.csv", rows, HEADER + ["file", "from", "to"])
    assert index_command.main(["--table", str(path), "--columns", "dialogue=conv", "order=t", "speaker=who",
                               "text=utt", "label=emo", "audio=file", "clip_start=from", "clip_end=to",
                               "--out", str(tmp_path / "idx")]) == 0
    back = read_index(tmp_path / "idx")
    assert back["wav_file"].tolist() == [str(tmp_path / "x.wav")]
    assert back[["clip_start", "clip_end"]].values.tolist() == [[0.01, 0.05]]
    assert read_skipped(tmp_path / "idx").empty


def test_soft_labels_by_prefix_go_in_class_order_and_must_sum_to_one(tmp_path):
    header = HEADER + ["p_sad", "p_joy"]
    rows = [["a", "0", "Ann", "hi", "joy", "0.25", "0.75"], ["a", "1", "Bo", "no", "sad", "1", "0"]]
    spec = TableSpec(**{**vars(SPEC), "soft": "p_", "labels": ["joy", "sad"]})
    frame = read_utterance_table(write_table(tmp_path / "t.csv", rows, header), spec).frame
    assert frame[["soft_joy", "soft_sad"]].values.tolist() == [[0.75, 0.25], [0.0, 1.0]]
    rows[1][-1] = "0.5"
    with pytest.raises(UserError, match=r"line 3: column 'p_sad, p_joy': soft labels sum to 1.5"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows, header), spec)


def test_valence_arousal_and_session_columns(tmp_path):
    header = HEADER + ["val", "aro", "sess"]
    rows = [["a", "0", "Ann", "hi", "joy", "3.5", "", "2"], ["b", "0", "Bo", "no", "sad", "1", "4", "1"]]
    spec = TableSpec(**{**vars(SPEC), "valence": "val", "arousal": "aro", "session": "sess"})
    frame = read_utterance_table(write_table(tmp_path / "t.csv", rows, header), spec).frame
    assert frame["dialogue_id"].tolist() == ["b", "a"]  # sorted by session first
    assert frame["session"].tolist() == [1, 2] and frame["valence"].tolist() == [1.0, 3.5]
    assert frame["arousal"].isna().tolist() == [False, True]
    rows[0][-1] = "2.5"
    with pytest.raises(UserError, match=r"line 2: column 'sess': holds '2.5' \(expected an integer\)"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows, header), spec)


def test_speaker_lists_when_the_spec_says_lists(tmp_path):
    rows = [["a", "0", "['Ross Geller']", "hi", "joy"], ["a", "1", "['Ross', 'Joey']", "hey", "joy"]]
    spec = TableSpec(**{**vars(SPEC), "speaker_list": True})
    frame = read_utterance_table(write_table(tmp_path / "t.csv", rows), spec).frame
    assert frame["speaker"].tolist() == ["Ross Geller", "Ross & Joey"]
    rows.append(["a", "2", "Monica", "ok", "joy"])
    with pytest.raises(UserError, match=r"line 4: column 'who': holds 'Monica' \(expected a list literal"):
        read_utterance_table(write_table(tmp_path / "t.csv", rows), spec)
    assert parse_speaker_list("[__import__('os').getcwd()]") is None  # parsed as a literal, never run
    assert parse_speaker_list("[]") is None and parse_speaker_list("['a', 3]") is None


def test_text_keeps_the_raw_cell_and_normalises_typography():
    assert clean_text("You\u2019re  \u201cfine\u201d\u2026 \u2014 ok") == 'You\'re "fine"... - ok'
    assert clean_text("it\u0092s") == "it's"  # cp1252 apostrophe decoded as latin-1


def test_command_line_spec_file_and_options_of_another_input_kind(tmp_path, capsys):
    path = write_table(tmp_path / "t.csv", ROWS)
    spec = tmp_path / "spec.yaml"
    spec.write_text("dialogue: conv\norder: t\nspeaker: who\ntext: utt\nlabel: emo\nlabels: [sad, joy, neutral]\n")
    assert index_command.main(["--table", str(path), "--spec", str(spec), "--out", str(tmp_path / "idx")]) == 0
    printed = capsys.readouterr().out
    assert "classes (the table spec's labels): sad 2 (50.0%), joy 1 (25.0%), neutral 1 (25.0%)" in printed
    assert "sessions none (no session column: every row in session 0)" in printed
    assert read_index_meta(tmp_path / "idx")["label_names"] == ["sad", "joy", "neutral"]

    with_sessions = write_table(tmp_path / "s.csv", [row + [session] for row, session in zip(ROWS, "3113")],
                                header=HEADER + ["sess"])
    assert index_command.main(["--table", str(with_sessions), "--spec", str(spec), "--columns", "session=sess",
                               "--out", str(tmp_path / "idx_s")]) == 0
    assert "dialogues 2, sessions 2, speakers 2" in capsys.readouterr().out

    assert index_command.main(["--table", str(path), "--spec", str(spec), "--tie-policy", "soft",
                               "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.strip() == "error: --tie-policy: not an option for --table"
    assert index_command.main(["--table", str(path), "--columns", "dialog=conv", "--out", str(tmp_path / "x")]) == 2
    assert "unknown key 'dialog'; did you mean dialogue?" in capsys.readouterr().err
    assert index_command.main(["--out", str(tmp_path / "x")]) == 2
    assert "give one of --corpus" in capsys.readouterr().err


def test_corpus_report_on_a_table_index(tmp_path, capsys):
    path = write_table(tmp_path / "t.csv", ROWS)
    assert index_command.main(["--table", str(path), "--columns", "dialogue=conv", "order=t", "speaker=who",
                               "text=utt", "label=emo", "--out", str(tmp_path / "idx")]) == 0
    capsys.readouterr()
    assert report_command.main(["--index", str(tmp_path / "idx"), "--json", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert "4 utterances in 2 dialogues, 2 speakers" in printed
    assert "class order: the labels found, sorted" in printed and "duration (s): unknown" in printed
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["class_mix"] == {"joy": 0.25, "neutral": 0.25, "sad": 0.5} and stats["speaker_change_rate"] == 1.0


@pytest.mark.skipif(not REAL_TABLE.is_file(), reason=f"the shared IEMOCAP table is not here ({REAL_TABLE})")
def test_the_shared_iemocap_table_reads_through_the_generic_reader():
    spec = TableSpec(split="split", labels=["hap", "sad", "neu", "ang", "exc", "fru"])
    result = read_utterance_table(REAL_TABLE, spec)
    frame = result.frame
    assert len(frame) == 7433 and frame["dialogue_id"].nunique() == 151 and result.skipped.empty
    per_split = frame.groupby("split")["dialogue_id"].nunique().to_dict()
    assert per_split == {"train": 108, "dev": 12, "test": 31}
    source = pd.read_csv(REAL_TABLE, keep_default_na=False)
    merged = frame.merge(source, left_on=["dialogue_id", "turn"], right_on=["dialogue_id", "turn"], validate="1:1")
    assert len(merged) == 7433 and (merged["text_raw"] == merged["text_y"]).all()
    assert (merged["emotion_x"] == merged["emotion_y"]).all()
    assert (frame.groupby("dialogue_id", sort=False)["turn"].apply(lambda t: t.tolist() == list(range(len(t))))).all()
