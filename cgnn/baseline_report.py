"""The context-free baseline next to every stage-3 result, fitted once per pickle.

    result = baseline_for(pickle_path, modality)        # cgnn/context_free_baseline.py, cached
    print(baseline_line(result, stage3_test_metrics, "test"))

The logistic regression is fitted on the same features (`modality`) and split as the stage-3
run; its headline dev / test numbers and the chosen setting are cached by the pickle's SHA-256
and the modality in `$KEMDY_ERC_CACHE` (default `$XDG_CACHE_HOME/kemdy-erc`, else
`~/.cache/kemdy-erc`), so training, evaluating and `run_eval.sh` fit it once per pickle. A cache
that cannot be read or written is skipped (the fit is then redone), never an error."""

import json
import os
import tempfile
from pathlib import Path

from cgnn.context_free_baseline import C_GRID, fit_context_free_baseline
from cgnn.conversation_pickle import read_conversations
from erc_core.files import file_sha256, write_json
from erc_core.metrics import headline

CACHE_VERSION = 1


def cache_folder() -> Path:
    if os.environ.get("KEMDY_ERC_CACHE"):
        return Path(os.environ["KEMDY_ERC_CACHE"])
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found: the system's temporary folder
        base = tempfile.gettempdir()
    return Path(base, "kemdy-erc")


def baseline_for(pickle_path, modality: str, data=None) -> dict | None:
    """{'modality', 'chosen', 'dev', 'test' (headline metrics of the splits with labels), 'pickle_sha256'};
    None for a pickle without labelled train and dev utterances (nothing to fit or choose C on)."""
    digest = file_sha256(pickle_path)
    cache = cache_folder() / "context_free_baseline" / f"{digest}_{modality}_v{CACHE_VERSION}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = data or read_conversations(pickle_path)
    if not all(any((d["labels"] >= 0).any() for d in data.in_split(split)) for split in ("train", "dev")):
        return None
    fit = fit_context_free_baseline(data, modality)
    result = {"modality": modality, "chosen": fit["chosen"], "c_grid": list(C_GRID), "pickle_sha256": digest,
              **{split: headline(fit[split]) for split in ("dev", "test") if split in fit}}
    try:
        write_json(cache, result)
    except OSError:
        pass
    return result


def baseline_line(baseline: dict, metrics: dict, split: str) -> str:
    """One line: the baseline on `split` and how far the stage-3 result (`metrics`) is from it."""
    chosen = baseline["chosen"]
    setting = f"C={chosen['C']:g}" + (", balanced" if chosen.get("class_weight") else "")
    theirs = baseline.get(split)
    if not theirs or not metrics.get("n"):
        return f"context-free logistic regression ({baseline['modality']}, {setting}): no labelled {split} utterances"
    gap = 100 * (metrics["weighted_f1"] - theirs["weighted_f1"])
    verdict = "stage 3 is ahead by" if gap > 0 else "stage 3 is NOT ahead:"
    return (f"context-free logistic regression on the same features ({baseline['modality']}, {setting}) "
            f"[{split}] acc {100 * theirs['accuracy']:.2f} wF1 {100 * theirs['weighted_f1']:.2f} "
            f"mF1 {100 * theirs['macro_f1']:.2f}; {verdict} {gap:+.2f} wF1")


def short_baseline(baseline: dict, metrics: dict, split: str) -> str:
    """The same comparison, short enough to end a one-line evaluation summary."""
    theirs = baseline.get(split)
    if not theirs:
        return f"context-free logreg ({baseline['modality']}): no labelled {split} utterances"
    gap = 100 * (metrics["weighted_f1"] - theirs["weighted_f1"])
    return f"context-free logreg ({baseline['modality']}) wF1 {100 * theirs['weighted_f1']:.2f}, stage 3 {gap:+.2f}"
