"""Stages 1 and 2: corpus readers, the audio-text feature extractor, per-utterance features."""
