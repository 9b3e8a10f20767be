"""Experiment runner: stage 3 (and, in index mode, stage 1 -> 2 -> 3) over seeds x session folds
for one or more configs, with a table of mean ± std, per-run rows and paired tests.

    kemdy-experiment --config configs/experiments/demo_folds.yaml
    kemdy-experiment data.pickle=work/features.pkl folds=5 run_dir=runs/experiments/mine
        configs.default.file=configs/stage3/default.yaml       (one command line)
    kemdy-experiment --help      (every key, its type and default)

Writes into run_dir: one folder per run (<config>/seed<S>_fold<F>/, the stage's own run folder),
runs.csv, summary.csv, paired.csv, summary.md, seeds.png, folds.json and runner.json. Runs already
finished there are read, not redone (docs/experiments.md)."""

import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from erc_core.cli import parse_config_command, run_command
from erc_core.files import write_json
from erc_core.plots import save_seed_plot
from erc_core.provenance import git_state
from erc_experiments import stages
from erc_experiments.config import RunnerConfig, check_runner_config
from erc_experiments.manifest import reconcile_manifest
from erc_experiments.runs import ROW_COLUMNS, RunKey, forget, read_record, record_row
from erc_experiments.sources import open_source
from erc_experiments.statistics import paired_tests, summarise
from erc_experiments.tables import (
    PAIRED_COLUMNS,
    SUMMARY_COLUMNS,
    summary_columns,
    summary_markdown,
    write_csv,
    write_text,
)


