"""Class orders. A corpus brings its own label set (the index records it); KEMDy's is one of them.

The order of a label set is the meaning of every class id: model outputs, pickles, metrics and
reports all index into it. It comes from, in this order of preference, a preset's published
class order or the user's `labels:` list, else the data's own names sorted (stated in the index
meta and the corpus report)."""

from erc_core.errors import UserError

KEMDY_LABELS = ("neutral", "happy", "surprise", "angry", "sad", "disgust", "fear")
# The KEMDy readers and the synthetic KEMDy corpus speak in these names.
EMOTIONS = KEMDY_LABELS
NUM_EMOTIONS = len(EMOTIONS)
EMOTION_TO_INDEX = {name: i for i, name in enumerate(EMOTIONS)}

# Spellings seen in the raw KEMDy annotation files, mapped to the canonical name.
_ALIASES = {"disqust": "disgust"}


def canonical_emotion(raw: str) -> str:
    """Map one raw KEMDy emotion word to its canonical name; raise ValueError if unknown."""
    word = str(raw).strip().lower()
    word = _ALIASES.get(word, word)
    if word not in EMOTION_TO_INDEX:
        raise ValueError(f"unknown emotion {raw!r}; expected one of {', '.join(EMOTIONS)}")
    return word


def emotion_index(raw: str) -> int:
    return EMOTION_TO_INDEX[canonical_emotion(raw)]


def check_label_names(names, source) -> tuple[str, ...]:
    """`names` as a tuple of distinct non-blank strings; UserError naming `source` otherwise."""
    names = tuple(str(name) for name in names)
    blank = [i for i, name in enumerate(names) if not name.strip()]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if not names or blank or duplicates:
        problem = "no labels" if not names else f"blank label at position {blank}" if blank else f"duplicates {duplicates}"
        raise UserError(f"{source}: label set has {problem}; expected a list of distinct class names")
    return names


def resolve_label_names(given, observed, source) -> tuple[str, ...]:
    """The class order: `given` (a preset's or the user's list) when set, every `observed` name
    having to be in it; otherwise the observed names sorted."""
    observed = {str(name) for name in observed}
    if given is None:
        return check_label_names(sorted(observed), source)
    names = check_label_names(given, source)
    unknown = sorted(observed - set(names))
    if unknown:
        raise UserError(f"{source}: label(s) {unknown} are not in the label set; expected one of {', '.join(names)}")
    return names
