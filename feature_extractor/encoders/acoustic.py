"""The no-download audio encoder: fixed frame features (numpy / librosa) + a small trainable network.

Frame features (10 ms hop, 25 ms Hann window, one row per frame, `FEATURE_NAMES` order): 13 MFCCs,
log F0 (autocorrelation), log RMS energy, log spectral centroid / bandwidth / roll-off, spectral
flatness, zero-crossing rate, then the first-order deltas of all 20. They are not trained, so they
are computed once per utterance and cached on disk (`AcousticFeatureCache`); the trainable
`AcousticEncoder` standardises them with train-split statistics, averages groups of frames and runs
masked 1-D convolutions over time.
"""

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import torch
from torch import nn

from erc_core.files import atomic_path
from feature_extractor.encoders.encoding import ModalityEncoding
from feature_extractor.encoders.pooling import pool
from feature_extractor.inputs.audio_io import SAMPLE_RATE

BASE_NAMES = [f"mfcc{i}" for i in range(13)] + [
    "log_f0", "log_rms", "log_centroid", "log_bandwidth", "log_rolloff", "flatness", "zcr",
]
FEATURE_NAMES = BASE_NAMES + [f"d_{name}" for name in BASE_NAMES]
FRAMES_PER_SECOND = 100


@dataclasses.dataclass
class AcousticFeatureConfig:
    hop_length: int = SAMPLE_RATE // FRAMES_PER_SECOND
    n_fft: int = 512
    win_length: int = 400
    n_mels: int = 40
    f0_min: float = 65.0
    f0_max: float = 500.0

    def fingerprint(self) -> str:
        text = json.dumps(dataclasses.asdict(self) | {"features": FEATURE_NAMES}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def compute_acoustic_frames(wave: np.ndarray, cfg: AcousticFeatureConfig = AcousticFeatureConfig()) -> np.ndarray:
    """float32 [n_frames, len(FEATURE_NAMES)] for one 16 kHz mono waveform."""
    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) < cfg.n_fft:  # very short clips: zero-pad so every frame is a full window
        wave = np.pad(wave, (0, cfg.n_fft - len(wave)))
    window = np.pad(np.hanning(cfg.win_length + 2)[1:-1], ((cfg.n_fft - cfg.win_length) // 2,) * 2)
    spec = np.abs(librosa.stft(wave, n_fft=cfg.n_fft, hop_length=cfg.hop_length, window=window))
    power = spec**2
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=cfg.n_fft).astype(np.float32)[:, None]
    log_mel = librosa.power_to_db(_mel_basis(cfg.n_fft, cfg.n_mels) @ power)
    mfcc = scipy.fft.dct(log_mel, axis=0, type=2, norm="ortho")[:13]  # as librosa.feature.mfcc
    tiny = 1e-8
    magnitude = spec.sum(axis=0) + tiny
    centroid = (freqs * spec).sum(axis=0) / magnitude
    bandwidth = np.sqrt((((freqs - centroid) ** 2) * spec).sum(axis=0) / magnitude)
    rolloff_bin = (np.cumsum(spec, axis=0) >= 0.85 * magnitude).argmax(axis=0)
    clipped = np.maximum(power, 1e-10)
    flatness = np.exp(np.log(clipped).mean(axis=0)) / clipped.mean(axis=0)
    rows = [
        mfcc,
        np.log(autocorrelation_pitch(power, window, cfg) + tiny)[None],
        0.5 * np.log(power.mean(axis=0) + tiny)[None],
        np.log(centroid + tiny)[None],
        np.log(bandwidth + tiny)[None],
        np.log(freqs[rolloff_bin, 0] + tiny)[None],
        flatness[None],
        librosa.feature.zero_crossing_rate(wave, frame_length=cfg.win_length, hop_length=cfg.hop_length),
    ]
    n_frames = min(row.shape[-1] for row in rows)
    base = np.concatenate([row[:, :n_frames] for row in rows], axis=0)
    deltas = librosa.feature.delta(base, width=9, mode="nearest")
    return np.concatenate([base, deltas], axis=0).T.astype(np.float32)


@functools.lru_cache(maxsize=4)
def _mel_basis(n_fft: int, n_mels: int) -> np.ndarray:
    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=n_fft, n_mels=n_mels)


def autocorrelation_pitch(power: np.ndarray, window: np.ndarray, cfg: AcousticFeatureConfig) -> np.ndarray:
    """F0 per frame (Hz) from the autocorrelation of each windowed frame (inverse FFT of its power
    spectrum), divided by the window's own autocorrelation (Boersma 1993) so long lags are not
    penalised; the lag of the highest peak in [sr/f0_max, sr/f0_min] gives F0. Far cheaper than YIN,
    accurate enough for a prosody feature."""
    acf = np.fft.irfft(power, n=cfg.n_fft, axis=0)
    window_acf = np.fft.irfft(np.abs(np.fft.rfft(window)) ** 2, n=cfg.n_fft)
    low = int(SAMPLE_RATE / cfg.f0_max)
    high = min(int(SAMPLE_RATE / cfg.f0_min), cfg.win_length - 1)
    normalised = acf[low - 1 : high + 2] / (acf[:1] + 1e-10) / (window_acf[low - 1 : high + 2, None] / window_acf[0])
    inner = normalised[1:-1]
    peaks = (inner > normalised[:-2]) & (inner >= normalised[2:])
    # Multiples of the period peak about as high as the period itself: take the shortest lag
    # whose peak comes within 10 % of the best one (frames without a peak fall back to the best).
    strong = peaks & (inner >= 0.9 * inner.max(axis=0, keepdims=True))
    lag = np.where(strong.any(axis=0), strong.argmax(axis=0), inner.argmax(axis=0))
    return SAMPLE_RATE / (low + lag)


