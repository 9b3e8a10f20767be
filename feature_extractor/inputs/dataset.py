"""Utterances as model inputs: a pre-flight scan that sets aside bad rows, and the Dataset.

Tables are utterance-index frames from `feature_extractor.corpus.read_index` (with the absolute
`wav_file` column it adds).

`scan_utterances` reads every needed input once: missing / unreadable / zero-length / NaN / silent
audio is listed (segment_id, file, reason, detail) instead of being fed to the model (an empty
transcript is kept as an empty text input, so its conversation has no hole), and each kept row
gets its `length` (16 kHz samples, acoustic frames or, for text-only models, characters) for
length-aware batching. For the acoustic encoder the same read
fills the frame-feature cache.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from erc_core.progress import progress as show_progress
from feature_extractor.corpus.schema import SOFT_PREFIX
from feature_extractor.encoders.acoustic import FRAMES_PER_SECOND, AcousticFeatureCache
from feature_extractor.inputs.audio_io import SAMPLE_RATE, AudioProblem, crop_window, load_audio
from feature_extractor.inputs.dialogue_context import CONTEXT_AFTER, CONTEXT_BEFORE

AUDIO_KINDS = ("hf", "acoustic", "whisper", "opensmile")  # whisper / opensmile: waveforms read once, then cached vectors
PARALLEL_SCAN_MIN = 256


def scan_utterances(
    table: pd.DataFrame,
    use_text: bool,
    audio_kind: str | None,
    acoustic_cache: AcousticFeatureCache | None = None,
    progress=False,
    workers: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept rows with a `length` column, skipped rows as segment_id / file / reason / detail).

    `workers` > 0 checks files in that many processes (reading and acoustic features dominate);
    below PARALLEL_SCAN_MIN utterances the process start-up would cost more than it saves.
    `progress`: a `progress=` value of erc_core.progress (True / False, a mode, a ProgressSetting),
    counted as each result arrives."""
    if audio_kind not in (None, *AUDIO_KINDS):
        raise ValueError(f"audio kind {audio_kind!r}; expected one of {', '.join(AUDIO_KINDS)} or none")
    if audio_kind == "acoustic" and acoustic_cache is None:
        raise ValueError("the acoustic encoder needs an AcousticFeatureCache")
    rows = table[["segment_id", "wav_path", "wav_file", "text"]].itertuples(index=False)
    jobs = [
        (segment_id, wav_path, wav_file, clip, text, text_length, use_text, audio_kind, acoustic_cache)
        for (segment_id, wav_path, wav_file, text), clip, text_length in zip(rows, clip_windows(table), text_lengths(table))
    ]
    if workers > 0 and len(jobs) >= PARALLEL_SCAN_MIN:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            # map yields each result in order as it arrives (as Pool.imap), so the count is live
            results = list(show_progress(pool.map(_check_utterance, jobs, chunksize=16), total=len(jobs),
                                         desc="checking utterances", mode=progress))
    else:
        results = [_check_utterance(job) for job in show_progress(jobs, desc="checking utterances", mode=progress)]
    lengths = {segment_id: length for segment_id, length, _ in results if length is not None}
    skipped = [problem for _, length, problem in results if length is None]
    kept = table[table["segment_id"].isin(lengths.keys())].copy()
    kept["length"] = kept["segment_id"].map(lengths).astype(np.int64)
    return kept.reset_index(drop=True), pd.DataFrame(skipped, columns=["segment_id", "file", "reason", "detail"])


def _pool_context():
    """fork where available: the workers only read audio and run numpy / librosa code, never torch,
    and forking skips re-importing the caller's modules (spawn re-imports even the __main__ module,
    seconds per worker for a Lightning script)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _check_utterance(job) -> tuple:
    """(segment_id, length, None) for a usable utterance, (segment_id, None, problem row) otherwise."""
    segment_id, wav_path, wav_file, clip, text, text_length, use_text, audio_kind, cache = job
    if audio_kind is None:  # an empty transcript is an empty text input: no hole in the conversation
        return segment_id, text_length, None
    if not wav_file:
        return segment_id, None, (segment_id, "", "no_audio", "the index names no audio file for this utterance")
    path = Path(wav_file)
    if not path.is_file():
        return segment_id, None, (segment_id, str(wav_path), "missing_wav", f"no file at {path}")
    try:
        return segment_id, _audio_length(segment_id, path, clip, audio_kind, cache), None
    except AudioProblem as error:
        return segment_id, None, (segment_id, str(wav_path), error.reason, error.detail)


def _audio_length(segment_id: str, path: Path, clip, audio_kind: str, cache: AcousticFeatureCache | None) -> int:
    if audio_kind == "acoustic":  # other kinds: the waveform's samples
        frames = cache.load(segment_id, path)
        if frames is None:
            frames = cache.get_or_compute(segment_id, path, load_clip(path, clip))
        return len(frames)
    return len(load_clip(path, clip))


def moved_corpus_hint(skipped: pd.DataFrame, setting: str) -> str:
    """A hint naming `setting` when every skipped utterance lacks its audio file: most often the
    corpus moved since the index was built."""
    if len(skipped) and (skipped["reason"] == "missing_wav").all():
        return f"; no audio file was found: if the corpus moved since the index was built, give its new root with {setting}"
    return ""


def text_lengths(table: pd.DataFrame) -> list[int]:
    """Characters of each row's text input, dialogue context included (what batching sorts by)."""
    lengths = table["text"].astype(str).str.len().tolist()
    if CONTEXT_BEFORE not in table.columns:
        return lengths
    context = [sum(map(len, before)) + sum(map(len, after))
               for before, after in zip(table[CONTEXT_BEFORE], table[CONTEXT_AFTER])]
    return [own + extra for own, extra in zip(lengths, context)]


