"""Who speaks when, and how each speaker's emotional state evolves through a dialogue.

Two speakers alternate (the speaker changes with probability `speaker_change` between consecutive
utterances). Each speaker carries a hidden emotional state. When a speaker takes the floor the
state is updated once:

    with probability `partner_pull`     the new state is the partner's current state (contagion)
    otherwise                           new ~ Q[own current state]

    Q = rownorm( ((1 - self_boost) * T + self_boost * I) * class_weights * dialogue_type_bias )

T is the measured KEMDy19 same-speaker transition table; `class_weights` (calibrated, see
calibration.py) steer the class mix to the target; `self_boost` and `partner_pull` trade
persistence against partner agreement. The listener of each utterance is the other speaker, whose
current state is recorded too (the KEMDy19 "listener rows").

All dialogues are simulated together: arrays are [dialogues, turns] and the only loop is over time.
"""

from dataclasses import dataclass

import numpy as np

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic.reference import transition_matrix_in_class_order
from feature_extractor.synthetic.sampling import sample_rows

NUM_CLASSES = len(EMOTIONS)


@dataclass(frozen=True)
class DynamicsKnobs:
    speaker_change: float
    partner_pull: float
    self_boost: float
    class_weights: tuple  # EMOTIONS order
    script_bias: tuple  # EMOTIONS order; multiplies Q's columns and the initial prior in scripts
    impro_bias: tuple  # same for improvised dialogues
    initial_mix: tuple  # EMOTIONS order; prior of each speaker's state before the first turn


@dataclass(frozen=True)
class DialogueStates:
    """Per-turn arrays, padded to the longest dialogue (use `lengths` to cut)."""

    speakers: np.ndarray  # int [D, L]: 0 = first speaker slot, 1 = second
    hidden: np.ndarray  # int [D, L]: the speaker's state (EMOTIONS index) when speaking
    listener: np.ndarray  # int [D, L]: the listener's current state at that turn
    lengths: np.ndarray  # int [D]


def transition_matrix(knobs: DynamicsKnobs, type_bias=None) -> np.ndarray:
    """Q (EMOTIONS order, rows sum to 1) for one dialogue type."""
    base = np.asarray(transition_matrix_in_class_order(), dtype=np.float64)
    base = base / base.sum(axis=1, keepdims=True)
    mixed = (1.0 - knobs.self_boost) * base + knobs.self_boost * np.eye(NUM_CLASSES)
    weights = np.asarray(knobs.class_weights, dtype=np.float64)
    if type_bias is not None:
        weights = weights * np.asarray(type_bias, dtype=np.float64)
    weighted = mixed * weights[None, :]
    return weighted / weighted.sum(axis=1, keepdims=True)


def initial_prior(knobs: DynamicsKnobs, type_bias) -> np.ndarray:
    prior = np.asarray(knobs.initial_mix, dtype=np.float64) * np.asarray(type_bias, dtype=np.float64)
    return prior / prior.sum()


def turn_speakers(lengths: np.ndarray, speaker_change: float, rng: np.random.Generator) -> np.ndarray:
    """Speaker slot (0/1) per turn: a random first speaker, then a change with `speaker_change`."""
    num_dialogues, max_len = len(lengths), int(lengths.max())
    first = rng.integers(0, 2, size=num_dialogues)
    changes = rng.random((num_dialogues, max_len - 1)) < speaker_change
    flips = np.concatenate([np.zeros((num_dialogues, 1), dtype=np.int64), np.cumsum(changes, axis=1)], axis=1)
    return (first[:, None] + flips) % 2


def simulate_dialogues(
    lengths, is_script, knobs: DynamicsKnobs, rng: np.random.Generator
) -> DialogueStates:
    """Simulate turn-taking and both speakers' states for every dialogue at once."""
    lengths = np.asarray(lengths, dtype=np.int64)
    is_script = np.asarray(is_script, dtype=bool)
    num_dialogues, max_len = len(lengths), int(lengths.max())
    rows = np.arange(num_dialogues)

    cdf_by_type = np.stack(
        [np.cumsum(transition_matrix(knobs, bias), axis=1) for bias in (knobs.impro_bias, knobs.script_bias)]
    )
    prior_cdf_by_type = np.stack(
        [np.cumsum(initial_prior(knobs, bias)) for bias in (knobs.impro_bias, knobs.script_bias)]
    )
    dialogue_type = is_script.astype(np.int64)
    cdf = cdf_by_type[dialogue_type]  # [D, K, K]
    prior_cdf = prior_cdf_by_type[dialogue_type]  # [D, K]

    speakers = turn_speakers(lengths, knobs.speaker_change, rng)
    state = np.stack(
        [sample_rows(prior_cdf, rng.random(num_dialogues)), sample_rows(prior_cdf, rng.random(num_dialogues))], axis=1
    )
    hidden = np.empty((num_dialogues, max_len), dtype=np.int64)
    listener = np.empty((num_dialogues, max_len), dtype=np.int64)
    for turn in range(max_len):
        speaker = speakers[:, turn]
        own, partner = state[rows, speaker], state[rows, 1 - speaker]
        drawn = sample_rows(cdf[rows, own], rng.random(num_dialogues))
        new = np.where(rng.random(num_dialogues) < knobs.partner_pull, partner, drawn)
        state[rows, speaker] = new
        hidden[:, turn] = new
        listener[:, turn] = partner
    return DialogueStates(speakers=speakers, hidden=hidden, listener=listener, lengths=lengths)
