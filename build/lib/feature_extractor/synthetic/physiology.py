"""Physiological signals whose level follows the wearer's arousal.

Each wearer has an arousal level over time: during a segment, the wearer's current emotional state
(the speaker's state if the wearer speaks, the listener's state otherwise), mapped to a z-score
from the class arousal centroid; between recordings a resting (neutral) level. Signals respond
with their own lag:
- ECG (Refit, KEMDy19): heart rate = baseline + 8 bpm per arousal unit (3 s lag); the waveform is
  an R peak plus T wave per beat on a wandering baseline that also rises with arousal;
- EDA (E4): tonic level + 0.6 uS per arousal unit (5 s lag) plus skin-conductance responses whose
  rate grows with arousal;
- TEMP (E4): slow drift, -0.1 C per arousal unit (60 s lag);
- IBI (E4, KEMDy20): beat-to-beat intervals of the same heart-rate model, with dropout windows.
"""

from dataclasses import dataclass

import numpy as np
from scipy import signal


@dataclass(frozen=True)
class PhysioKnobs:
    ecg_rate_hz: float = 64.0  # the real Refit rate is not confirmed (one loader implies 250 Hz)
    e4_rate_hz: float = 4.0
    missing_e4_dialogues: tuple = ()  # dialogue ids whose E4 data is mostly missing
    covered_share_when_missing: float = 0.15  # ... except this leading share of the recording
    ibi_dropout: float = 0.25  # share of time without IBI beats (KEMDy20)
    session_break_s: tuple = (30.0, 60.0)  # device time between two dialogue recordings (KEMDy19)


@dataclass(frozen=True)
class PhysioBaseline:
    heart_rate_bpm: float
    eda_us: float
    temp_c: float
    reactivity: float


def draw_baseline(rng: np.random.Generator) -> PhysioBaseline:
    return PhysioBaseline(
        heart_rate_bpm=float(rng.normal(75.0, 8.0)),
        eda_us=float(np.exp(rng.normal(np.log(2.0), 0.5))),
        temp_c=float(rng.normal(33.0, 0.6)),
        reactivity=float(rng.uniform(0.5, 1.5)),
    )


def arousal_level(times: np.ndarray, change_times: np.ndarray, change_values: np.ndarray, rest: float) -> np.ndarray:
    """Piecewise-constant level: the value of the last change at or before each time (`rest` before any)."""
    position = np.searchsorted(change_times, times, side="right") - 1
    values = np.concatenate([[rest], np.asarray(change_values, dtype=np.float64)])
    return values[position + 1]


def lagged(values: np.ndarray, rate_hz: float, tau_s: float) -> np.ndarray:
    """First-order lag (exponential smoothing with time constant tau_s), starting at values[0]."""
    keep = np.exp(-1.0 / (rate_hz * tau_s))
    smoothed, _ = signal.lfilter([1.0 - keep], [1.0, -keep], values, zi=[keep * values[0]])
    return smoothed


def slow_noise(count: int, rate_hz: float, tau_s: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Low-pass noise with standard deviation about `sd` (white noise through a tau_s lag).

    A burn-in of three time constants is dropped so the noise starts in its stationary range."""
    burn_in = int(3 * rate_hz * tau_s)
    white = rng.standard_normal(count + burn_in) * np.sqrt(2.0 * rate_hz * tau_s)
    keep = np.exp(-1.0 / (rate_hz * tau_s))
    return sd * signal.lfilter([1.0 - keep], [1.0, -keep], white)[burn_in:]


def heart_rate(level: np.ndarray, rate_hz: float, baseline: PhysioBaseline, rng: np.random.Generator) -> np.ndarray:
    drift = slow_noise(len(level), rate_hz, tau_s=20.0, sd=3.0, rng=rng)
    bpm = baseline.heart_rate_bpm + 8.0 * baseline.reactivity * lagged(level, rate_hz, 3.0) + drift
    return np.clip(bpm, 45.0, 160.0)


def ecg(level: np.ndarray, rate_hz: float, baseline: PhysioBaseline, rng: np.random.Generator) -> np.ndarray:
    bpm = heart_rate(level, rate_hz, baseline, rng)
    phase = np.cumsum(bpm / 60.0 / rate_hz)
    cycle = phase - np.floor(phase)
    seconds_from_peak = np.minimum(cycle, 1.0 - cycle) * 60.0 / bpm
    seconds_from_t_wave = (cycle - 0.35) * 60.0 / bpm
    beats = np.exp(-((seconds_from_peak / 0.025) ** 2)) + 0.2 * np.exp(-((seconds_from_t_wave / 0.06) ** 2))
    offset = 0.03 * baseline.reactivity * lagged(level, rate_hz, 3.0)
    wander = slow_noise(len(level), rate_hz, tau_s=30.0, sd=0.04, rng=rng)
    return beats + offset + wander + 0.02 * rng.standard_normal(len(level))


def eda(level: np.ndarray, rate_hz: float, baseline: PhysioBaseline, rng: np.random.Generator) -> np.ndarray:
    tonic = baseline.eda_us + 0.6 * baseline.reactivity * lagged(level, rate_hz, 5.0)
    responses_per_s = 0.05 + 0.05 * np.clip(level, 0.0, None)
    events = (rng.random(len(level)) < responses_per_s / rate_hz).astype(np.float64)
    kernel_t = np.arange(0.0, 12.0, 1.0 / rate_hz)
    kernel = np.exp(-kernel_t / 4.0) - np.exp(-kernel_t / 0.75)
    phasic = 0.3 * np.convolve(events, kernel)[: len(level)]
    return np.clip(tonic + phasic + 0.01 * rng.standard_normal(len(level)), 0.01, None)


def temperature(level: np.ndarray, rate_hz: float, baseline: PhysioBaseline, rng: np.random.Generator) -> np.ndarray:
    drift = np.cumsum(rng.normal(0.0, 0.002, size=len(level)))
    return baseline.temp_c - 0.1 * baseline.reactivity * lagged(level, rate_hz, 60.0) + drift \
        + 0.01 * rng.standard_normal(len(level))


def ibi_events(level: np.ndarray, rate_hz: float, baseline: PhysioBaseline, dropout: float,
               rng: np.random.Generator):
    """(beat offsets in seconds from the first sample, inter-beat intervals in seconds), with gaps."""
    bpm = heart_rate(level, rate_hz, baseline, rng)
    times = np.arange(len(level)) / rate_hz
    phase = np.concatenate([[0.0], np.cumsum(bpm / 60.0 / rate_hz)[:-1]])
    beats = np.interp(np.arange(1, int(phase[-1]) + 1), phase, times)
    return _drop_gaps(beats[1:], np.diff(beats), dropout, rng)


def _drop_gaps(offsets, intervals, dropout: float, rng: np.random.Generator):
    """Remove beats inside random dropout windows (alternating available/missing stretches)."""
    if dropout <= 0 or len(offsets) == 0:
        return offsets, intervals
    mean_missing = 40.0
    mean_available = mean_missing * (1.0 - dropout) / dropout
    bounds, clock, missing = [], 0.0, bool(rng.random() < dropout)
    while clock <= offsets[-1]:
        length = rng.exponential(mean_missing if missing else mean_available)
        if missing:
            bounds.append((clock, clock + length))
        clock += length
        missing = not missing
    keep = np.ones(len(offsets), dtype=bool)
    for low, high in bounds:
        keep &= ~((offsets >= low) & (offsets < high))
    return offsets[keep], intervals[keep]
