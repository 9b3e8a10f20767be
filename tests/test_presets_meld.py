"""The MELD preset on generated files in the shape of the official release (CORPUS_FORMATS.md)."""

import csv

import numpy as np
import pytest
import soundfile

from erc_core.errors import UserError
from feature_extractor.corpus import index_command, read_index_meta
from feature_extractor.corpus.presets import read_preset
from feature_extractor.corpus.presets.meld import LABELS
from feature_extractor.inputs.audio_io import NeedsFfmpeg, load_audio

HEADER = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID", "Season",
          "Episode", "StartTime", "EndTime"]
TRAIN = [  # dialogue 0 starts at 1 and has a gap (no utterance 3); rows out of order
    (1, "Oh, you\u2019re kidding, right?", "Rachel", "surprise", "positive", 0, 2, 4, 11),
    (2, "No\u2026 I\u2019m not.", "Ross", "neutral", "neutral", 0, 1, 4, 11),
    (3, "\u201cFine\u201d \u2014 go.", "Rachel", "anger", "negative", 0, 4, 4, 11),
    (4, "Hi.", "The Interviewer", "joy", "positive", 1, 0, 2, 3),
]
DEV = [(1, "Dev dialogue zero.", "Joey", "sadness", "negative", 0, 0, 1, 1)]
TEST = [(1, "Test one.", "Monica", "fear", "negative", 0, 0, 1, 2),
        (2, "Two.", "Chandler", "disgust", "negative", 0, 1, 1, 2)]


