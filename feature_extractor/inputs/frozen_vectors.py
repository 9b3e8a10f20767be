"""Frozen encoders' vectors for the rows of an utterance table: read from the cache, computed once
for the rows it lacks, then (audio) normalised per speaker. Used by stage 1, stage 2 and predict
alike, so the three see the same vectors for the same utterance and settings."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from erc_core.progress import progress as show_progress
from feature_extractor.encoders.frozen import build_featurizer, frozen_modalities
from feature_extractor.encoders.frozen_cache import FrozenFeatureCache
from feature_extractor.inputs.audio_io import SAMPLE_RATE
from feature_extractor.inputs.dataset import clip_windows, load_clip
from feature_extractor.inputs.speaker_norm import speaker_normalise

CHUNK = 64  # utterances encoded between cache writes (a crash loses at most this many)


def frozen_vectors(table: pd.DataFrame, model_cfg, modalities: str, cache_root, progress=False,
                   timings: dict | None = None) -> dict:
    """{modality: float32 [len(table), D]} for each frozen modality of `modalities` under `model_cfg`.
    `timings`, when given, receives per modality the seconds spent encoding and how many rows were
    computed rather than read from the cache."""
    vectors = {}
    for modality in frozen_modalities(model_cfg, modalities):
        featurizer = build_featurizer(model_cfg, modality, threads=torch.get_num_threads())
        cache = FrozenFeatureCache(cache_root, featurizer.identity)
        started = time.perf_counter()
        matrix, computed = _cached_or_computed(table, modality, featurizer, cache, progress)
        if timings is not None:
            timings[modality] = {"seconds": time.perf_counter() - started, "computed": len(computed), "rows": len(table)}
            if modality == "a" and "length" in table.columns:  # scanned rows: length in 16 kHz samples
                timings[modality]["audio_seconds"] = float(table["length"].iloc[computed].sum()) / SAMPLE_RATE
        if modality == "a":
            matrix = speaker_normalise(matrix, table, model_cfg.audio.speaker_norm)
        vectors[modality] = matrix
    return vectors


def _cached_or_computed(table, modality, featurizer, cache, progress) -> tuple[np.ndarray, list]:
    """(vectors of every row, positions of the rows that were computed)"""
    keys = _content_keys(table, modality, cache)
    found = [cache.load(segment_id, key) for segment_id, key in zip(table["segment_id"], keys)]
    missing = [row for row, vector in enumerate(found) if vector is None]
    clips = clip_windows(table) if modality == "a" else None
    label = {"a": "encoding audio", "t": "encoding text"}[modality]
    chunks = [missing[start:start + CHUNK] for start in range(0, len(missing), CHUNK)]
    for chunk in show_progress(chunks, desc=f"{label} ({len(missing)} not cached)", mode=progress):
        inputs = [_input_of(table, row, modality, clips) for row in chunk]
        for row, vector in zip(chunk, featurizer.encode(inputs)):
            cache.store(table["segment_id"].iat[row], keys[row], vector)
            found[row] = vector
    width = len(found[0]) if found else 0
    return np.asarray(found, dtype=np.float32).reshape(len(table), width), missing


def _content_keys(table, modality, cache) -> list[str]:
    if modality == "t":
        return [cache.text_key(text) for text in table["text"].astype(str)]
    return [cache.audio_key(wav_file, clip) for wav_file, clip in zip(table["wav_file"], clip_windows(table))]


def _input_of(table, row, modality, clips):
    if modality == "t":
        return str(table["text"].iat[row])
    return load_clip(Path(table["wav_file"].iat[row]), clips[row])
