"""Speech-like audio synthesised with numpy/scipy: a source-filter model, vectorised per utterance.

    syllable plan (rate, pauses)  ->  control tracks at 200 Hz (pitch, loudness envelope, vowel mix)
    voiced source: sawtooth pulse train at the pitch track, spectral tilt by a one-pole low-pass
    + aspiration noise  ->  two vowel tracts (3 formant resonators each), mixed per syllable
    -> level in dB, background noise at a random SNR  ->  16 kHz PCM16

Emotion enters through its (valence, arousal) centroid, scaled by the speaker's expressiveness and
a per-utterance intensity draw. Arousal drives strong cues (pitch level and range, speaking rate,
energy, spectral tilt, pause length); valence only weak ones (vowel brightness, the final pitch
movement, voice roughness). Hence audio separates high- from low-arousal states but confuses
e.g. angry with happy or neutral with disgust; speaker baselines blur absolute values further."""

import functools
from dataclasses import dataclass

import numpy as np
from scipy import signal

from feature_extractor.synthetic.voices import Voice

SAMPLE_RATE = 16000
HOP = 80  # control tracks advance in 5 ms steps
FULL_SCALE = 32767.0  # int16 peak
_RAMP = (np.arange(HOP, dtype=np.float32) / HOP)[None, :]

# (centre Hz, bandwidth Hz) of the first three formants of an adult male /a/ and /i/.
VOWEL_FORMANTS = {
    "a": ((730.0, 90.0), (1090.0, 110.0), (2440.0, 160.0)),
    "i": ((300.0, 60.0), (2300.0, 120.0), (3000.0, 180.0)),
}
# Centre and spread used to turn the 1..5 rating scale into z-like expression values.
AROUSAL_CENTRE, AROUSAL_SCALE = 3.2, 0.45
VALENCE_CENTRE, VALENCE_SCALE = 3.0, 1.0


@dataclass(frozen=True)
class AudioKnobs:
    arousal_pitch: float = 0.08  # log-f0 shift per arousal unit
    arousal_pitch_range: float = 0.25  # log of the pitch-range factor per arousal unit
    arousal_rate: float = 0.07  # log speaking-rate shift per arousal unit
    arousal_energy_db: float = 2.5
    arousal_tilt: float = 0.08  # source low-pass coefficient shift per arousal unit
    arousal_pause: float = 0.25  # log pause-length shift per (negative) arousal unit
    valence_brightness: float = 0.08  # shift of the vowel mix towards /i/ per valence unit
    valence_contour_st: float = 0.8  # final pitch movement (semitones) per valence unit
    valence_roughness: float = 0.5  # extra jitter factor per negative valence unit
    utterance_variation: float = 0.35  # sd of the per-utterance intensity factor
    level_dbfs: float = -24.0  # RMS of a neutral utterance of an average voice
    snr_db: tuple = (18.0, 35.0)


@dataclass(frozen=True)
class Expression:
    arousal: float
    valence: float


@dataclass(frozen=True)
class _Syllables:
    onsets: np.ndarray  # seconds
    lengths: np.ndarray  # seconds
    loudness: np.ndarray  # relative amplitude per syllable
    speech_start: float
    speech_end: float


def expression_of(emotion: str, centroids: dict) -> Expression:
    valence, arousal = centroids[emotion]
    return Expression(
        arousal=(arousal - AROUSAL_CENTRE) / AROUSAL_SCALE, valence=(valence - VALENCE_CENTRE) / VALENCE_SCALE
    )


