"""The runner's numbers across runs: mean ± std per config, and paired tests between configs.

Standard deviations are sample standard deviations (ddof=1; NaN for a single run). A paired test
compares two configs on the SAME (seed, fold) pairs only: the paired t-test (scipy.stats.ttest_rel)
and the Wilcoxon signed-rank test (scipy.stats.wilcoxon, two-sided), on the differences A - B.

Runs of one fold share their test sessions, so with several seeds per fold the run-level pairs are
not independent samples of the fold-to-fold variation; the `fold` unit (each config's mean over
the common seeds of a fold, paired by fold) is the conservative reading. With 5 folds the
two-sided Wilcoxon p-value cannot go below 0.0625."""

import itertools
import math
import warnings

import numpy as np
from scipy import stats

HEADLINE = ("accuracy", "weighted_f1", "macro_f1")


def mean_std(values) -> tuple:
    """(mean, sample std, n); std is NaN for fewer than two values, both NaN for none."""
    values = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if values.size == 0:
        return math.nan, math.nan, 0
    std = float(values.std(ddof=1)) if values.size > 1 else math.nan
    return float(values.mean()), std, int(values.size)


def summarise(rows, configs, columns) -> list:
    """One dict per config: {'config', 'runs', '<column>_mean', '<column>_std'} over its rows."""
    table = []
    for name in configs:
        chosen = [row for row in rows if row["config"] == name]
        entry = {"config": name, "runs": len(chosen)}
        for column in columns:
            mean, std, _ = mean_std(row.get(column) for row in chosen)
            entry[f"{column}_mean"], entry[f"{column}_std"] = mean, std
        table.append(entry)
    return table


def paired_test(a, b) -> dict:
    """Paired t-test and Wilcoxon signed-rank of a - b (equal-length sequences)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a - b
    result = {"n_pairs": int(diff.size), "mean_diff": float(diff.mean()) if diff.size else math.nan,
              "t_statistic": math.nan, "t_pvalue": math.nan, "wilcoxon_statistic": math.nan,
              "wilcoxon_pvalue": math.nan}
    if diff.size < 2:
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero variance of the differences: NaN
        t = stats.ttest_rel(a, b)
    result["t_statistic"], result["t_pvalue"] = float(t.statistic), float(t.pvalue)
    if np.any(diff != 0):  # all differences zero: the signed-rank test is undefined
        w = stats.wilcoxon(a, b)
        result["wilcoxon_statistic"], result["wilcoxon_pvalue"] = float(w.statistic), float(w.pvalue)
    return result


def paired_tests(rows, configs, metrics=HEADLINE, split="test", by_fold=False) -> list:
    """Every pair of configs (in `configs` order) and metric: the paired tests over the (seed, fold)
    pairs both configs finished; with `by_fold`, also over per-fold means of the common seeds."""
    values = {(row["config"], row["seed"], row["fold"]): row for row in rows}
    table = []
    for first, second in itertools.combinations(configs, 2):
        keys = sorted({(s, f) for c, s, f in values if c == first} & {(s, f) for c, s, f in values if c == second},
                      key=_key_order)
        for metric in metrics:
            column = f"{split}_{metric}"
            a = [values[(first, s, f)][column] for s, f in keys]
            b = [values[(second, s, f)][column] for s, f in keys]
            base = {"config_a": first, "config_b": second, "split": split, "metric": metric}
            table.append({**base, "unit": "run", **paired_test(a, b)})
            if by_fold:
                a_fold, b_fold = _fold_means(keys, a), _fold_means(keys, b)
                table.append({**base, "unit": "fold", **paired_test(a_fold, b_fold)})
    return table


def _fold_means(keys, values) -> list:
    folds = sorted({fold for _, fold in keys}, key=lambda f: -1 if f is None else f)
    return [float(np.mean([v for (_, f), v in zip(keys, values) if f == fold])) for fold in folds]


def _key_order(key):
    seed, fold = key
    return (-1 if fold is None else fold, seed)