class Experiment:
    """One invocation: the plan (configs x seeds x folds), its inputs and what has finished."""

    def __init__(self, config: RunnerConfig):
        check_runner_config(config)
        self.config = config
        self.out = Path(config.run_dir)
        self.source = open_source(config.data)
        self.stage3_settings = self._stage3_settings()  # a bad file or key fails here, before any training
        self.stage1_config = self._stage1_config() if config.data.index else None
        first = next(iter(self.stage3_settings.values()))
        self.logreg_modality = config.logreg.modality or first["data"]["modality"]
        self.feature_cache = Path(config.data.feature_cache or self.out / "acoustic_cache")
        self.names = [*config.configs, *(name for name in ("stage1", "logreg") if name in config.baselines)]
        self.records = {}
        self.folds = []

    def run(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        reconcile_manifest(self.out, self._manifest())
        self.folds = self.source.prepare_folds(self.out, self.config.folds)
        write_json(self.out / "folds.json", [{"fold": f.fold, **(f.sessions or {})} for f in self.folds])
        cells = [(seed, fold) for seed in self.config.seeds for fold in self.folds]
        for number, (seed, fold) in enumerate(cells, start=1):
            print(f"runner: cell {number}/{len(cells)}: seed {seed}" + ("" if fold.fold is None else f", fold {fold.fold}"),
                  flush=True)
            self._run_cell(seed, fold)
            self.write_outputs()
        return self.write_outputs()

    # ------------------------------------------------------------ one (seed, fold)

    def _run_cell(self, seed: int, fold) -> None:
        pickle_path = fold.path
        if self.source.mode == "index":
            pickle_path = self._stage1_and_2(seed, fold)
        for name, ref in self.config.configs.items():
            self._finished_or_run(RunKey(name, seed, fold.fold), lambda key, folder, ref=ref: stages.run_stage3(
                key, folder, ref, self.config.stage3_overrides, pickle_path))
        if "logreg" in self.config.baselines:
            self._finished_or_run(RunKey("logreg", seed, fold.fold), lambda key, folder: stages.run_logreg(
                key, folder, pickle_path, self.logreg_modality, self.config.logreg.c_grid, self.out / "logreg"))

    def _stage1_and_2(self, seed: int, fold) -> Path:
        """Stage 1 (seed S) on the fold's index, then stage 2 into <run_dir>/features/<cell>.pkl.
        A stage that is redone makes every later stage of the cell redo too."""
        key = RunKey("stage1", seed, fold.fold)
        pickle_path = self.out / "features" / f"{key.cell}.pkl"
        downstream = [RunKey(name, seed, fold.fold) for name in self.names if name != "stage1"]
        if read_record(key.folder(self.out)) is None:
            self._forget(pickle_path, downstream)
        self._finished_or_run(key, lambda key, folder: stages.run_stage1(
            key, folder, self.config.stage1, fold.path, self.feature_cache))
        if not _pickle_finished(pickle_path):
            self._forget(pickle_path, downstream)
            seconds = stages.run_stage2(key.folder(self.out), fold.path, pickle_path, self.feature_cache,
                                        self.stage1_config.trainer.cpu_threads)
            print(f"runner: stage 2 {key.cell}: {seconds:.1f} s -> {pickle_path}", flush=True)
        return pickle_path

    def _forget(self, pickle_path: Path, keys) -> None:
        pickle_path.unlink(missing_ok=True)
        for key in keys:
            self.records.pop(key, None)
            forget(key.folder(self.out))

    def _finished_or_run(self, key: RunKey, run) -> dict:
        folder = key.folder(self.out)
        record = read_record(folder)
        if record is None:
            record = run(key, folder)
            state = f"done in {record['seconds']:.1f} s"
        else:
            state = "finished before, read"
        test = record.get("test") or {}
        if test.get("n"):
            state += f"; test acc {100 * test['accuracy']:.2f} wF1 {100 * test['weighted_f1']:.2f}"
        print(f"runner: {key.config} {key.cell}: {state}", flush=True)
        if key.config in self.names:  # stage 1 runs in index mode even when it is no row of the table
            self.records[key] = (record, folder)
        return record

    # ------------------------------------------------------------ outputs

    def rows(self) -> list:
        order = {name: i for i, name in enumerate(self.names)}
        rows = [record_row(record, folder) for record, folder in self.records.values()]
        return sorted(rows, key=lambda r: (order[r["config"]], r["seed"], -1 if r["fold"] is None else r["fold"]))

    def write_outputs(self) -> dict:
        rows = self.rows()
        names = [name for name in self.names if any(row["config"] == name for row in rows)]
        summary = summarise(rows, names, SUMMARY_COLUMNS)
        paired = paired_tests(rows, names, by_fold=bool(self.config.folds) and len(self.config.seeds) > 1)
        write_csv(self.out / "runs.csv", rows, ROW_COLUMNS)
        write_csv(self.out / "summary.csv", summary, summary_columns())
        write_csv(self.out / "paired.csv", paired, PAIRED_COLUMNS)
        folds = [{"fold": f.fold, **f.sessions} for f in self.folds if f.sessions]
        write_text(self.out / "summary.md", summary_markdown(f"Runner: {self.out.name}", self._context(rows),
                                                             summary, paired, rows, folds))
        if rows:
            runs = {name: [{"value": 100 * r["test_weighted_f1"], "seed": r["seed"], "fold": r["fold"]}
                           for r in rows if r["config"] == name and r["test_weighted_f1"] is not None]
                    for name in names}
            save_seed_plot(runs, self.out / "seeds.png", title=f"{self.out.name}: test weighted-F1 per run")
        return {"rows": rows, "summary": summary, "paired": paired}

    def _context(self, rows) -> list:
        config = self.config
        folds = f"{config.folds} folds by contiguous session blocks" if config.folds else "the data's own split"
        lines = [f"- data ({self.source.mode} mode): `{self.source.path}`; {folds}; seeds {list(config.seeds)}"]
        for name, ref in config.configs.items():
            overrides = " ".join([*ref.overrides, *config.stage3_overrides])
            lines.append(f"- `{name}`: stage 3, `{ref.file}`" + (f" `{overrides}`" if overrides else ""))
        if "stage1" in self.names:
            overrides = " ".join(config.stage1.overrides)
            lines.append(f"- `stage1`: the utterance-level stage-1 classifier (its own test metrics, best-dev model), "
                         f"`{config.stage1.file}`" + (f" `{overrides}`" if overrides else "") +
                         "; stage 3 of the same (seed, fold) trains on its features")
        if "logreg" in self.names:
            lines.append(f"- `logreg`: context-free logistic regression per utterance on `{self.logreg_modality}` "
                         "(standardised; C and class_weight chosen on dev)")
        versions = ", ".join(f"{version} ({count} runs)" for version, count in code_versions(self.records.values()).items())
        seconds = sum(row["seconds"] or 0 for row in rows)
        lines.append(f"- code of the runs: {versions or 'none yet'}; tables written by {_describe(git_state())}")
        lines.append(f"- {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
                     f"runs' seconds summed: {seconds:.0f}")
        return lines

    def _manifest(self) -> dict:
        logreg = {"modality": self.logreg_modality, "c_grid": list(self.config.logreg.c_grid)} \
            if "logreg" in self.config.baselines else None
        stage1 = stages.settings_of(self.stage1_config) if self.stage1_config is not None else None
        return {"data": self.source.describe(), "folds": self.config.folds, "stage3": self.stage3_settings,
                "stage1": stage1, "logreg": logreg}

    def _stage3_settings(self) -> dict:
        return {name: stages.settings_of(stages.stage3_config(ref, self.config.stage3_overrides, "PER_RUN", 0, "PER_RUN"))
                for name, ref in self.config.configs.items()}

    def _stage1_config(self):
        from erc_core.config import load_config
        from feature_extractor.training.config import Stage1Config

        return load_config(Stage1Config, self.config.stage1.file, self.config.stage1.overrides)


def code_versions(records) -> Counter:
    """How many runs each code version made, from the provenance in each run's metrics.json."""
    versions = Counter()
    for _, folder in records:
        path = Path(folder) / "metrics.json"
        provenance = json.loads(path.read_text(encoding="utf-8")).get("provenance", {}) if path.is_file() else {}
        versions[_describe(provenance.get("git") or {})] += 1
    return versions


def _describe(git: dict) -> str:
    commit = (git.get("commit") or "unknown")[:10]
    return commit + ("+uncommitted" if git.get("dirty") else "")


def _pickle_finished(path: Path) -> bool:
    """write_conversations writes the pickle, then its .config.json with the pickle's SHA-256."""
    from cgnn.conversation_pickle import sidecar_matches

    return sidecar_matches(path)


def run_experiment(config: RunnerConfig) -> dict:
    started = time.time()
    result = Experiment(config).run()
    print(f"runner: {len(result['rows'])} runs in {config.run_dir} ({time.time() - started:.0f} s this invocation); "
          f"table in {Path(config.run_dir) / 'summary.md'}", flush=True)
    return result


def _main(argv) -> int:
    config, _ = parse_config_command(RunnerConfig, __doc__, argv)
    if config is None:
        return 0
    run_experiment(config)
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
