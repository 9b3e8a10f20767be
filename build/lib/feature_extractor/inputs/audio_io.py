"""Audio input: any common rate / channel count in, 16 kHz mono float32 out.

Bad audio is reported, never fed silently: `load_audio` raises `AudioProblem` (with a short
`reason` code used in skipped-row reports) for unreadable, zero-length, NaN/Inf or silent files.
`crop_window` cuts long utterances down to the max-audio-seconds budget.
"""

from pathlib import Path

import numpy as np
import soundfile
import soxr

SAMPLE_RATE = 16_000
# Peak amplitude below which a file counts as silent (about -100 dBFS: digital silence or
# a dead channel, not a quiet speaker).
SILENCE_PEAK = 1e-5

CROP_MODES = ("random", "center", "first")


class AudioProblem(ValueError):
    """An audio file that must not be fed to a model. `reason` is a short code for reports."""

    def __init__(self, path, reason: str, detail: str):
        super().__init__(f"{path}: {reason}: {detail}")
        self.path = str(path)
        self.reason = reason
        self.detail = detail


def load_audio(path, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read `path`, average the channels, resample to `target_rate`; float32 [n_samples]."""
    path = Path(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises LibsndfileError, RuntimeError, OSError...
        raise AudioProblem(path, "unreadable", f"{type(error).__name__}: {error}") from error
    check_waveform(data, path)
    mono = data.mean(axis=1)
    if rate != target_rate:
        mono = soxr.resample(mono, rate, target_rate, quality="HQ").astype(np.float32, copy=False)
    if mono.size == 0:
        raise AudioProblem(path, "zero_length", f"{data.shape[0]} samples at {rate} Hz resample to none")
    return np.ascontiguousarray(mono, dtype=np.float32)


def check_waveform(data: np.ndarray, path="<array>") -> None:
    """Raise AudioProblem for zero-length, non-finite or silent audio."""
    if data.size == 0:
        raise AudioProblem(path, "zero_length", "the file holds no samples")
    finite = np.isfinite(data)
    if not finite.all():
        raise AudioProblem(path, "non_finite", f"{int((~finite).sum())} NaN/Inf samples of {data.size}")
    peak = float(np.abs(data).max())
    if peak < SILENCE_PEAK:
        raise AudioProblem(path, "silent", f"peak amplitude {peak:.2e} < {SILENCE_PEAK:.0e}")


def crop_window(wave: np.ndarray, max_len: int, mode: str, rng: np.random.Generator | None = None):
    """At most `max_len` items of `wave` along axis 0.

    `random` (training): a uniformly drawn window; `center` (evaluation default): the middle
    window; `first`: the opening window. Shorter inputs are returned unchanged.
    """
    if mode not in CROP_MODES:
        raise ValueError(f"crop mode {mode!r}; expected one of {', '.join(CROP_MODES)}")
    if max_len <= 0 or len(wave) <= max_len:
        return wave
    excess = len(wave) - max_len
    if mode == "first":
        start = 0
    elif mode == "center":
        start = excess // 2
    else:
        if rng is None:
            raise ValueError("random crop needs a numpy Generator")
        start = int(rng.integers(0, excess + 1))
    return wave[start : start + max_len]
