"""The runner's statistics against values computed by hand: the paired t statistic from its
formula, the Wilcoxon p-value by enumerating every sign assignment, pairing on (seed, fold)."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from erc_experiments.statistics import mean_std, paired_test, paired_tests, summarise

A = [0.61, 0.55, 0.70, 0.64, 0.58, 0.66]
B = [0.52, 0.57, 0.61, 0.60, 0.51, 0.65]  # |differences| all distinct, no zero


def hand_t(a, b):
    d = [x - y for x, y in zip(a, b)]
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    t = mean / (sd / math.sqrt(n))
    return mean, t, 2 * stats.t.sf(abs(t), df=n - 1)


def exact_wilcoxon(a, b):
    """W = min(W+, W-) and its exact two-sided p-value over all 2^n sign flips."""
    d = np.subtract(a, b)
    ranks = stats.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    observed = min(w_plus, ranks.sum() - w_plus)
    as_small = 0
    for signs in itertools.product((0, 1), repeat=len(d)):
        plus = sum(r for r, s in zip(ranks, signs) if s)
        as_small += min(plus, ranks.sum() - plus) <= observed + 1e-12
    return observed, as_small / 2 ** len(d)


def test_paired_t_and_wilcoxon_match_hand_computation():
    result = paired_test(A, B)
    mean, t, p = hand_t(A, B)
    assert result["n_pairs"] == 6
    assert result["mean_diff"] == pytest.approx(mean)
    assert result["t_statistic"] == pytest.approx(t)
    assert result["t_pvalue"] == pytest.approx(p)
    w, p_exact = exact_wilcoxon(A, B)
    assert result["wilcoxon_statistic"] == pytest.approx(w)
    assert result["wilcoxon_pvalue"] == pytest.approx(p_exact)


def test_identical_configs_give_no_test_rather_than_a_number():
    result = paired_test(A, A)
    assert result["mean_diff"] == 0
    assert math.isnan(result["wilcoxon_pvalue"]) and math.isnan(result["t_pvalue"])


def test_one_pair_gives_no_test():
    result = paired_test([0.5], [0.4])
    assert result["n_pairs"] == 1 and math.isnan(result["t_pvalue"])


def rows_of(config, values, pairs):
    return [{"config": config, "seed": s, "fold": f, "test_weighted_f1": v, "test_accuracy": v, "test_macro_f1": v}
            for (s, f), v in zip(pairs, values)]


def test_configs_are_paired_on_the_same_seed_and_fold_only():
    pairs = [(seed, fold) for seed in (0, 1) for fold in (0, 1, 2)]
    rows = rows_of("x", A, pairs) + rows_of("y", B[::-1], pairs[::-1])  # y listed in another order
    rows = [r for r in rows if not (r["config"] == "y" and (r["seed"], r["fold"]) == (1, 2))]  # y lacks one
    table = paired_tests(rows, ["x", "y"], metrics=("weighted_f1",), by_fold=True)
    run, fold = table
    assert run["unit"] == "run" and fold["unit"] == "fold"
    assert run["n_pairs"] == 5
    expected = paired_test(A[:5], B[:5])
    assert run["mean_diff"] == pytest.approx(expected["mean_diff"])
    assert run["t_pvalue"] == pytest.approx(expected["t_pvalue"])
    # fold means over the common seeds: folds 0 and 1 have seeds 0 and 1, fold 2 only seed 0
    a_means = [(A[0] + A[3]) / 2, (A[1] + A[4]) / 2, A[2]]
    b_means = [(B[0] + B[3]) / 2, (B[1] + B[4]) / 2, B[2]]
    assert fold["n_pairs"] == 3
    assert fold["t_statistic"] == pytest.approx(hand_t(a_means, b_means)[1])


def test_mean_and_sample_std():
    mean, std, n = mean_std([0.5, 0.7, 0.6, None])
    assert (mean, n) == (pytest.approx(0.6), 3)
    assert std == pytest.approx(math.sqrt(((0.1) ** 2 + 0 + (0.1) ** 2) / 2))
    assert math.isnan(mean_std([0.4])[1])
    entry = summarise(rows_of("x", A, [(s, 0) for s in range(6)]), ["x"], ["test_weighted_f1"])[0]
    assert entry["runs"] == 6 and entry["test_weighted_f1_std"] == pytest.approx(np.std(A, ddof=1))
