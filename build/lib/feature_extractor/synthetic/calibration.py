"""Fit the dynamics knobs so that the *written* labels match the real figures.

The statistics of the real corpus are measured on rater majority labels (tie rows dropped), so the
fit simulates states *and* raters, drops ties, and compares the label table with the targets:
class mix (via `class_weights`), same-speaker persistence (via `self_boost`), partner agreement
(via `partner_pull`) and the speaker change rate (dropped tie rows merge turns, so the simulated
`speaker_change` sits slightly above the measured rate). KEMDy20 has no measured dynamics: only
its class weights are fitted, the rest is kept from KEMDy19. Damped multiplicative / additive updates converge in ~20 rounds.
The presets carry the fitted values; re-run this after changing the rater model:

    python -m feature_extractor.synthetic.calibration --dataset KEMDy19
"""

import argparse
import dataclasses

import numpy as np
import pandas as pd

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic.dynamics import DynamicsKnobs, simulate_dialogues
from feature_extractor.synthetic.raters import RaterKnobs, draw_rater_biases, rate_segments
from feature_extractor.synthetic.reference import KEMDY19_DYNAMICS, VA_CENTROIDS, class_mix_vector
from feature_extractor.synthetic.statistics import (
    class_mix,
    partner_agreement,
    same_speaker_persistence,
    speaker_change_rate,
)


def simulated_label_table(
    dynamics: DynamicsKnobs, raters: RaterKnobs, dataset: str, num_dialogues: int,
    length_range=(20, 30), script_share=2 / 3, seed=0,
) -> pd.DataFrame:
    """dialogue_id, speaker, turn, emotion (written majority, tie rows dropped), duration (1.0)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(length_range[0], length_range[1] + 1, size=num_dialogues)
    is_script = rng.random(num_dialogues) < script_share
    states = simulate_dialogues(lengths, is_script, dynamics, rng)
    valid = np.arange(states.hidden.shape[1])[None, :] < lengths[:, None]
    dialogue, turn = np.nonzero(valid)
    ratings = rate_segments(
        states.hidden[valid], VA_CENTROIDS[dataset], draw_rater_biases(raters, rng), raters, rng
    )
    table = pd.DataFrame({
        "dialogue_id": dialogue,
        "speaker": states.speakers[valid],
        "turn": turn,
        "emotion": np.asarray(EMOTIONS)[ratings.majority],
        "duration": 1.0,
    })
    return table[~ratings.is_tie]


def calibrate(dataset: str, raters: RaterKnobs, start: DynamicsKnobs, length_range=(20, 30), script_share=2 / 3,
              rounds=25, num_dialogues=3000, seed=0):
    """Return `start` with class_weights (and, for KEMDy19, the three rates) fitted."""
    target_mix = np.asarray(class_mix_vector(dataset))
    knobs = start
    for round_index in range(rounds):
        table = simulated_label_table(knobs, raters, dataset, num_dialogues, length_range, script_share,
                                      seed=seed + round_index)
        mix = np.array([class_mix(table)[name] for name in EMOTIONS])
        weights = np.asarray(knobs.class_weights) * (target_mix / np.maximum(mix, 1e-4)) ** 0.8
        updates = {"class_weights": tuple(float(w) for w in weights / weights.max())}
        if dataset == "KEMDy19":
            persistence, agreement = same_speaker_persistence(table), partner_agreement(table)
            updates["self_boost"] = float(np.clip(
                knobs.self_boost + 0.8 * (KEMDY19_DYNAMICS["same_speaker_persistence"] - persistence), 0, 0.95))
            updates["partner_pull"] = float(np.clip(
                knobs.partner_pull + 0.8 * (KEMDY19_DYNAMICS["partner_agreement"] - agreement), 0, 0.95))
            change = speaker_change_rate(table)
            updates["speaker_change"] = float(np.clip(
                knobs.speaker_change + (KEMDY19_DYNAMICS["speaker_change_rate"] - change), 0.5, 0.99))
        knobs = dataclasses.replace(knobs, **updates)
    return knobs


def main(argv=None) -> None:
    from feature_extractor.synthetic.presets import get_preset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("KEMDy19", "KEMDy20"), default="KEMDy19")
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args(argv)
    preset = get_preset("demo", args.dataset)
    shape = {
        "length_range": preset.utterances,
        "script_share": float(np.mean([name.startswith("script") for name in preset.dialogues])),
    }
    fitted = calibrate(args.dataset, preset.raters, preset.dynamics, rounds=args.rounds, **shape)
    check = simulated_label_table(fitted, preset.raters, args.dataset, 3000, seed=999, **shape)
    print(f"fitted for the demo preset's dialogue shape {shape}:")
    for field in ("speaker_change", "partner_pull", "self_boost"):
        print(f"    {field}={getattr(fitted, field):.3f},")
    print(f"    class_weights=({', '.join(f'{w:.3f}' for w in fitted.class_weights)}),")
    print("class mix:", {k: round(v, 3) for k, v in class_mix(check).items()})
    print("persistence:", round(same_speaker_persistence(check), 3),
          "partner agreement:", round(partner_agreement(check), 3))


if __name__ == "__main__":
    main()