class AcousticFeatureCache:
    """One .npy per utterance under `<root>/<config fingerprint>/`, keyed by segment id and a hash
    of the wav's bytes: a replaced or edited file (even one of the same size) is recomputed, never
    fed its old features. Writes are atomic, so ranks or workers computing the same utterance at
    once cannot corrupt the cache."""

    def __init__(self, root, cfg: AcousticFeatureConfig = AcousticFeatureConfig()):
        self.cfg = cfg
        self.folder = Path(root) / cfg.fingerprint()
        self._digests = {}  # (path, inode, size, mtime) -> content hash, so a file is read once

    def path_for(self, segment_id: str, wav_path) -> Path:
        return self.folder / f"{segment_id}.{self._content_hash(wav_path)}.npy"

    def _content_hash(self, wav_path) -> str:
        status = os.stat(wav_path)
        key = (str(wav_path), status.st_ino, status.st_size, status.st_mtime_ns)
        if key not in self._digests:
            with open(wav_path, "rb") as handle:
                self._digests[key] = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=12)).hexdigest()
        return self._digests[key]

    def load(self, segment_id: str, wav_path) -> np.ndarray | None:
        path = self.path_for(segment_id, wav_path)
        return np.load(path, allow_pickle=False) if path.exists() else None

    def store(self, segment_id: str, wav_path, frames: np.ndarray) -> None:
        path = self.path_for(segment_id, wav_path)
        with atomic_path(path) as tmp:  # a short write (a full disk) is reported as ENOSPC against `path`
            with open(tmp, "wb") as handle:
                np.save(handle, frames.astype(np.float16), allow_pickle=False)

    def get_or_compute(self, segment_id: str, wav_path, wave: np.ndarray) -> np.ndarray:
        frames = self.load(segment_id, wav_path)
        if frames is None:
            self.store(segment_id, wav_path, compute_acoustic_frames(wave, self.cfg))
            frames = self.load(segment_id, wav_path)  # the stored float16 values, as every later read
        return frames


class AcousticEncoder(nn.Module):
    """Standardise cached frame features, project, average `stride` frames (100 -> 25 per second by
    default: prosody needs no 10 ms detail, and the convolutions get 4x cheaper), then residual
    masked convolutions over time."""

    def __init__(self, input_dim: int = len(FEATURE_NAMES), hidden: int = 128, layers: int = 2, kernel: int = 5, stride: int = 4, dropout: float = 0.1):
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(input_dim))
        self.register_buffer("feature_std", torch.ones(input_dim))
        self.project = nn.Sequential(nn.Linear(input_dim, hidden), nn.GELU())
        self.stride = stride
        self.convs = nn.ModuleList(nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden)
        self.output_dim = hidden

    @torch.no_grad()
    def set_feature_stats(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def forward(self, frames: torch.Tensor, frame_mask: torch.Tensor) -> ModalityEncoding:
        x = self.project((frames - self.feature_mean) / self.feature_std)
        x, mask = masked_average_frames(x, frame_mask, self.stride)
        keep = mask.unsqueeze(-1).to(x.dtype)
        x = x * keep
        for conv in self.convs:
            # Zeroed padding makes every real frame see exactly the zero padding it would see alone.
            update = conv(x.transpose(1, 2)).transpose(1, 2)
            x = (x + self.dropout(nn.functional.gelu(update))) * keep
        seq = self.norm(x)
        return ModalityEncoding(seq=seq, mask=mask, pooled=pool(seq, mask, "mean"))


def masked_average_frames(x: torch.Tensor, mask: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of each run of `stride` frames over real frames only: [B, T, D] -> [B, ceil(T/stride), D].
    Windows start at frame 0, so an utterance gets the same windows alone or padded in a batch."""
    if stride <= 1:
        return x, mask
    batch, length, dim = x.shape
    extra = -length % stride
    weights = nn.functional.pad(mask.to(x.dtype), (0, extra)).view(batch, -1, stride, 1)
    values = nn.functional.pad(x, (0, 0, 0, extra)).view(batch, -1, stride, dim)
    counts = weights.sum(dim=2)
    return (values * weights).sum(dim=2) / counts.clamp_min(1.0), counts.squeeze(-1) > 0


def feature_statistics(frame_arrays) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std over all frames of `frame_arrays` (two-pass free: sums in float64)."""
    total = None
    count = 0
    for frames in frame_arrays:
        frames = np.asarray(frames, dtype=np.float64)
        sums = np.stack([frames.sum(axis=0), (frames**2).sum(axis=0)])
        total = sums if total is None else total + sums
        count += len(frames)
    if not count:
        raise ValueError("no acoustic frames to compute feature statistics from")
    mean = total[0] / count
    std = np.sqrt(np.maximum(total[1] / count - mean**2, 0.0))
    return mean.astype(np.float32), std.astype(np.float32)
