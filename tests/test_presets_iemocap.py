"""The IEMOCAP preset on a generated tree in the documented release layout (CORPUS_FORMATS.md).

No real release is available here: these trees follow the documented format, which is what the
preset is built from (docs/corpus.md says so)."""

import numpy as np
import pytest
import soundfile

from erc_core.errors import UserError
from feature_extractor.corpus import index_command, read_index_meta
from feature_extractor.corpus.presets import read_preset
from feature_extractor.corpus.presets.iemocap import COGMEN_DEV

# (utterance suffix, start, end, text, majority label, valence, arousal), written out of time order
PLAIN = [("M000", 3.1, 4.0, "Do you have your forms?", "hap", 4.0, 3.5),
         ("F000", 1.0, 2.5, "Excuse me.", "neu", 2.5, 2.0),
         ("F001", 5.0, 6.0, "Yeah.", "exc", 4.5, 4.0), ("M001", 7.0, 8.0, "Let me see them.", "fru", 2.0, 3.0)]
DIALOGUES = {
    1: ["Ses01F_impro01", "Ses01F_script01_1", "Ses01M_impro05a"],
    2: ["Ses02F_impro01", "Ses02M_script02_2"],
    3: ["Ses03F_impro01", "Ses03M_impro02"],
    4: ["Ses04F_impro01", "Ses04M_script01_1", "Ses04F_impro03"],
    5: ["Ses05F_impro01", "Ses05M_script01_1"],
}
SPECIAL = "Ses01M_impro05a"


