"""Ten external raters judge each segment: emotion votes, valence and arousal (1..5 integers).

Per segment an ambiguity u ~ Beta(a, b) and a secondary emotion e2 (a plausible confusion of the
true state) are drawn. Each rater votes the true state with probability 1 - u; otherwise e2 with
probability `secondary_share`, else another plausible confusion. On top, each rater has a personal
tendency to answer "neutral" (uniform in [0, neutral_bias_max]). The Total Evaluation emotion is
the majority; a tie lists the tied emotions `;`-joined, in the order raters first named them.
Per-rater valence/arousal are rounded draws around the voted class's centroid plus a deviation
shared by the segment; the totals are rater means."""

from dataclasses import dataclass

import numpy as np

from erc_core.labels import EMOTION_TO_INDEX, EMOTIONS
from feature_extractor.synthetic.sampling import sample_rows

NUM_CLASSES = len(EMOTIONS)

# Relative weights of plausible rating mistakes per true emotion.
CONFUSIONS = {
    "neutral": {"happy": 3, "sad": 3, "surprise": 2, "angry": 2, "disgust": 1, "fear": 0.5},
    "happy": {"neutral": 4, "surprise": 3, "angry": 0.3},
    "surprise": {"fear": 3, "happy": 3, "neutral": 3, "angry": 2},
    "angry": {"disgust": 4, "neutral": 3, "surprise": 1.5, "sad": 1},
    "sad": {"neutral": 4, "fear": 2, "angry": 1, "disgust": 1},
    "disgust": {"angry": 5, "neutral": 3, "sad": 1},
    "fear": {"surprise": 4, "sad": 2, "angry": 1, "neutral": 1},
}


@dataclass(frozen=True)
class RaterKnobs:
    num_raters: int = 10
    ambiguity_alpha: float = 1.0
    ambiguity_beta: float = 4.5
    secondary_share: float = 0.75
    neutral_bias_max: float = 0.08
    va_segment_sd: float = 0.35
    va_rater_sd: float = 0.55


@dataclass(frozen=True)
class Ratings:
    votes: np.ndarray  # int [N, R], EMOTIONS indices
    valence: np.ndarray  # int [N, R], 1..5
    arousal: np.ndarray  # int [N, R], 1..5
    tied: tuple  # per segment: tuple of EMOTIONS indices in written order (length 1 = no tie)

    @property
    def valence_mean(self) -> np.ndarray:
        return self.valence.mean(axis=1)

    @property
    def arousal_mean(self) -> np.ndarray:
        return self.arousal.mean(axis=1)

    @property
    def majority(self) -> np.ndarray:
        """The first listed emotion of each Total Evaluation."""
        return np.array([labels[0] for labels in self.tied], dtype=np.int64)

    @property
    def is_tie(self) -> np.ndarray:
        return np.array([len(labels) > 1 for labels in self.tied], dtype=bool)


def confusion_matrix() -> np.ndarray:
    """Row = true emotion, columns = probability of each mistaken answer (EMOTIONS order)."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES))
    for true, mistakes in CONFUSIONS.items():
        for wrong, weight in mistakes.items():
            matrix[EMOTION_TO_INDEX[true], EMOTION_TO_INDEX[wrong]] = weight
    return matrix / matrix.sum(axis=1, keepdims=True)


def draw_rater_biases(knobs: RaterKnobs, rng: np.random.Generator) -> np.ndarray:
    """Each rater's probability of answering neutral regardless of the segment."""
    return rng.uniform(0.0, knobs.neutral_bias_max, size=knobs.num_raters)


def rate_segments(states, centroids: dict, rater_bias, knobs: RaterKnobs, rng: np.random.Generator) -> Ratings:
    """Votes, valence and arousal of every rater for segments whose true states are `states`.

    `rater_bias`: each rater's neutral tendency, [R] for all segments or [N, R] per segment."""
    states = np.asarray(states, dtype=np.int64)
    num, raters = len(states), knobs.num_raters
    confusion_cdf = np.cumsum(confusion_matrix(), axis=1)

    ambiguity = rng.beta(knobs.ambiguity_alpha, knobs.ambiguity_beta, size=num)
    secondary = sample_rows(confusion_cdf[states], rng.random(num))
    other = sample_rows(np.repeat(confusion_cdf[states], raters, axis=0), rng.random(num * raters)).reshape(num, raters)
    off_state = rng.random((num, raters)) < ambiguity[:, None]
    to_secondary = rng.random((num, raters)) < knobs.secondary_share
    votes = np.where(off_state, np.where(to_secondary, secondary[:, None], other), states[:, None])
    says_neutral = rng.random((num, raters)) < np.broadcast_to(np.asarray(rater_bias), (num, raters))
    votes = np.where(says_neutral, EMOTION_TO_INDEX["neutral"], votes)

    table = np.array([centroids[name] for name in EMOTIONS], dtype=np.float64)  # [K, 2]
    valence = _rated_scale(table[votes, 0], knobs, rng)
    arousal = _rated_scale(table[votes, 1], knobs, rng)
    return Ratings(votes=votes, valence=valence, arousal=arousal, tied=majority_labels(votes))


def majority_labels(votes: np.ndarray) -> tuple:
    """Per row: the most-voted emotions, in the order raters first named them."""
    num, raters = votes.shape
    counts = np.zeros((num, NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(num), raters), votes.ravel()), 1)
    top = counts == counts.max(axis=1, keepdims=True)
    first_seen = np.full((num, NUM_CLASSES), raters, dtype=np.int64)
    for position in range(raters - 1, -1, -1):
        first_seen[np.arange(num), votes[:, position]] = position
    order = np.argsort(np.where(top, first_seen, raters + 1), axis=1, kind="stable")
    return tuple(tuple(int(k) for k in order[row, : top[row].sum()]) for row in range(num))


def written_total(labels, vocabulary: dict) -> str:
    """The Total Evaluation emotion as written in the file: `happy` or `happy;neutral`."""
    return ";".join(vocabulary[EMOTIONS[k]] for k in labels)


def _rated_scale(centre: np.ndarray, knobs: RaterKnobs, rng: np.random.Generator) -> np.ndarray:
    shared = rng.normal(0.0, knobs.va_segment_sd, size=(centre.shape[0], 1))
    personal = rng.normal(0.0, knobs.va_rater_sd, size=centre.shape)
    return np.clip(np.rint(centre + shared + personal), 1, 5).astype(np.int64)
