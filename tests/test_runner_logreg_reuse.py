"""The context-free logistic regression does not depend on the seed: the runner fits it once per
pickle (per fold) and every seed's row reuses that fit, also across invocations."""

import csv

import pytest

from cgnn import context_free_baseline
from erc_core.config import load_config
from erc_experiments.config import RunnerConfig
from erc_experiments.runner import run_experiment
from tests.cgnn_fixtures import SMALL_RUN, make_dialogues, write_pickle

STAGE3 = [item for item in SMALL_RUN if not item.startswith("trainer.max_epochs")] + ["trainer.max_epochs=1"]


@pytest.fixture
def fits(monkeypatch):
    """The pickles the baseline was fitted on, one entry per fit."""
    fitted = []
    real = context_free_baseline.fit_context_free_baseline

    def counting(data, *args, **kwargs):
        fitted.append(data.source)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(context_free_baseline, "fit_context_free_baseline", counting)
    return fitted


def run(pickle_path, run_dir, *extra):
    arguments = [f"data.pickle={pickle_path}", f"run_dir={run_dir}", "configs.small.file=configs/stage3/default.yaml",
                 f"configs.small.overrides=[{','.join(STAGE3)}]", "logreg.c_grid=[0.1,1.0]", *extra]
    return run_experiment(load_config(RunnerConfig, None, arguments))


def logreg_rows(run_dir):
    with open(run_dir / "runs.csv", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["config"] == "logreg"]


def test_one_fit_per_fold_over_two_seeds(tmp_path, fits):
    data = write_pickle(tmp_path / "data.pkl", dialogues=make_dialogues(count=12, noise=0.3)).source
    run(data, tmp_path / "exp", "seeds=[0,1]", "folds=3")
    assert len(fits) == 3 and len(set(fits)) == 3  # one per fold pickle, not one per (seed, fold)
    rows = logreg_rows(tmp_path / "exp")
    assert len(rows) == 6
    for fold in ("0", "1", "2"):
        seed0, seed1 = (next(r for r in rows if r["fold"] == fold and r["seed"] == s) for s in ("0", "1"))
        assert seed0["test_weighted_f1"] == seed1["test_weighted_f1"]


def test_a_seed_added_later_reuses_the_fit_of_an_earlier_invocation(tmp_path, fits):
    data = write_pickle(tmp_path / "data.pkl", dialogues=make_dialogues(count=12, noise=0.3)).source
    run(data, tmp_path / "exp", "seeds=[0]")
    run(data, tmp_path / "exp", "seeds=[0,1]")
    assert len(fits) == 1
    assert len(logreg_rows(tmp_path / "exp")) == 2