def synthesize(num_samples: int, voice: Voice, expression: Expression, knobs: AudioKnobs,
               rng: np.random.Generator) -> np.ndarray:
    """An int16 waveform of exactly `num_samples` samples at SAMPLE_RATE."""
    shown = voice.expressiveness * max(0.0, 1.0 + knobs.utterance_variation * rng.standard_normal())
    arousal, valence = expression.arousal * shown, expression.valence * shown
    frame_times = np.arange(num_samples // HOP + 2) * (HOP / SAMPLE_RATE)

    syllables = _plan_syllables(num_samples / SAMPLE_RATE, voice, arousal, knobs, rng)
    envelope, which = _envelope(frame_times, syllables)
    pitch = _pitch_track(frame_times, which, syllables, voice, arousal, valence, knobs, rng)
    open_vowel = np.clip(rng.random(len(syllables.onsets)) - knobs.valence_brightness * valence, 0.0, 1.0)

    tilt = float(np.clip(0.75 - knobs.arousal_tilt * arousal, 0.3, 0.95))
    breath = np.float32(voice.breathiness * np.exp(-0.3 * arousal))  # float32 scalars keep the arrays float32
    noise = rng.standard_normal(num_samples, dtype=np.float32)
    loudness = upsample(envelope, num_samples)
    excitation = loudness * (_glottal_source(upsample(pitch, num_samples), tilt) + breath * noise)
    tract_a, tract_i = vowel_filters(round(voice.formant_scale, 3))
    through_i = signal.sosfilt(tract_i, excitation)
    speech = through_i + upsample(open_vowel[which], num_samples) * (signal.sosfilt(tract_a, excitation) - through_i)

    level_db = knobs.level_dbfs + voice.loudness_db + knobs.arousal_energy_db * arousal + rng.normal(0.0, 1.5)
    voiced = speech[::4][loudness[::4] > 0.1]  # every 4th sample is plenty for an RMS
    rms = float(np.sqrt(np.mean(np.square(voiced)))) if len(voiced) else 1.0
    speech *= np.float32(FULL_SCALE * 10 ** (level_db / 20) / max(rms, 1e-9))
    noise_level = FULL_SCALE * 10 ** ((knobs.level_dbfs - rng.uniform(*knobs.snr_db)) / 20)
    speech += np.float32(noise_level) * noise[::-1]  # reversed: independent of the breath noise
    return np.clip(speech, -FULL_SCALE, FULL_SCALE, out=speech).astype(np.int16)


def upsample(frames: np.ndarray, num_samples: int) -> np.ndarray:
    """Linear interpolation of a control track (one value per HOP samples) to sample rate."""
    blocks = -(-num_samples // HOP)
    start = frames[:blocks].astype(np.float32)
    step = frames[1 : blocks + 1].astype(np.float32) - start
    return (start[:, None] + step[:, None] * _RAMP).ravel()[:num_samples]


@functools.lru_cache(maxsize=512)
def vowel_filters(formant_scale: float):
    """Second-order sections of the /a/ and /i/ vocal tracts, each resonator at unit peak gain."""
    return tuple(
        np.stack([_resonator(freq * formant_scale, width) for freq, width in VOWEL_FORMANTS[vowel]]).astype(np.float32)
        for vowel in ("a", "i")
    )


def _resonator(freq: float, bandwidth: float) -> np.ndarray:
    radius = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    theta = 2 * np.pi * freq / SAMPLE_RATE
    denominator = np.array([1.0, -2 * radius * np.cos(theta), radius**2])
    peak_gain = abs(np.polyval(denominator[::-1], np.exp(-1j * theta)))
    return np.concatenate([[peak_gain, 0.0, 0.0], denominator])


def _glottal_source(pitch: np.ndarray, tilt: float) -> np.ndarray:
    """Sawtooth pulse train (one closure per pitch period) with a one-pole spectral tilt."""
    phase = np.cumsum(pitch / np.float32(SAMPLE_RATE), dtype=np.float32)
    sawtooth = phase - np.floor(phase) - np.float32(0.5)
    return signal.lfilter(np.float32([1.0 - tilt]), np.float32([1.0, -tilt]), sawtooth)


def _plan_syllables(duration: float, voice: Voice, arousal: float, knobs: AudioKnobs,
                    rng: np.random.Generator) -> _Syllables:
    lead, tail = (rng.uniform(0.03, max(0.04, min(0.25, 0.15 * duration))) for _ in range(2))
    start, end = lead, max(lead + 0.1, duration - tail)
    rate = voice.syllable_rate * np.exp(knobs.arousal_rate * arousal + 0.05 * rng.standard_normal())
    count = int((end - start) * rate * 1.6) + 4
    lengths = np.exp(0.25 * rng.standard_normal(count)) / rate
    phrase_syllables = 7.0 * np.exp(0.15 * arousal)
    pause = np.where(
        rng.random(count) < 1.0 / phrase_syllables,
        0.25 * np.exp(-knobs.arousal_pause * arousal + 0.4 * rng.standard_normal(count)),
        0.0,
    )
    onsets = start + np.concatenate([[0.0], np.cumsum(lengths + pause)[:-1]])
    keep = onsets + lengths <= end
    keep[0] = True
    lengths = np.where(np.arange(count) == 0, np.minimum(lengths, end - start), lengths)
    return _Syllables(
        onsets=onsets[keep], lengths=lengths[keep], loudness=np.exp(0.2 * rng.standard_normal(int(keep.sum()))),
        speech_start=start, speech_end=end,
    )


def _envelope(frame_times: np.ndarray, syllables: _Syllables):
    """Amplitude per frame (0 in pauses) and the index of the syllable each frame belongs to."""
    which = np.clip(np.searchsorted(syllables.onsets, frame_times, side="right") - 1, 0, None)
    position = (frame_times - syllables.onsets[which]) / syllables.lengths[which]
    inside = (position >= 0) & (position < 1)
    shape = np.sqrt(np.sin(np.pi * np.clip(position, 0.0, 1.0)))
    return np.where(inside, shape * syllables.loudness[which], 0.0), which


def _pitch_track(frame_times, which, syllables: _Syllables, voice: Voice, arousal: float, valence: float,
                 knobs: AudioKnobs, rng: np.random.Generator) -> np.ndarray:
    spread = voice.f0_range_st * np.exp(knobs.arousal_pitch_range * arousal)
    accents = rng.normal(0.0, spread, size=len(syllables.onsets))
    span = syllables.speech_end - syllables.speech_start
    progress = np.clip((frame_times - syllables.speech_start) / span, 0.0, 1.0)
    final = np.clip((frame_times - (syllables.speech_end - 0.4)) / 0.4, 0.0, 1.0)
    semitones = accents[which] - 1.5 * progress + knobs.valence_contour_st * valence * final
    roughness = voice.jitter * (1.0 + knobs.valence_roughness * max(0.0, -valence))
    wobble = 1.0 + roughness * rng.standard_normal(len(frame_times))
    return voice.f0_hz * np.exp(knobs.arousal_pitch * arousal) * 2.0 ** (semitones / 12.0) * wobble
