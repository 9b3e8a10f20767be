"""How the runner calls each stage for one (seed, fold): through the stage's own entry point, with
the stage's own config file and overrides, into the stage's own run folder. Each returns the
finished run's record (erc_experiments.runs)."""

import json
import time
from pathlib import Path

from erc_core.config import load_config, to_dict
from erc_experiments.runs import RECORD_FILE, RunKey, write_record

PER_RUN_KEYS = ("run_dir", "seed", "data.path", "data.index", "data.feature_cache", "overwrite", "resume")


def stage3_config(ref, common_overrides, pickle_path, seed: int, run_dir):
    """The stage-3 config of one run: the file, its overrides, the runner's common overrides, then
    the run's own data path, folder and seed (always fresh: overwrite=true)."""
    from cgnn.config import Stage3Config

    return load_config(Stage3Config, ref.file, [*ref.overrides, *common_overrides, f"data.path={pickle_path}",
                                                f"run_dir={run_dir}", f"seed={seed}", "overwrite=true",
                                                "resume=false"])


def settings_of(config) -> dict:
    """A stage config as a dict without the keys the runner sets per run (for the manifest)."""
    values = to_dict(config)
    for dotted in PER_RUN_KEYS:
        *parents, leaf = dotted.split(".")
        node = values
        for part in parents:
            node = node.get(part, {})
        node.pop(leaf, None)
    return values


def run_stage3(key: RunKey, folder, ref, common_overrides, pickle_path) -> dict:
    from cgnn.train import train

    started = time.time()
    summary = train(stage3_config(ref, common_overrides, pickle_path, key.seed, folder))
    return write_record(key, folder, dev=summary.get("dev"), test=summary.get("test"),
                        seconds=time.time() - started, best_epoch=summary["best_epoch"],
                        epochs_run=summary["epochs_run"], extra={"kind": "stage3", "data": str(pickle_path)})


def stage1_arguments(ref, index_dir, seed: int, run_dir, feature_cache) -> list:
    return ["--config", ref.file, *ref.overrides, f"data.index={index_dir}", f"run_dir={run_dir}", f"seed={seed}",
            f"data.feature_cache={feature_cache}", "overwrite=true", "resume=false"]


def run_stage1(key: RunKey, folder, ref, index_dir, feature_cache) -> dict:
    """Stage 1; its test metrics (best-dev model) are the utterance-level classifier's row."""
    from feature_extractor.training.train import train_from_args

    started = time.time()
    summary = train_from_args(stage1_arguments(ref, index_dir, key.seed, folder, feature_cache))
    return write_record(key, folder, dev=summary.get("best_dev"), test=summary.get("test"),
                        seconds=time.time() - started, best_epoch=summary.get("best_epoch"),
                        epochs_run=len(summary.get("dev_history", [])),
                        extra={"kind": "stage1", "index": str(index_dir)})


def run_stage2(stage1_folder, index_dir, out, feature_cache, threads) -> float:
    """Stage 2 of a stage-1 run into the conversation pickle `out`; returns its seconds."""
    from feature_extractor.extraction.extract import extract, parse_args

    started = time.time()
    arguments = ["--checkpoint", str(stage1_folder), "--index", str(index_dir), "--out", str(out),
                 "--feature-cache", str(feature_cache), "--num-workers", "0", "--no-progress"]
    extract(parse_args(arguments + (["--threads", str(threads)] if threads else [])))
    return time.time() - started


def run_logreg(key: RunKey, folder, pickle_path, modality: str, c_grid, fits_folder) -> dict:
    """The context-free logistic regression on the run's pickle; metrics.json + run.json. It does
    not depend on the seed, so it is fitted once per pickle: a finished fit of the same file (by
    SHA-256) in another run folder under `fits_folder` (<run_dir>/logreg) is reused."""
    from cgnn import context_free_baseline
    from cgnn.conversation_pickle import read_conversations
    from erc_core.files import file_sha256, write_json
    from erc_core.provenance import run_provenance

    started = time.time()
    digest = file_sha256(pickle_path)
    result = earlier_logreg_fit(fits_folder, digest) or {
        **context_free_baseline.fit_context_free_baseline(read_conversations(pickle_path), modality, c_grid=c_grid),
        "fitted_in": str(folder)}
    write_json(folder / "metrics.json", {"status": "finished", "data": str(pickle_path), "data_sha256": digest,
                                         "provenance": run_provenance(key.seed), **result})
    return write_record(key, folder, dev=result.get("dev"), test=result.get("test"), seconds=time.time() - started,
                        extra={"kind": "logreg", "data": str(pickle_path), "chosen": result["chosen"],
                               "fitted_in": result["fitted_in"]})


LOGREG_RESULT_KEYS = ("dev", "test", "chosen", "grid", "modality", "seconds", "fitted_in")


def earlier_logreg_fit(fits_folder, digest: str) -> dict | None:
    """The result of a finished logreg run on the pickle with SHA-256 `digest`, or None. The
    runner's manifest already guarantees the same modality and C grid for every run there."""
    for metrics_path in sorted(Path(fits_folder).glob("*/metrics.json")):
        if not (metrics_path.parent / RECORD_FILE).is_file():
            continue  # not finished
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        if metrics.get("data_sha256") == digest and "fitted_in" in metrics:
            return {name: metrics.get(name) for name in LOGREG_RESULT_KEYS}
    return None
