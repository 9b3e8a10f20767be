"""Train every registered stage-1 head on the same corpus, split and seed; write one comparison table.

    python scripts/compare_heads.py --config configs/stage1/demo.yaml --out runs/compare_heads \
        --small-heads data.index=demo_work/index
    python scripts/compare_heads.py --config configs/stage1/kemdy19.yaml --out runs/zoo19 \
        --heads concat,tensor_mixer,case_attention data.index=work/index19

Each head trains through stage 1 (`feature_extractor.training.train.train`) with the config file, the
`key=value` overrides given here, `model.head=<name>` and its own `run_dir=<out>/<name>`. So that
the CCC columns mean something for every head, valence/arousal are predicted and regressed
(`model.predict_va=true loss.regression=mse`) unless the overrides say otherwise.

Writes <out>/heads_comparison.csv and .md: test accuracy, weighted-F1, macro-F1, CCC valence and
arousal, head and total trainable parameters, median train step time (forward + backward +
optimiser step, after 3 warm-up steps). A head that fails is listed with its error, the others
still run, and the exit status is 1.
"""

import argparse
import contextlib
import inspect
import statistics
import sys
import time
import traceback
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from erc_core.config import load_config  # noqa: E402
from erc_core.files import atomic_open  # noqa: E402
from feature_extractor.heads import HEADS, import_all_heads  # noqa: E402
from feature_extractor.training.config import Stage1Config  # noqa: E402

# Head sizes for CPU demo runs with the tiny (64-d) encoders; the heads' defaults are the
# reference sizes (tensor_mixer alone is 27 M parameters there).
SMALL_HEAD_OPTIONS = {
    "tensor_mixer": dict(proj_dim=32, patch_size=8, width=64, depth=2, token_hidden=32, channel_hidden=128),
    "mmm_concat": dict(hidden=64),
    "mmm_three_way": dict(width=64),
    "mmm_cross_attention": dict(width=64, num_heads=2),
    "mmm_mixer": dict(width=64, depth=2, max_tokens=64, max_frames=640, token_hidden=64, channel_hidden=128),
    **{name: dict(width=64, num_heads=2) for name in ("case_compress", "case_compress_concat", "case_attention", "case_attention_concat")},
}
DEFAULT_OVERRIDES = ["model.predict_va=true", "loss.regression=mse"]
COLUMNS = ["head", "accuracy", "weighted_f1", "macro_f1", "ccc_valence", "ccc_arousal",
           "head_params", "trainable_params", "step_ms", "error"]
WARMUP_STEPS = 3


class StepTimer(pl.Callback):
    """Wall time of each training step (batch start -> batch end) and the model's parameter counts."""

    def __init__(self):
        self.seconds = []
        self.head_params = self.trainable_params = None
        self._start = None

    def on_fit_start(self, trainer, pl_module):
        trainable = [p for p in pl_module.model.parameters() if p.requires_grad]
        self.trainable_params = sum(p.numel() for p in trainable)
        self.head_params = sum(p.numel() for p in pl_module.model.head.parameters() if p.requires_grad)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        _synchronize(pl_module.device)
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        _synchronize(pl_module.device)
        self.seconds.append(time.perf_counter() - self._start)

    def median_ms(self) -> float:
        steps = self.seconds[WARMUP_STEPS:] or self.seconds
        return 1000.0 * statistics.median(steps) if steps else float("nan")


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def extra_callbacks(stage1_module, callbacks):
    """Hand `callbacks` to stage 1's trainer. Stage 1 builds its trainer in `build_trainer`;
    until `train()` takes extra callbacks itself, that function is wrapped for the duration."""
    original = stage1_module.build_trainer

    def build_with_extras(cfg, run_dir, given):
        return original(cfg, run_dir, list(given) + list(callbacks))

    stage1_module.build_trainer = build_with_extras
    try:
        yield
    finally:
        stage1_module.build_trainer = original


def head_config(args, head: str) -> Stage1Config:
    out = Path(args.out)
    overrides = [
        *DEFAULT_OVERRIDES,
        f"tiny_preset.out_dir={out / 'tiny_models'}",  # one tiny preset shared by all heads
        f"data.feature_cache={out / 'acoustic_cache'}",
        *args.overrides,
        f"model.head={head}",
        f"run_dir={out / head}",
    ]
    cfg = load_config(Stage1Config, args.config, overrides)
    if args.small_heads and head in SMALL_HEAD_OPTIONS:
        cfg.model.head_options = {**SMALL_HEAD_OPTIONS[head], **cfg.model.head_options}
    return cfg


def run_head(args, head: str) -> dict:
    import feature_extractor.training.train as stage1

    timer = StepTimer()
    row = {"head": head}
    try:
        cfg = head_config(args, head)
        if "extra_callbacks" in inspect.signature(stage1.train).parameters:
            summary = stage1.train(cfg, extra_callbacks=[timer])
        else:
            with extra_callbacks(stage1, [timer]):
                summary = stage1.train(cfg)
        test = summary.get("test") or {}
        row.update({key: test.get(key, float("nan")) for key in COLUMNS[1:6]})
    except Exception as error:  # one failing head must not hide the others' results
        traceback.print_exc()
        row["error"] = f"{type(error).__name__}: {error}"
    row.update(head_params=timer.head_params, trainable_params=timer.trainable_params, step_ms=timer.median_ms())
    return row


def write_tables(rows: list, out: Path, command: str) -> pd.DataFrame:
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "heads_comparison.csv", "w", encoding="utf-8", newline="") as handle:
        table.to_csv(handle, index=False)
    with atomic_open(out / "heads_comparison.md", "w", encoding="utf-8") as handle:
        handle.write(f"Command: `{command}`\n\n{markdown_table(table)}\n")
    return table


def markdown_table(table: pd.DataFrame) -> str:
    def cell(value, column):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if column in ("head_params", "trainable_params"):
            return f"{int(value):,}"
        if column == "step_ms":
            return f"{value:.0f}"
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    columns = [c for c in COLUMNS if c != "error" or table["error"].notna().any()]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, record in table.iterrows():
        lines.append("| " + " | ".join(cell(record[c], c) for c in columns) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train every stage-1 head on the same data; write one comparison table.")
    parser.add_argument("--config", required=True, help="stage-1 YAML config shared by all heads")
    parser.add_argument("--out", required=True, help="folder for the per-head runs and the tables")
    parser.add_argument("--heads", help="comma-separated head names (default: every registered head)")
    parser.add_argument("--small-heads", action="store_true", help="small head sizes for CPU demo runs")
    parser.add_argument("overrides", nargs="*", help="stage-1 key=value overrides applied to every head")
    args = parser.parse_args(argv)

    import_all_heads()
    heads = args.heads.split(",") if args.heads else sorted(HEADS)
    unknown = [name for name in heads if name not in HEADS]
    if unknown:
        parser.error(f"unknown head(s) {', '.join(unknown)}; available: {', '.join(sorted(HEADS))}")
    command = "python scripts/compare_heads.py " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = []
    for head in heads:
        print(f"== stage 1 with head {head} ==", flush=True)
        rows.append(run_head(args, head))
        table = write_tables(rows, Path(args.out), command)  # rewritten after every head
    print(markdown_table(table))
    return 1 if table["error"].notna().any() else 0


if __name__ == "__main__":
    sys.exit(main())