def write_dialogue(root, session, dialogue, utterances, extra_lines=(), evaluate_only=(), wav_missing=()):
    base = root / f"Session{session}"
    for folder in ("dialog/transcriptions", "dialog/EmoEvaluation", f"sentences/wav/{dialogue}"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    lines = [f"{dialogue}_{u} [{start:08.4f}-{end:08.4f}]: {text}" for u, start, end, text, *_ in utterances]
    (base / "dialog/transcriptions" / f"{dialogue}.txt").write_text("\n".join([*lines, *extra_lines]) + "\n")
    blocks = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for u, start, end, _, label, valence, arousal in [*utterances, *evaluate_only]:
        blocks += [f"[{start:.4f} - {end:.4f}]\t{dialogue}_{u}\t{label}\t[{valence:.4f}, {arousal:.4f}, 2.5000]",
                   "C-E2:\tNeutral;\t()", "A-E3:\tval 3; act 2; dom  2;\t()", ""]
    (base / "dialog/EmoEvaluation" / f"{dialogue}.txt").write_text("\n".join(blocks) + "\n")
    for u, *_ in utterances:
        if u not in wav_missing:
            wav = base / f"sentences/wav/{dialogue}/{dialogue}_{u}.wav"
            soundfile.write(wav, np.full(160, 0.1, np.float32), 16_000)


@pytest.fixture
def iemocap(tmp_path):
    root = tmp_path / "IEMOCAP_full_release"
    for session, dialogues in DIALOGUES.items():
        for dialogue in dialogues:
            if dialogue != SPECIAL:
                write_dialogue(root, session, dialogue, PLAIN)
    special = PLAIN + [("F002", 9.0, 9.5, "Whatever.", "xxx", 3.0, 3.0), ("M002", 10.0, 11.0, "Huh.", "oth", 3.0, 3.0),
                       ("F003", 12.0, 13.0, "Oh!", "sur", 3.5, 4.0), ("M003", 14.0, 15.0, "", "neu", 3.0, 3.0),
                       ("F004", 16.0, 17.0, "No wav.", "sad", 1.5, 2.0), ("F005", 18.0, 18.5, "Unrated.", "neu", 3, 3)]
    write_dialogue(root, 1, SPECIAL, special[:-1], extra_lines=["M: [BREATHING]", f"{SPECIAL}_MXX0 [019.0-019.5]: Mm.",
                                                                f"{SPECIAL}_F005 [018.0000-018.5000]: Unrated."],
                   evaluate_only=[("M009", 20.0, 21.0, "", "ang", 1.0, 4.0)], wav_missing=("F004",))
    return root


def test_six_classes_order_speakers_and_dimensions(iemocap):
    result = read_preset("iemocap", iemocap)
    frame = result.frame
    assert result.dataset == "IEMOCAP" and result.label_names == ("hap", "sad", "neu", "ang", "exc", "fru")
    plain = frame[frame["dialogue_id"] == "Ses02F_impro01"]
    assert plain["segment_id"].tolist() == [f"Ses02F_impro01_{u}" for u in ("F000", "M000", "F001", "M001")]
    assert plain["turn"].tolist() == [0, 1, 2, 3] and plain["speaker"].tolist() == ["Ses02_F", "Ses02_M"] * 2
    assert plain["gender"].tolist() == ["F", "M", "F", "M"] and plain["session"].unique().tolist() == [2]
    assert plain["emotion"].tolist() == ["neu", "hap", "exc", "fru"] and plain["label"].tolist() == [2, 0, 4, 5]
    assert plain["valence"].tolist() == [2.5, 4.0, 4.5, 2.0] and plain["arousal"].tolist() == [2.0, 3.5, 4.0, 3.0]
    assert plain["start"].tolist() == [1.0, 3.1, 5.0, 7.0]
    assert plain["duration"].tolist() == pytest.approx([1.5, 0.9, 1, 1])
    assert plain["wav_path"].iloc[0] == "Session2/sentences/wav/Ses02F_impro01/Ses02F_impro01_F000.wav"


def test_unusable_utterances_are_skipped_with_their_reason(iemocap):
    result = read_preset("iemocap", iemocap)
    reasons = dict(zip(result.skipped["segment_id"], result.skipped["reason"]))
    assert reasons == {
        f"{SPECIAL}_F002": "label_not_in_set", f"{SPECIAL}_M002": "label_not_in_set",
        f"{SPECIAL}_F003": "label_not_in_set", f"{SPECIAL}_M003": "empty_text", f"{SPECIAL}_F004": "missing_wav",
        f"{SPECIAL}_F005": "no_label", f"{SPECIAL}_M009": "missing_transcript",
    }
    kept = result.frame[result.frame["dialogue_id"] == SPECIAL]
    assert kept["turn"].tolist() == [0, 1, 2, 3]  # skipped utterances leave no gap
    assert result.notes["transcription_lines_not_utterances"] == 1  # the _MXX0 line; the untimed line is no candidate


def test_split_session_five_is_test_and_dev_is_the_first_tenth_of_sorted_train_dialogues(iemocap):
    result = read_preset("iemocap", iemocap)
    splits = result.frame.groupby("dialogue_id")["split"].first()
    assert splits[splits == "test"].index.tolist() == ["Ses05F_impro01", "Ses05M_script01_1"]
    assert splits[splits == "dev"].index.tolist() == ["Ses01F_impro01"]  # 10 train dialogues -> 1
    assert "session 5 test" in result.options["split_rule"]
    cogmen = read_preset("iemocap", iemocap, dev_rule="cogmen").frame.groupby("dialogue_id")["split"].first()
    assert cogmen[cogmen == "dev"].index.tolist() == ["Ses03F_impro01", "Ses03M_impro02"]  # those of the 12 here
    assert len(COGMEN_DEV) == 12


def test_four_classes_merge_exc_into_hap_and_skip_fru(iemocap):
    result = read_preset("iemocap", iemocap, classes=4)
    plain = result.frame[result.frame["dialogue_id"] == "Ses02F_impro01"]
    assert result.label_names == ("hap", "sad", "neu", "ang")
    assert plain["emotion_raw"].tolist() == ["neu", "hap", "exc"] and plain["emotion"].tolist() == ["neu", "hap", "hap"]
    fru = result.skipped[result.skipped["segment_id"] == "Ses02F_impro01_M001"]
    assert fru["reason"].tolist() == ["label_not_in_set"]


def test_malformed_evaluation_lines_and_labels_name_file_and_line(iemocap):
    path = iemocap / "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
    good = path.read_text()
    path.write_text(good.replace("\tneu\t", "\tneutral\t"))
    with pytest.raises(UserError, match=r"Ses02F_impro01.txt, line 7: label 'neutral' \(expected one of neu, hap"):
        read_preset("iemocap", iemocap)
    path.write_text(good.replace("[2.5000, 2.0000, 2.5000]", "[2.5000; 2.0000]"))
    with pytest.raises(UserError, match=r"EmoEvaluation/Ses02F_impro01.txt, line \d+: malformed block line"):
        read_preset("iemocap", iemocap)


def test_an_utterance_of_another_dialogue_is_an_error(iemocap):
    path = iemocap / "Session3/dialog/transcriptions/Ses03F_impro01.txt"
    path.write_text(path.read_text() + "Ses03F_impro09_F010 [030.0000-031.0000]: Elsewhere.\n")
    foreign = r"Ses03F_impro01.txt, line 5: utterance 'Ses03F_impro09_F010' is not of dialogue"
    with pytest.raises(UserError, match=foreign):
        read_preset("iemocap", iemocap)


def test_without_wav_folders_the_index_is_text_only(iemocap):
    import shutil

    for folder in iemocap.glob("Session*/sentences"):
        shutil.rmtree(folder)
    result = read_preset("iemocap", iemocap)
    assert result.frame["wav_path"].unique().tolist() == [""] and "text only" in result.notes["audio"]
    assert "missing_wav" not in set(result.skipped["reason"])


def test_command_line_iemocap_preset(iemocap, tmp_path, capsys):
    out = tmp_path / "index"
    assert index_command.main(["--preset", "iemocap", "--corpus", str(iemocap), "--classes", "4", "--out", str(out),
                               "--verbose"]) == 0
    assert "IEMOCAP index written" in capsys.readouterr().out
    meta = read_index_meta(out)
    assert meta["label_names"] == ["hap", "sad", "neu", "ang"] and meta["resolved"]["classes"] == 4
    with pytest.raises(UserError, match="no Session"):
        read_preset("iemocap", tmp_path)
