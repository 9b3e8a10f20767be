"""Per-speaker voice: the speaker-dependent half of every acoustic cue.

Emotion moves pitch, rate, energy and spectral tilt *relative to* these baselines, and each
speaker shows emotion with a personal `expressiveness`, so absolute acoustic values overlap
between a calm expressive speaker and an agitated reserved one."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Voice:
    f0_hz: float  # median pitch
    f0_range_st: float  # typical syllable-to-syllable pitch movement, semitones
    syllable_rate: float  # syllables per second in a neutral state
    loudness_db: float  # level offset against the corpus reference level
    formant_scale: float  # vocal tract length factor (shorter tract -> higher formants)
    expressiveness: float  # how strongly emotion shows in this voice
    breathiness: float  # aspiration noise relative to the voiced source
    jitter: float  # frame-to-frame pitch perturbation (relative)


def draw_voice(gender: str, rng: np.random.Generator) -> Voice:
    if gender not in ("F", "M"):
        raise ValueError(f"gender {gender!r}: expected 'F' or 'M'")
    female = gender == "F"
    return Voice(
        f0_hz=float(rng.normal(215.0, 20.0) if female else rng.normal(120.0, 12.0)),
        f0_range_st=float(rng.uniform(1.5, 3.5)),
        syllable_rate=float(rng.normal(6.0, 0.6)),
        loudness_db=float(rng.normal(0.0, 2.0)),
        formant_scale=float(rng.normal(1.12 if female else 1.0, 0.04)),
        expressiveness=float(rng.uniform(0.5, 1.4)),
        breathiness=float(rng.uniform(0.02, 0.08)),
        jitter=float(rng.uniform(0.005, 0.02)),
    )
