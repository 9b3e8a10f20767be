"""The top of report.html as plain values: headline metrics, the context-free baseline where the
caller knows it, per-class precision / recall / F1, the confusion matrix (counts and
row-normalised) and the provenance lines (where the checkpoint and the data came from).

Read from the metrics of erc_core.metrics and the `extra` dict of write_evaluation:
`checkpoint` / `run_dir`, `data`, `split`, `modality`, `stage`, `checkpoint_provenance`,
`data_provenance`, `provenance` (erc_core.provenance), and `context_free_baseline`: the baseline's
metrics on the same split ({'accuracy', 'weighted_f1', 'macro_f1'}, any of them), or the whole
result of cgnn.context_free_baseline.fit_context_free_baseline (its entry for `split` is used)."""

BASELINE_KEY = "context_free_baseline"
HEADLINE = (("accuracy", "accuracy"), ("weighted_f1", "weighted F1"), ("macro_f1", "macro F1"))


def headline_rows(metrics: dict, extra: dict) -> list:
    """[(name, this model's %, baseline's % or None)] for accuracy, weighted F1, macro F1."""
    baseline = context_free_baseline(extra)
    return [(title, percent(metrics.get(key)), percent(baseline.get(key)) if baseline else None)
            for key, title in HEADLINE if metrics.get(key) is not None]


def context_free_baseline(extra: dict) -> dict | None:
    baseline = extra.get(BASELINE_KEY)
    if not isinstance(baseline, dict):
        return None
    if any(key in baseline for key, _ in HEADLINE):
        return baseline
    of_split = baseline.get(str(extra.get("split")))
    return of_split if isinstance(of_split, dict) else None


def per_class_rows(metrics: dict, label_names) -> list:
    """[(class id, name, precision %, recall %, F1 %, support)] in class order."""
    rows = []
    for k, name in enumerate(label_names):
        scores = metrics.get("per_class", {}).get(name, {})
        rows.append((k, name, percent(scores.get("precision")), percent(scores.get("recall")),
                     percent(scores.get("f1-score")), int(scores.get("support", 0))))
    return rows


def confusion_rows(metrics: dict) -> list:
    """One row per gold class: [(count, row-normalised % as text, shade 0..1)] per predicted class."""
    rows = []
    for counts in metrics.get("confusion_matrix", []):
        total = sum(counts)
        rows.append([(int(c), f"{100.0 * c / total:.0f}" if total else "–", c / total if total else 0.0)
                     for c in counts])
    return rows


def provenance_lines(extra: dict, label_names) -> list:
    """[(what, value)] for the lines known: checkpoint and its commit, data and its corpus, split,
    modality, label set, the commit that evaluated."""
    checkpoint = extra.get("checkpoint_provenance") or {}
    data = extra.get("data_provenance") or {}
    lines = [("checkpoint", extra.get("checkpoint") or extra.get("run_dir")),
             ("checkpoint commit", commit_text(checkpoint)),
             ("stage", extra.get("stage")),
             ("data", extra.get("data")),
             ("corpus", corpus_text(data)),
             ("split", extra.get("split")),
             ("modality", extra.get("modality")),
             ("label set", ", ".join(label_names)),
             ("evaluated at commit", commit_text(extra.get("provenance") or {}))]
    return [(what, str(value)) for what, value in lines if value not in (None, "")]


def commit_text(provenance: dict) -> str | None:
    git = provenance.get("git") or {}
    if not git.get("commit"):
        return None
    return git["commit"][:12] + (" (uncommitted changes)" if git.get("dirty") else "")


def corpus_text(data_provenance: dict) -> str | None:
    """The index stage 2 read, or the file kemdy-import converted."""
    splits = data_provenance.get("stage1_splits") or {}
    if splits.get("index"):
        return f"index {splits['index']}"
    imported = data_provenance.get("imported_from") or {}
    if imported.get("path"):
        return f"imported from {imported['path']}" + (f" ({imported['format']})" if imported.get("format") else "")
    return None


def percent(value) -> str | None:
    return None if value is None else f"{100.0 * float(value):.2f}"
