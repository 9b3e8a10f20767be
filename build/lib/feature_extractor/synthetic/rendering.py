"""Rendering one planned utterance to its files: the 16 kHz PCM16 wav and the one-line transcript."""

import wave
from pathlib import Path

import numpy as np

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic.audio import SAMPLE_RATE, expression_of, synthesize
from feature_extractor.synthetic.plan import CorpusPlan, Utterance, stream
from feature_extractor.synthetic.reference import VA_CENTROIDS

SAMPLES_PER_MS = SAMPLE_RATE // 1000


def utterance_waveform(plan: CorpusPlan, dialogue_index: int, utterance: Utterance) -> np.ndarray:
    dialogue = plan.dialogues[dialogue_index]
    voice = dialogue.speakers[utterance.speaker].voice
    expression = expression_of(EMOTIONS[utterance.state], VA_CENTROIDS[plan.dataset])
    rng = stream(plan.seed, "audio", dialogue_index, utterance.turn)
    return synthesize(utterance.duration_ms * SAMPLES_PER_MS, voice, expression, plan.preset.audio, rng)


def write_utterance(folder: Path, plan: CorpusPlan, dialogue_index: int, utterance: Utterance, encoding: str) -> int:
    """Write <segment_id>.wav and .txt into `folder`; return the number of audio samples."""
    samples = utterance_waveform(plan, dialogue_index, utterance)
    write_wav(folder / f"{utterance.segment_id}.wav", samples)
    with open(folder / f"{utterance.segment_id}.txt", "w", encoding=encoding, newline="\n") as handle:
        handle.write(utterance.transcript + "\n")
    return len(samples)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Mono 16-bit PCM RIFF/WAVE (the stdlib writer: same bytes as libsndfile's, much faster here)."""
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(samples.astype("<i2").tobytes())
