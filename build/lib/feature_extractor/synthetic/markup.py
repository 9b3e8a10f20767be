"""Transcription markup as found in KEMDy transcripts: `c/ n/ N/ u/ l/ b/ o/ I/` tags (noise,
breath, laughter-type events) as separate tokens, `*` after a doubtful word, `+` after a
disfluent filler. Laughter (`l/`) is more frequent when the speaker is happy: a weak text cue."""

import numpy as np

TAG_WEIGHTS = {"b/": 3.0, "n/": 2.0, "o/": 1.5, "l/": 1.0, "c/": 1.0, "u/": 1.0, "N/": 0.5, "I/": 0.5}
HAPPY_LAUGH_WEIGHT = 6.0
FILLERS = ("어", "음", "그")


def add_markup(words: list, emotion: str, rate: float, rng: np.random.Generator) -> list:
    """Return a copy of `words` with tags inserted (each kind with probability about `rate`)."""
    words = list(words)
    if rng.random() < rate:
        for _ in range(rng.integers(1, 3)):
            words.insert(rng.integers(len(words) + 1), _pick_tag(emotion, rng))
    if rng.random() < rate / 3:
        position = rng.integers(len(words))
        if not words[position].endswith("/") and not words[position].startswith("("):
            words[position] += "*"
    if rng.random() < rate / 3:
        words.insert(rng.integers(len(words) + 1), FILLERS[rng.integers(len(FILLERS))] + "+")
    return words


def _pick_tag(emotion: str, rng: np.random.Generator) -> str:
    tags = list(TAG_WEIGHTS)
    weights = np.array([TAG_WEIGHTS[tag] for tag in tags])
    if emotion == "happy":
        weights[tags.index("l/")] = HAPPY_LAUGH_WEIGHT
    return tags[rng.choice(len(tags), p=weights / weights.sum())]
