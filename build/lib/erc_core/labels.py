"""The one class order for the 7 KEMDy emotions, used by every stage."""

EMOTIONS = ("neutral", "happy", "surprise", "angry", "sad", "disgust", "fear")
NUM_EMOTIONS = len(EMOTIONS)
EMOTION_TO_INDEX = {name: i for i, name in enumerate(EMOTIONS)}

# Spellings seen in the raw annotation files, mapped to the canonical name.
_ALIASES = {"disqust": "disgust"}


def canonical_emotion(raw: str) -> str:
    """Map one raw emotion word to its canonical name; raise ValueError if unknown."""
    word = str(raw).strip().lower()
    word = _ALIASES.get(word, word)
    if word not in EMOTION_TO_INDEX:
        raise ValueError(f"unknown emotion {raw!r}; expected one of {', '.join(EMOTIONS)}")
    return word


def emotion_index(raw: str) -> int:
    return EMOTION_TO_INDEX[canonical_emotion(raw)]
