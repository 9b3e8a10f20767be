"""The runner's output files: runs.csv, summary.csv, paired.csv and summary.md (written atomically).

CSV files hold metrics as fractions at full precision; summary.md shows percentages."""

import csv
import math

from erc_core.files import atomic_open

SUMMARY_COLUMNS = tuple(f"{split}_{metric}" for split in ("dev", "test")
                        for metric in ("accuracy", "weighted_f1", "macro_f1")) + ("seconds", "seconds_per_epoch")
PAIRED_COLUMNS = ("config_a", "config_b", "split", "metric", "unit", "n_pairs", "mean_diff", "t_statistic",
                  "t_pvalue", "wilcoxon_statistic", "wilcoxon_pvalue")
SHORT = {"accuracy": "acc", "weighted_f1": "wF1", "macro_f1": "mF1"}


def write_csv(path, rows, columns) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_value(row.get(key)) for key in columns})


def summary_columns() -> list:
    return ["config", "runs", *(f"{c}_{s}" for c in SUMMARY_COLUMNS for s in ("mean", "std"))]


def summary_markdown(title: str, context: list, summary: list, paired: list, rows: list, folds: list) -> str:
    lines = [f"# {title}", "", *context, ""]
    for split in ("test", "dev"):
        lines += [f"## {split.capitalize()}: mean ± std over runs (%)", "",
                  "| config | runs | acc | wF1 | mF1 | s / run | s / epoch |", "|---|---:|---:|---:|---:|---:|---:|"]
        for entry in summary:
            cells = [_pm(entry, f"{split}_{m}", 100, 2) for m in SHORT]
            lines.append(f"| {entry['config']} | {entry['runs']} | {' | '.join(cells)} | "
                         f"{_pm(entry, 'seconds', 1, 1)} | {_pm(entry, 'seconds_per_epoch', 1, 2)} |")
        lines.append("")
    if paired:
        lines += ["## Paired tests (test split, A − B over the same (seed, fold) pairs)", "",
                  ("`run`: one pair per (seed, fold); `fold`: per-fold means over the common seeds (the "
                   "conservative reading, since runs of one fold share their test sessions)."), "",
                  "| A | B | metric | unit | pairs | mean diff (pp) | t | p (t-test) | W | p (Wilcoxon) |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for test in paired:
            lines.append(f"| {test['config_a']} | {test['config_b']} | {SHORT[test['metric']]} | {test['unit']} | "
                         f"{test['n_pairs']} | {_number(test['mean_diff'], 100, 2, signed=True)} | "
                         f"{_number(test['t_statistic'], 1, 2)} | {_p(test['t_pvalue'])} | "
                         f"{_number(test['wilcoxon_statistic'], 1, 1)} | {_p(test['wilcoxon_pvalue'])} |")
        lines.append("")
    if folds:
        lines += _fold_means(rows, [entry["config"] for entry in summary], [f["fold"] for f in folds])
        lines += ["## Folds (sessions)", "", "| fold | test | dev | train |", "|---:|---|---|---|"]
        lines += [f"| {f['fold']} | {_sessions(f['test'])} | {_sessions(f['dev'])} | {_sessions(f['train'])} |"
                  for f in folds]
        lines.append("")
    lines += ["## Runs (%)", "", ("| config | seed | fold | dev acc | dev wF1 | dev mF1 | test acc | test wF1 | "
                                  "test mF1 | best epoch | epochs | s | s / epoch |"), "|---|---:|---:|" + "---:|" * 10]
    for row in rows:
        metrics = [_number(row.get(f"{s}_{m}"), 100, 2) for s in ("dev", "test") for m in SHORT]
        fold = "-" if row["fold"] is None else row["fold"]
        lines.append(f"| {row['config']} | {row['seed']} | {fold} | {' | '.join(metrics)} | "
                     f"{_plain(row.get('best_epoch'))} | {_plain(row.get('epochs_run'))} | "
                     f"{_number(row.get('seconds'), 1, 1)} | {_number(row.get('seconds_per_epoch'), 1, 2)} |")
    return "\n".join(lines) + "\n"


def _fold_means(rows, configs, folds) -> list:
    """Test weighted-F1 per config and fold, mean over that fold's runs (the seeds)."""
    lines = ["## Test wF1 per fold: mean over seeds (%)", "",
             "| config | " + " | ".join(f"fold {f}" for f in folds) + " |", "|---|" + "---:|" * len(folds)]
    for config in configs:
        cells = []
        for fold in folds:
            values = [r["test_weighted_f1"] for r in rows if r["config"] == config and r["fold"] == fold
                      and r["test_weighted_f1"] is not None]
            cells.append(_number(sum(values) / len(values), 100, 2) if values else "–")
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def write_text(path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _csv_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def _number(value, scale, digits, signed=False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{scale * value:{'+' if signed else ''}.{digits}f}"


def _pm(entry, column, scale, digits) -> str:
    mean, std = entry.get(f"{column}_mean"), entry.get(f"{column}_std")
    if mean is None or math.isnan(mean):
        return "–"
    if std is None or math.isnan(std):
        return _number(mean, scale, digits)
    return f"{_number(mean, scale, digits)} ± {_number(std, scale, digits)}"


def _p(value) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.3g}" if value >= 1e-4 else f"{value:.1e}"


def _plain(value) -> str:
    return "–" if value is None else str(value)


def _sessions(sessions) -> str:
    return ", ".join(str(s) for s in sessions)
