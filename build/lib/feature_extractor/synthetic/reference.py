"""What the real corpora look like, in numbers (from /work/shared/KEMDY_FORMAT.md).

The generator is calibrated against these figures and the corpus report prints them next to the
synthetic ones. KEMDy19 figures are *measured* on 9,627 speaker-level labels with tie rows dropped;
the KEMDy20 class mix is only known as "over 80 % neutral", so its target here is an assumption."""

from erc_core.labels import EMOTIONS

# Column order of the transition table as printed in the format doc (alphabetical).
TABLE_ORDER = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

KEMDY19_CLASS_MIX = {
    "neutral": 0.398, "angry": 0.192, "happy": 0.146, "surprise": 0.104,
    "sad": 0.080, "disgust": 0.041, "fear": 0.040,
}

# Assumed (not measured): the format doc only says "over 80 % neutral".
KEMDY20_CLASS_MIX = {
    "neutral": 0.840, "happy": 0.070, "surprise": 0.030, "sad": 0.025,
    "angry": 0.020, "disgust": 0.010, "fear": 0.005,
}

KEMDY19_DURATION = {"mean": 5.7, "median": 4.2, "p95": 15.5, "max": 78.0}

KEMDY19_DYNAMICS = {
    "speaker_change_rate": 0.87,
    "same_speaker_persistence": 0.665,
    "partner_agreement": 0.44,
}

# Same-speaker transition probabilities, row = previous emotion, column = next, TABLE_ORDER.
KEMDY19_TRANSITIONS = {
    "angry":    (0.68, 0.05, 0.03, 0.02, 0.14, 0.05, 0.04),
    "disgust":  (0.22, 0.43, 0.03, 0.03, 0.22, 0.01, 0.05),
    "fear":     (0.19, 0.02, 0.53, 0.02, 0.05, 0.00, 0.18),
    "happy":    (0.04, 0.00, 0.00, 0.70, 0.20, 0.00, 0.05),
    "neutral":  (0.08, 0.03, 0.01, 0.08, 0.71, 0.03, 0.06),
    "sad":      (0.08, 0.00, 0.00, 0.02, 0.09, 0.76, 0.04),
    "surprise": (0.11, 0.01, 0.09, 0.11, 0.16, 0.03, 0.49),
}

# Mean (valence, arousal) of the Total Evaluation per class, 1..5 scale.
VA_CENTROIDS = {
    "KEMDy19": {
        "neutral": (2.97, 2.98), "happy": (4.32, 3.86), "sad": (1.89, 2.62),
        "angry": (1.80, 3.79), "surprise": (2.64, 3.64), "fear": (1.74, 3.64),
        "disgust": (2.20, 3.12),
    },
    "KEMDy20": {
        "neutral": (3.00, 3.19), "happy": (3.84, 3.60), "sad": (2.51, 2.92),
        "angry": (2.22, 3.57), "surprise": (3.09, 3.38), "fear": (2.39, 3.08),
        "disgust": (2.20, 3.29),
    },
}

CLASS_MIX = {"KEMDy19": KEMDY19_CLASS_MIX, "KEMDy20": KEMDY20_CLASS_MIX}


def class_mix_vector(dataset: str):
    """The target class mix of `dataset` as a tuple in EMOTIONS order."""
    mix = CLASS_MIX[dataset]
    return tuple(mix[name] for name in EMOTIONS)


def transition_matrix_in_class_order():
    """KEMDY19_TRANSITIONS re-ordered to EMOTIONS rows/columns, as nested tuples (rows as printed)."""
    position = {name: i for i, name in enumerate(TABLE_ORDER)}
    return tuple(
        tuple(KEMDY19_TRANSITIONS[prev][position[nxt]] for nxt in EMOTIONS) for prev in EMOTIONS
    )
