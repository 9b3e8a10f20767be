"""EmoryNLP's release: emorynlp_train/dev/test_final.csv -> the utterance index (text only).

- A conversation is a scene: the key is (Season, Episode, Scene_ID) within the split,
  `train_s02_e07_c04`; segment ids add the utterance: `train_s02_e07_c04_u3`.
- `Utterance_ID` is the order (any start, gaps allowed).
- `Speaker` is a list literal (`['Ross Geller']`), parsed without eval; several people speaking
  together become one speaker `Ross Geller & Joey Tribbiani`.
- Class order (LABELS): as CORPUS_FORMATS.md lists EmoryNLP's emotions."""

from pathlib import Path

from feature_extractor.corpus.presets.official_files import read_split_files
from feature_extractor.corpus.utterance_table import TableSpec, index_from_rows, integers

FILES = {"train": "emorynlp_train_final.csv", "dev": "emorynlp_dev_final.csv", "test": "emorynlp_test_final.csv"}
LABELS = ["Neutral", "Joyful", "Peaceful", "Powerful", "Scared", "Mad", "Sad"]
SPEC = TableSpec(dialogue="scene_key", order="Utterance_ID", speaker="Speaker", text="Utterance", label="Emotion",
                 split="split", segment_id="segment_key", labels=LABELS, speaker_list=True)
COLUMNS = ("Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode")


def read_emorynlp(folder):
    folder = Path(folder).resolve()
    rows = read_split_files(folder, FILES, COLUMNS)
    season, episode, scene = (integers(rows, c).map("{:02d}".format) for c in ("Season", "Episode", "Scene_ID"))
    rows["scene_key"] = rows["split"] + "_s" + season + "_e" + episode + "_c" + scene
    rows["segment_key"] = rows["scene_key"] + "_u" + integers(rows, "Utterance_ID").astype(str)
    options = {"preset": "emorynlp", "split_rule": "the official file of each split",
               "label_source": "EmoryNLP's order as CORPUS_FORMATS.md lists it"}
    return index_from_rows(rows, SPEC, "EmoryNLP", folder, options=options)