def write_split(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([*row, "00:12:01,250", "00:12:03,004"])


@pytest.fixture
def meld(tmp_path):
    root = tmp_path / "MELD"
    root.mkdir()
    for name, rows in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
        write_split(root / f"{name}_sent_emo.csv", rows)
    return root


def add_clips(root):
    """train: a wav for dia0_utt1, an mp4 for dia0_utt2 and dia0_utt4 (and a wav beside the latter), dia1 missing;
    dev / test: mp4 clips."""
    clips = root / "MELD.Raw" / "train" / "train_splits"
    clips.mkdir(parents=True)
    soundfile.write(clips / "dia0_utt1.wav", np.full(1600, 0.1, np.float32), 16_000)
    soundfile.write(clips / "dia0_utt4.wav", np.full(1600, 0.1, np.float32), 16_000)
    for name in ("dia0_utt2.mp4", "dia0_utt4.mp4"):
        (clips / name).write_bytes(b"not a real mp4")
    for folder, names in (("dev_splits_complete", ["dia0_utt0"]),
                          ("output_repeated_splits_test", ["dia0_utt0", "dia0_utt1"])):
        (root / folder).mkdir()
        for name in names:
            (root / folder / f"{name}.mp4").write_bytes(b"not a real mp4")


def test_dialogue_ids_are_split_local_and_order_follows_utterance_ids_with_gaps(meld):
    result = read_preset("meld", meld)
    frame = result.frame
    assert result.dataset == "MELD" and result.label_names == tuple(LABELS)
    dialogues = frame.groupby("dialogue_id", sort=False)["segment_id"].apply(list).to_dict()
    assert dialogues == {
        "dev_dia0": ["dev_dia0_utt0"],
        "test_dia0": ["test_dia0_utt0", "test_dia0_utt1"],
        "train_dia0": ["train_dia0_utt1", "train_dia0_utt2", "train_dia0_utt4"],
        "train_dia1": ["train_dia1_utt0"],
    }
    assert frame.set_index("segment_id")["turn"]["train_dia0_utt4"] == 2  # the gap leaves no gap in `turn`
    assert frame.groupby("dialogue_id")["split"].first().to_dict() == {
        "dev_dia0": "dev", "test_dia0": "test", "train_dia0": "train", "train_dia1": "train"}
    assert frame["wav_path"].unique().tolist() == [""]  # no clip folders: text only
    assert frame.set_index("segment_id")["speaker"]["train_dia1_utt0"] == "The Interviewer"


def test_typographic_characters_are_kept_raw_and_normalised_in_text(meld):
    frame = read_preset("meld", meld).frame.set_index("segment_id")
    assert frame.loc["train_dia0_utt2", "text_raw"] == "Oh, you\u2019re kidding, right?"
    assert frame.loc["train_dia0_utt2", "text"] == "Oh, you're kidding, right?"
    assert frame.loc["train_dia0_utt1", "text"] == "No... I'm not."
    assert frame.loc["train_dia0_utt4", "text"] == '"Fine" - go.'


def test_clips_wav_first_then_mp4_and_missing_ones_are_skipped(meld, monkeypatch, tmp_path):
    add_clips(meld)
    monkeypatch.setenv("PATH", str(tmp_path / "empty_bin"))
    result = read_preset("meld", meld)
    paths = result.frame.set_index("segment_id")["wav_path"].to_dict()
    assert paths["train_dia0_utt1"] == "MELD.Raw/train/train_splits/dia0_utt1.wav"
    assert paths["train_dia0_utt2"] == "MELD.Raw/train/train_splits/dia0_utt2.mp4"
    assert paths["train_dia0_utt4"] == "MELD.Raw/train/train_splits/dia0_utt4.wav"  # the extracted wav wins
    assert paths["test_dia0_utt1"] == "output_repeated_splits_test/dia0_utt1.mp4"
    assert result.skipped.to_dict("records") == [
        {"segment_id": "train_dia1_utt0", "file": "MELD.Raw/train/train_splits/dia1_utt0.mp4", "reason": "missing_wav"}]
    assert result.notes["audio_files"] == "2 wav, 5 mp4" and "extract wav first" in result.notes["ffmpeg"]


def test_an_mp4_clip_without_ffmpeg_is_one_clear_error(meld, monkeypatch, tmp_path):
    add_clips(meld)
    monkeypatch.setenv("PATH", str(tmp_path / "empty_bin"))
    hint = r"extract wav first \(ffmpeg -i in.mp4 -ac 1 -ar 16000 out.wav\) or install ffmpeg"
    with pytest.raises(NeedsFfmpeg, match=hint):
        load_audio(meld / "output_repeated_splits_test" / "dia0_utt1.mp4")


def test_bad_release_files_name_the_file_line_and_column(meld):
    rows = TRAIN + [(5, "Huh?", "Ross", "confused", "neutral", 1, 1, 2, 3)]
    write_split(meld / "train_sent_emo.csv", rows)
    with pytest.raises(UserError, match=r"train_sent_emo.csv, line 6: column 'Emotion': unknown label 'confused' "
                                        r"\(expected one of neutral, joy, surprise, anger, sadness, disgust, fear\)"):
        read_preset("meld", meld)
    write_split(meld / "train_sent_emo.csv", TRAIN + [(5, "Huh?", "Ross", "joy", "neutral", 1, "x1", 2, 3)])
    with pytest.raises(UserError, match=r"train_sent_emo.csv, line 6: column 'Utterance_ID': holds 'x1'"):
        read_preset("meld", meld)
    write_split(meld / "train_sent_emo.csv", TRAIN + [(5, "Again.", "Ross", "joy", "neutral", 0, 2, 4, 11)])
    with pytest.raises(UserError, match=r"train_sent_emo.csv, line 6: column 'Utterance_ID': dialogue 'train_dia0' "
                                        r"has 2 rows with order '2' \(lines 2, 6\)"):
        read_preset("meld", meld)
    (meld / "dev_sent_emo.csv").unlink()
    with pytest.raises(UserError, match=r"missing dev_sent_emo.csv"):
        read_preset("meld", meld)


def test_missing_column_in_one_file_is_named(meld):
    (meld / "test_sent_emo.csv").write_text("Sr No.,Utterance,Speaker,Emotion\n1,Hi.,Ross,joy\n", encoding="utf-8")
    missing = r"test_sent_emo.csv, line 1: missing column\(s\) 'Dialogue_ID', 'Utterance_ID'"
    with pytest.raises(UserError, match=missing):
        read_preset("meld", meld)


def test_command_line_preset(meld, tmp_path, capsys):
    out = tmp_path / "index"
    assert index_command.main(["--preset", "meld", "--corpus", str(meld), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MELD index written" in printed and "utterances 7, dialogues 4" in printed
    meta = read_index_meta(out)
    assert meta["label_names"] == LABELS and meta["resolved"]["preset"] == "meld"
    assert index_command.main(["--preset", "meld", "--corpus", str(meld), "--classes", "4", "--out", str(out)]) == 2
    assert "--classes: not an option for --preset meld" in capsys.readouterr().err
