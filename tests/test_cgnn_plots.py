"""What the stage-3 and runner figures say: learning curves have whole-epoch ticks and a legend
entry for the best-epoch line; the seed plot tells folds (colour) from seeds (marker)."""

import numpy as np
from matplotlib.collections import PathCollection

from erc_core.plots import learning_curves_figure, seed_plot_figure


def test_learning_curves_of_a_short_run_have_whole_epoch_ticks_and_name_the_best_epoch():
    history = [{"epoch": 1, "train_loss": 1.1, "dev_loss": 1.0, "dev_weighted_f1": 0.40},
               {"epoch": 2, "train_loss": 0.9, "dev_loss": 0.95, "dev_weighted_f1": 0.45}]
    figure = learning_curves_figure(history, best_epoch=2)
    for axes in figure.axes:
        ticks = axes.get_xticks()
        assert len(ticks) and np.all(ticks == np.round(ticks)), ticks
        labels = [text.get_text() for text in axes.get_legend().get_texts()]
        assert any("best dev epoch" in label and "2" in label for label in labels), labels


def test_the_seed_plot_tells_folds_from_seeds():
    runs = [{"value": 50.0 + seed + 3 * fold, "seed": seed, "fold": fold} for seed in (0, 1) for fold in (0, 1, 2)]
    figure = seed_plot_figure({"small": runs, "wide": [dict(r, value=r["value"] + 1) for r in runs]})
    axes = figure.axes[0]
    assert {text.get_text() for text in axes.get_legend().get_texts()} == {
        "fold 0", "fold 1", "fold 2", "seed 0", "seed 1"}
    points = [c for c in axes.collections if isinstance(c, PathCollection)]
    assert len(points) == 2 * len(runs)
    by_run = dict(zip([(r["seed"], r["fold"]) for r in runs] * 2, points))
    colour = {key: tuple(c.get_facecolor()[0]) for key, c in by_run.items()}
    marker = {key: c.get_paths()[0].vertices.tobytes() for key, c in by_run.items()}
    assert colour[0, 0] == colour[1, 0] != colour[0, 1] != colour[0, 2]
    assert marker[0, 0] == marker[0, 1] != marker[1, 0]
