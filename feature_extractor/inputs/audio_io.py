"""Audio input: any common rate / channel count in, 16 kHz mono float32 out.

Bad audio is reported, never fed silently: `load_audio` raises `AudioProblem` (with a short
`reason` code used in skipped-row reports) for unreadable, zero-length, NaN/Inf or silent files
and for a window [start, end) that does not lie inside the file (`bad_window`,
`window_outside_file`). Only the window is read (a seek, not the whole file). Formats that
soundfile does not read (.mp4, .m4a, ...: MELD's clips) are decoded by `ffmpeg` when it is on
PATH; without it that is one `NeedsFfmpeg` error, not a skipped row per file.
`crop_window` cuts long utterances down to the max-audio-seconds budget.
"""

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile
import soxr

from erc_core.errors import UserError

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


class NeedsFfmpeg(UserError):
    """A file only ffmpeg can decode, and no ffmpeg on PATH."""


def load_audio(path, target_rate: int = SAMPLE_RATE, start=None, end=None) -> np.ndarray:
    """Read `path` (only [start, end) seconds of it; None or NaN: from the start / to the end),
    average the channels, resample to `target_rate`; float32 [n_samples]."""
    path = Path(path)
    start, end = _window(path, start, end)
    if soundfile_reads(path):
        data, rate = _read_soundfile(path, start, end)
    else:
        data, rate = _window_frames(_decode_ffmpeg(path, target_rate), target_rate, start, end, path), target_rate
    check_waveform(data, path)
    mono = data.mean(axis=1)
    if rate != target_rate:
        mono = soxr.resample(mono, rate, target_rate, quality="HQ").astype(np.float32, copy=False)
    if mono.size == 0:
        raise AudioProblem(path, "zero_length", f"{data.shape[0]} samples at {rate} Hz resample to none")
    return np.ascontiguousarray(mono, dtype=np.float32)


def soundfile_reads(path: Path) -> bool:
    """Whether the extension is a soundfile format (wav, flac, ogg, mp3, ...); no extension counts as one."""
    return not path.suffix or path.suffix[1:].upper() in soundfile.available_formats()


def _window(path: Path, start, end) -> tuple[float | None, float | None]:
    start, end = (None if v is None or math.isnan(float(v)) else float(v) for v in (start, end))
    if (start is not None and start < 0) or (start is not None and end is not None and start >= end):
        raise AudioProblem(path, "bad_window", f"window [{start}, {end}) s is empty or starts before 0")
    return start, end


def _read_soundfile(path: Path, start, end):
    try:
        with soundfile.SoundFile(str(path)) as audio:
            rate, frames = audio.samplerate, audio.frames
            first, last = _frame_range(rate, frames, start, end, path)
            audio.seek(first)
            return audio.read(last - first, dtype="float32", always_2d=True), rate
    except AudioProblem:
        raise
    except Exception as error:  # soundfile raises LibsndfileError, RuntimeError, OSError...
        raise AudioProblem(path, "unreadable", f"{type(error).__name__}: {error}") from error


def _frame_range(rate: int, frames: int, start, end, path) -> tuple[int, int]:
    first = 0 if start is None else round(start * rate)
    last = frames if end is None else round(end * rate)
    if last > frames or (start is not None and first >= frames):
        raise AudioProblem(path, "window_outside_file",
                           f"window [{start}, {end}) s, the file lasts {frames / rate:.3f} s")
    return first, last


def _window_frames(data: np.ndarray, rate: int, start, end, path) -> np.ndarray:
    first, last = _frame_range(rate, len(data), start, end, path)
    return data[first:last]


def _decode_ffmpeg(path: Path, rate: int) -> np.ndarray:
    """The file as mono float32 at `rate`, [n, 1], through an ffmpeg pipe."""
    if not path.is_file():
        raise AudioProblem(path, "unreadable", "no such file")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise NeedsFfmpeg(f"{path}: soundfile cannot read {path.suffix or 'this'} files and ffmpeg is not on PATH; "
                          f"extract wav first (ffmpeg -i in.mp4 -ac 1 -ar 16000 out.wav) or install ffmpeg")
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate),
               "-f", "f32le", "-"]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        last_line = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise AudioProblem(path, "unreadable", f"ffmpeg exit {done.returncode}: {last_line}")
    return np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 1)


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