def clip_windows(table: pd.DataFrame) -> list:
    """Per row, (start, end) seconds inside its audio file, or None for the whole file."""
    if "clip_start" not in table.columns:
        return [None] * len(table)
    starts = pd.to_numeric(table["clip_start"], errors="coerce")
    ends = pd.to_numeric(table["clip_end"], errors="coerce")
    return [None if pd.isna(start) and pd.isna(end) else (None if pd.isna(start) else float(start),
                                                          None if pd.isna(end) else float(end))
            for start, end in zip(starts, ends)]


def load_clip(path: Path, clip) -> np.ndarray:
    return load_audio(path) if clip is None else load_audio(path, start=clip[0], end=clip[1])


class UtteranceDataset(Dataset):
    """One item per row of a scanned table: model inputs plus labels, as numpy / Python values."""

    def __init__(
        self,
        table: pd.DataFrame,
        use_text: bool,
        audio_kind: str | None,
        max_audio_seconds: float,
        crop_mode: str,
        physio: np.ndarray | None = None,
        acoustic_cache: AcousticFeatureCache | None = None,
        frozen: dict | None = None,
    ):
        """`frozen`: {modality: [len(table), D] vectors} of frozen encoders (frozen_vectors.py); such a
        modality's item is its row (`audio_features` / `text_features`) instead of samples or text."""
        self.table = table.reset_index(drop=True)
        self.use_text = use_text
        self.audio_kind = audio_kind
        self.crop_mode = crop_mode
        self.cache = acoustic_cache
        self.max_len = max_audio_length(audio_kind, max_audio_seconds)
        self.physio = physio
        self.frozen = frozen or {}
        for name, matrix in (("physio", physio), *self.frozen.items()):
            if matrix is not None and len(matrix) != len(self.table):
                raise ValueError(f"{name} has {len(matrix)} rows for {len(self.table)} utterances")
        self.clips = clip_windows(self.table)
        self.labels = self.table["label"].to_numpy(dtype=np.int64)
        self.soft = _optional_matrix(self.table, soft_columns_of(self.table))
        self.va = _optional_matrix(self.table, ("valence", "arousal"))

    def __len__(self) -> int:
        return len(self.table)

    def lengths(self) -> np.ndarray:
        """Per-item lengths after cropping, for the batch sampler."""
        lengths = self.table["length"].to_numpy(dtype=np.int64)
        return np.minimum(lengths, self.max_len) if self.max_len > 0 else lengths

    def __getitem__(self, i: int) -> dict:
        row = self.table.iloc[i]
        item = {"index": i, "segment_id": row["segment_id"], "label": int(self.labels[i])}
        if "t" in self.frozen:
            item["text_features"] = self.frozen["t"][i]
        elif self.use_text:
            item["text"] = str(row["text"])
            if CONTEXT_BEFORE in self.table.columns:
                item[CONTEXT_BEFORE], item[CONTEXT_AFTER] = row[CONTEXT_BEFORE], row[CONTEXT_AFTER]
        if "a" in self.frozen:
            item["audio_features"] = self.frozen["a"][i]
        elif self.audio_kind is not None:
            item["audio"] = self._audio(row)
        if self.soft is not None:
            item["soft"] = self.soft[i]
        if self.va is not None:
            item["va"] = self.va[i]
        if self.physio is not None:
            item["physio"] = self.physio[i]
        return item

    def _audio(self, row) -> np.ndarray:
        path, clip = Path(row["wav_file"]), self.clips[row.name]
        if self.audio_kind == "acoustic":
            data = self.cache.load(row["segment_id"], path)
            if data is None:
                data = self.cache.get_or_compute(row["segment_id"], path, load_clip(path, clip))
            data = data.astype(np.float32)
        else:
            data = load_clip(path, clip)
        rng = _torch_seeded_rng() if self.crop_mode == "random" else None
        return crop_window(data, self.max_len, self.crop_mode, rng)


def max_audio_length(audio_kind: str | None, max_audio_seconds: float) -> int:
    """The crop budget in the units of `audio_kind` (0 = no crop)."""
    if audio_kind is None or not max_audio_seconds or max_audio_seconds <= 0:
        return 0
    per_second = FRAMES_PER_SECOND if audio_kind == "acoustic" else SAMPLE_RATE
    return int(round(max_audio_seconds * per_second))


def _torch_seeded_rng() -> np.random.Generator:
    """A numpy generator drawn from torch's RNG: reproducible under seed_everything(workers=True),
    different per worker and per epoch."""
    return np.random.default_rng(int(torch.randint(0, 2**62, ())))


def soft_columns_of(table: pd.DataFrame) -> tuple[str, ...]:
    """The table's soft-label columns (schema.SOFT_PREFIX), in file order = the label set's order."""
    return tuple(column for column in table.columns if column.startswith(SOFT_PREFIX))


def _optional_matrix(table: pd.DataFrame, columns) -> np.ndarray | None:
    if not columns or not all(name in table.columns for name in columns):
        return None
    return table[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
