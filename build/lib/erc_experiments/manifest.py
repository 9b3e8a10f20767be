"""runner.json: what a run folder's runs were made from, so a resumed invocation never mixes runs
of different data, folds or settings into one table.

A later invocation may add seeds and configs; it may not change the data (checked by SHA-256),
the folds, or the settings of a config that already has runs there."""

import json
from pathlib import Path

from erc_core.errors import UserError
from erc_core.files import write_json

MANIFEST_FILE = "runner.json"


def reconcile_manifest(run_dir, current: dict) -> dict:
    """Check `current` against the manifest in `run_dir` (if any), then write the union."""
    path = Path(run_dir) / MANIFEST_FILE
    if not path.is_file():
        write_json(path, current)
        return current
    previous = json.loads(path.read_text(encoding="utf-8"))
    for key in ("data", "folds", "stage1", "logreg"):
        if previous.get(key) is not None and current.get(key) is not None:
            _require_same(previous[key], current[key], key, path)
    for name, settings in current["stage3"].items():
        if name in previous.get("stage3", {}):
            _require_same(previous["stage3"][name], settings, f"configs.{name}", path)
    merged = {**current, "stage3": {**previous.get("stage3", {}), **current["stage3"]},
              "stage1": current.get("stage1") or previous.get("stage1")}
    write_json(path, merged)
    return merged


def _require_same(before, now, what: str, path) -> None:
    difference = first_difference(json.loads(json.dumps(before)), json.loads(json.dumps(now, default=str)))
    if difference is not None:
        raise UserError(f"{path}: the runs in this folder were made with a different {what} ({difference}); "
                        "choose another run_dir, or remove the folder to start over")


def first_difference(before, now, prefix="") -> str | None:
    """'key: old -> new' for the first differing leaf of two JSON values, or None."""
    if isinstance(before, dict) and isinstance(now, dict):
        for key in sorted(set(before) | set(now)):
            found = first_difference(before.get(key), now.get(key), f"{prefix}{key}.")
            if found:
                return found
        return None
    if before != now:
        return f"{prefix.rstrip('.') or 'value'}: {before!r} -> {now!r}"
    return None
