"""MELD's official release: train/dev/test_sent_emo.csv (+ MELD.Raw clips) -> the utterance index.

- `Dialogue_ID` restarts in every file, so the dialogue key includes the split: `train_dia3`;
  segment ids are `train_dia3_utt2`.
- `Utterance_ID` is the order (it may start at 1 and have gaps).
- Class order (LABELS): the order CORPUS_FORMATS.md lists MELD's emotions in.
- Audio: `dia{D}_utt{U}.wav` in the split's clip folder when there, else the `.mp4` clip
  (decoded through ffmpeg at load time). The clip folders are looked for up to two levels below
  the corpus folder; when none exists the index is text only."""

import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd

from feature_extractor.corpus.presets.official_files import read_split_files
from feature_extractor.corpus.utterance_table import TableSpec, index_from_rows, integers

FILES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
CLIP_FOLDERS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}
LABELS = ["neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"]
SPEC = TableSpec(dialogue="dialogue_key", order="Utterance_ID", speaker="Speaker", text="Utterance",
                 label="Emotion", split="split", segment_id="segment_key", labels=LABELS)
COLUMNS = ("Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID")


def read_meld(folder):
    folder = Path(folder).resolve()
    rows = read_split_files(folder, FILES, COLUMNS)
    dialogue = "dia" + integers(rows, "Dialogue_ID").astype(str)
    clip = dialogue + "_utt" + integers(rows, "Utterance_ID").astype(str)
    rows["dialogue_key"] = rows["split"] + "_" + dialogue
    rows["segment_key"] = rows["split"] + "_" + clip
    folders = {split: find_folder(folder, name) for split, name in CLIP_FOLDERS.items()}
    notes = {}
    if any(folders.values()):
        rows["audio"] = [clip_path(folder, folders[s], s, c) for s, c in zip(rows["split"], clip)]
        notes = audio_notes(rows["audio"])
    spec = replace(SPEC, audio="audio" if "audio" in rows else None)
    options = {"preset": "meld", "split_rule": "the official file of each split",
               "label_source": "MELD's order as CORPUS_FORMATS.md lists it",
               "clip_folders": {s: str(f) if f else None for s, f in folders.items()}}
    return index_from_rows(rows, spec, "MELD", folder, options=options, notes=notes)


def find_folder(root: Path, name: str) -> Path | None:
    for pattern in (name, f"*/{name}", f"*/*/{name}"):
        found = sorted(p for p in root.glob(pattern) if p.is_dir())
        if found:
            return found[0]
    return None


def clip_path(root: Path, clips: Path | None, split: str, clip: str) -> str:
    """The clip's wav when extracted, else its mp4 (relative to the corpus folder)."""
    clips = clips or root / CLIP_FOLDERS[split]
    wav = clips / f"{clip}.wav"
    return str((wav if wav.is_file() else clips / f"{clip}.mp4").relative_to(root))


def audio_notes(paths: pd.Series) -> dict:
    mp4 = int(paths.str.endswith(".mp4").sum())
    notes = {"audio_files": f"{len(paths) - mp4} wav, {mp4} mp4"}
    if mp4 and shutil.which("ffmpeg") is None:
        notes["ffmpeg"] = ("not on PATH: the mp4 clips cannot be decoded; extract wav first "
                           "(ffmpeg -i in.mp4 -ac 1 -ar 16000 out.wav) or install ffmpeg")
    return notes
