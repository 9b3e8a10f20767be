"""The training budget is in optimizer steps, not in dialogues: a small corpus gets smaller
batches (data.min_batches_per_epoch) and, if still short, more epochs (trainer.min_steps); a
corpus with enough dialogues keeps exactly the batches and epochs it had (cgnn/budget.py)."""

import json

import pytest
import torch
from cgnn_fixtures import stage3_config, write_pickle

from cgnn.budget import training_budget
from cgnn.train import train

torch.set_num_threads(1)


@pytest.mark.parametrize("dialogues, batch, expected_batch, expected_steps", [
    (10, 32, 3, 4),       # the small corpus: one step per epoch before, four now
    (9, 32, 2, 5),
    (108, 32, 32, 4),     # IEMOCAP's train split: unchanged
    (48, 8, 8, 6),        # the demo with batch 8: unchanged
    (1000, 32, 32, 32),
])
def test_small_corpora_get_smaller_batches_large_ones_keep_theirs(dialogues, batch, expected_batch, expected_steps):
    budget = training_budget(dialogues, batch, max_epochs=55, min_batches_per_epoch=4)
    assert (budget.batch_size, budget.steps_per_epoch, budget.epochs) == (expected_batch, expected_steps, 55)
    assert budget.steps >= 55 * 4


def test_min_steps_raises_the_epochs_only_when_the_batches_cannot_shrink_further():
    assert training_budget(2, 32, 55, 4, min_steps=220).epochs == 110     # 2 dialogues: 2 steps per epoch
    assert training_budget(108, 32, 55, 4, min_steps=220).epochs == 55    # already 220 steps
    assert training_budget(10, 32, 55, 0, min_steps=0).steps == 55        # both rules off: the old budget


def run_summary(tmp_path, *overrides):
    data = write_pickle(tmp_path / "small.pkl", count=15, splits=("train", "train", "train", "dev", "test"))
    return train(stage3_config(data.source, tmp_path / "run", "data.batch_size=32", "optim.lr=1e-2",
                               "baseline=false", *overrides))


def test_a_small_corpus_trains_for_the_steps_of_the_budget_and_the_schedule_spans_them(tmp_path):
    summary = run_summary(tmp_path, "trainer.max_epochs=6")            # 9 train dialogues
    assert summary["batch_size"] == 2 and summary["optimizer_steps"] == 6 * 5
    rates = [row["lr"] for row in summary["history"]]
    assert max(rates) == pytest.approx(1e-2, rel=0.2) and rates[-1] < 1e-4  # warmup, then decay to 0 at the end
    stored = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert stored["epochs_planned"] == 6 and stored["batch_size"] == 2


def test_min_steps_runs_more_epochs(tmp_path):
    summary = run_summary(tmp_path, "trainer.max_epochs=2", "data.min_batches_per_epoch=0", "trainer.min_steps=5")
    assert summary["batch_size"] == 32 and summary["epochs_run"] == 5 and summary["optimizer_steps"] == 5
