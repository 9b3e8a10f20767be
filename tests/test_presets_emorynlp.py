"""The EmoryNLP preset on generated files in the shape of the official release (CORPUS_FORMATS.md)."""

import csv

import pytest

from erc_core.errors import UserError
from feature_extractor.corpus.presets import read_preset
from feature_extractor.corpus.presets.emorynlp import LABELS

HEADER = ["Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode", "Start_Time", "End_Time"]
TRAIN = [  # Scene_ID 4 occurs in two episodes: two scenes; utterance ids start at 3 with a gap
    ("Hey, is that my sweater?", "['Ross Geller']", "Mad", 4, 5, 2, 7),
    ("No!", "['Rachel Green']", "Scared", 4, 3, 2, 7),
    ("Yes it is.", "['Ross Geller', 'Joey Tribbiani']", "Powerful", 4, 9, 2, 7),
    ("Another episode.", "['Monica Geller']", "Joyful", 4, 0, 2, 8),
]
DEV = [("Dev.", "['Phoebe Buffay']", "Peaceful", 1, 0, 3, 1)]
TEST = [("Test.", "['Chandler Bing', 'Joey Tribbiani', 'Ross Geller']", "Sad", 1, 0, 3, 2),
        ("Fine.", "['Chandler Bing']", "Neutral", 1, 1, 3, 2)]


def write_split(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([*row, "00:03:11.020", "00:03:13.700"])


@pytest.fixture
def emory(tmp_path):
    for name, rows in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
        write_split(tmp_path / f"emorynlp_{name}_final.csv", rows)
    return tmp_path


def test_scenes_are_keyed_by_season_episode_scene_within_the_split(emory):
    result = read_preset("emorynlp", emory)
    frame = result.frame
    assert result.dataset == "EmoryNLP" and result.label_names == tuple(LABELS)
    scenes = frame.groupby("dialogue_id", sort=False)["segment_id"].apply(list).to_dict()
    assert scenes == {
        "dev_s03_e01_c01": ["dev_s03_e01_c01_u0"],
        "test_s03_e02_c01": ["test_s03_e02_c01_u0", "test_s03_e02_c01_u1"],
        "train_s02_e07_c04": ["train_s02_e07_c04_u3", "train_s02_e07_c04_u5", "train_s02_e07_c04_u9"],
        "train_s02_e08_c04": ["train_s02_e08_c04_u0"],
    }
    assert frame.groupby("dialogue_id")["turn"].apply(list).to_dict()["train_s02_e07_c04"] == [0, 1, 2]
    assert frame["wav_path"].unique().tolist() == [""]
    assert frame.set_index("segment_id")["emotion"]["train_s02_e07_c04_u9"] == "Powerful"


def test_list_literal_speakers_and_several_speakers_per_row(emory):
    speakers = read_preset("emorynlp", emory).frame.set_index("segment_id")["speaker"]
    assert speakers["train_s02_e07_c04_u5"] == "Ross Geller"
    assert speakers["train_s02_e07_c04_u9"] == "Ross Geller & Joey Tribbiani"
    assert speakers["test_s03_e02_c01_u0"] == "Chandler Bing & Joey Tribbiani & Ross Geller"


@pytest.mark.parametrize("cell", ["Ross Geller", "[Ross Geller]", "['Ross', 2]", "[]",
                                  "__import__('os').system('true')"])
def test_a_speaker_cell_that_is_not_a_list_of_names_names_file_line_column(emory, cell):
    write_split(emory / "emorynlp_dev_final.csv", DEV + [("Hm.", cell, "Sad", 1, 1, 3, 1)])
    with pytest.raises(UserError, match=r"emorynlp_dev_final.csv, line 3: column 'Speaker': holds .* "
                                        r"\(expected a list literal of names"):
        read_preset("emorynlp", emory)


def test_bad_labels_and_scene_numbers_are_row_errors(emory):
    write_split(emory / "emorynlp_test_final.csv", TEST + [("Hm.", "['Ross Geller']", "neutral", 1, 2, 3, 2)])
    with pytest.raises(UserError, match=r"emorynlp_test_final.csv, line 4: column 'Emotion': unknown label 'neutral'"):
        read_preset("emorynlp", emory)
    write_split(emory / "emorynlp_test_final.csv", TEST + [("Hm.", "['Ross Geller']", "Sad", "one", 2, 3, 2)])
    with pytest.raises(UserError, match=r"emorynlp_test_final.csv, line 4: column 'Scene_ID': holds 'one'"):
        read_preset("emorynlp", emory)


def test_a_repeated_utterance_id_in_a_scene_is_an_order_tie(emory):
    write_split(emory / "emorynlp_train_final.csv", TRAIN + [("Again.", "['Ross Geller']", "Mad", 4, 5, 2, 7)])
    with pytest.raises(UserError, match=r"emorynlp_train_final.csv, line 6: column 'Utterance_ID': dialogue "
                                        r"'train_s02_e07_c04' has 2 rows with order '5' \(lines 2, 6\)"):
        read_preset("emorynlp", emory)
