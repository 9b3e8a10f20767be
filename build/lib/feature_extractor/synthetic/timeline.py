"""Utterance durations and their place in the dialogue recording (the annotation's `Wav` start/end).

Durations follow a log-normal fitted to the real KEMDy19 figures (median 4.2 s, mean 5.7 s, hence
sigma = sqrt(2 ln(5.7 / 4.2)) ~ 0.78, p95 ~ 15.2 s), clipped to [min_s, max_s] (40 s by default:
the real maximum is 78 s; the cap keeps single files small). The tiny preset uses a uniform
1-3 s instead. Utterances follow each other in turn order with a positive gap, so start times are
strictly increasing and never overlap. All times are whole milliseconds, so a 16 kHz wav holds
exactly 16 samples per millisecond of its written duration."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimingKnobs:
    duration_model: str = "lognormal"  # "lognormal" or "uniform"
    median_s: float = 4.2
    sigma: float = 0.78
    min_s: float = 0.8
    max_s: float = 40.0
    gap_median_s: float = 0.35
    gap_sigma: float = 0.7
    gap_max_s: float = 3.0
    lead_in_s: tuple = (0.5, 3.0)  # silence before the first utterance of a recording
    tail_s: tuple = (1.0, 3.0)  # recording left running after the last one


@dataclass(frozen=True)
class DialogueTimes:
    start_ms: np.ndarray  # int [n], turn order
    end_ms: np.ndarray  # int [n]
    recording_ms: int  # length of the whole dialogue recording


def utterance_durations_ms(count: int, knobs: TimingKnobs, rng: np.random.Generator) -> np.ndarray:
    if knobs.duration_model == "lognormal":
        seconds = knobs.median_s * np.exp(knobs.sigma * rng.standard_normal(count))
    elif knobs.duration_model == "uniform":
        seconds = rng.uniform(knobs.min_s, knobs.max_s, size=count)
    else:
        raise ValueError(f"duration_model {knobs.duration_model!r}: expected 'lognormal' or 'uniform'")
    seconds = np.clip(seconds, knobs.min_s, knobs.max_s)
    return np.round(seconds * 1000).astype(np.int64)


def dialogue_times(durations_ms: np.ndarray, knobs: TimingKnobs, rng: np.random.Generator) -> DialogueTimes:
    """Place utterances back to back (turn order) with random gaps inside one recording."""
    count = len(durations_ms)
    gaps_s = np.minimum(knobs.gap_median_s * np.exp(knobs.gap_sigma * rng.standard_normal(count)), knobs.gap_max_s)
    gaps_ms = np.maximum(np.round(gaps_s * 1000).astype(np.int64), 20)
    gaps_ms[0] = round(rng.uniform(*knobs.lead_in_s) * 1000)
    start_ms = np.cumsum(gaps_ms) + np.concatenate([[0], np.cumsum(durations_ms)[:-1]])
    end_ms = start_ms + durations_ms
    recording_ms = int(end_ms[-1] + round(rng.uniform(*knobs.tail_s) * 1000))
    return DialogueTimes(start_ms=start_ms, end_ms=end_ms, recording_ms=recording_ms)
