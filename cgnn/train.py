"""Stage 3: train the contextual GNN on a conversation pickle.

    kemdy-stage3-train --config configs/stage3/default.yaml data.path=PICKLE run_dir=runs/stage3/NAME
    kemdy-stage3-train --help          (every config key, its type and default)

Plain PyTorch loop: batches of whole dialogues (smaller for a small corpus: the budget is in
optimizer steps, cgnn/budget.py), AdamW with a per-step warmup + cosine schedule (or Adam +
ReduceLROnPlateau on the dev loss, as COGMEN), model selection on dev weighted-F1 that never
prefers a model predicting (nearly) one class (cgnn/collapse.py), optional early stopping; the
summary names the context-free baseline on the same features (cgnn/baseline_report.py). Writes into run_dir: model.safetensors + config.json
(the best epoch), metrics.json (history, dev / test of the best epoch, provenance),
learning_curves.png, train_state.pt (for resume=true) and, with comet, an offline archive in comet/."""

import copy
import dataclasses
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from cgnn.batching import iterate_batches, max_speakers, prepare_dialogues
from cgnn.baseline_report import baseline_for, baseline_line
from cgnn.budget import Budget, training_budget
from cgnn.checkpoint import save_checkpoint
from cgnn.collapse import collapse_warning, selection_key, top_prediction
from cgnn.config import Stage3Config
from cgnn.conversation_pickle import concrete_modality, modality_dims, read_conversations
from cgnn.graph import speaker_limit
from cgnn.late_fusion import LateFusionGNN, choose_fusion_weights
from cgnn.model import build_model
from cgnn.predict_core import logits_by_dialogue
from cgnn.train_state import (
    STATE_FILE,
    check_same_run,
    error_line,
    load_train_state,
    run_identity,
    save_train_state,
)
from erc_core.cli import parse_config_command, run_command
from erc_core.config import to_dict
from erc_core.device import single_device
from erc_core.errors import UserError
from erc_core.files import file_sha256, write_json
from erc_core.metrics import classification_metrics, headline
from erc_core.plots import save_learning_curves
from erc_core.progress import progress as show_progress
from erc_core.progress import write_line
from erc_core.provenance import run_provenance
from erc_core.run_dir import prepare_run_dir
from erc_core.tracking import start_tracker
from erc_core.weights import load_state_strict

RUN_FILES = ("model.safetensors", "config.json", "metrics.json", STATE_FILE, "learning_curves.png", "comet")


# ---------------------------------------------------------------- setup


def set_seed(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by cuBLAS
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(deterministic)


def class_weight_vector(items, num_classes: int) -> torch.Tensor:
    """N / (K * count_c) over the labelled train utterances; absent classes get 0."""
    labels = torch.cat([item.labels for item in items])
    counts = torch.bincount(labels[labels >= 0], minlength=num_classes).float()
    weights = counts.sum() / (num_classes * counts.clamp(min=1))
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


# ---------------------------------------------------------------- one epoch / one evaluation


def train_epoch(model, items, optimizer, config: Stage3Config, rng, device, weights, scheduler=None,
                batch_size=None) -> float:
    """One pass over `items` in batches of `batch_size` (default data.batch_size); `scheduler`
    (a per-step schedule) is stepped after every update."""
    model.train()
    total, count = 0.0, 0
    for batch in iterate_batches(items, batch_size or config.data.batch_size, shuffle=True, rng=rng):
        batch = batch.to(device)
        labelled = int((batch.labels >= 0).sum())
        if labelled == 0:
            continue
        loss = sum(torch.nn.functional.cross_entropy(logits, batch.labels, weight=weights, ignore_index=-1)
                   for logits in model.branch_logits(batch))  # one term per late-fusion branch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.trainer.gradient_clip_val:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.trainer.gradient_clip_val)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * labelled
        count += labelled
    return total / max(count, 1)


def evaluate(model, items, label_names, batch_size, device, weights=None) -> dict:
    """Loss and metrics over the labelled utterances of `items`."""
    logits = torch.cat(logits_by_dialogue(model, items, batch_size, device))
    gold = torch.cat([item.labels for item in items])
    keep = gold >= 0
    if not keep.any():
        return {"n": 0}
    weight = weights.cpu() if weights is not None else None
    loss = torch.nn.functional.cross_entropy(logits[keep], gold[keep], weight=weight).item()
    metrics = classification_metrics(gold.numpy(), logits.argmax(-1).numpy(), label_names)
    return {"loss": loss, **metrics, "top_prediction": top_prediction(metrics, label_names)}


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class _Run:
    """Everything one training run works with."""
    config: Stage3Config
    data: object               # ConversationSet
    splits: dict               # split -> prepared dialogues
    model: torch.nn.Module     # ContextualGNN or LateFusionGNN (cgnn.model.build_model)
    optimizer: torch.optim.Optimizer
    scheduler: object
    rng: np.random.Generator
    device: torch.device
    weights: object            # class weights tensor or None
    checkpoint_info: dict
    identity: dict             # what a resume must share with this run (cgnn.train_state)
    budget: Budget             # epochs to run and optimizer steps per epoch (cgnn.budget)


@dataclasses.dataclass
class _Progress:
    best_f1: float
    best_epoch: int
    best_state: dict
    history: list
    epoch: int
    best_collapsed: bool = False  # the kept epoch predicted (nearly) one class on dev (cgnn.collapse)


def train(config: Stage3Config) -> dict:
    started = time.time()
    out = prepare_run_dir(config.run_dir, resume=config.resume, overwrite=config.overwrite,
                          produced=RUN_FILES, resume_from=STATE_FILE)
    if config.trainer.cpu_threads:
        torch.set_num_threads(config.trainer.cpu_threads)
    run = _setup(config)
    progress = _Progress(best_f1=-1.0, best_epoch=0, best_state=None, history=[], epoch=0, best_collapsed=True)
    if config.resume:
        progress = _restore(out / STATE_FILE, run)
    tracker = start_tracker(config.tracking, out)
    try:
        tracker.log_parameters(to_dict(config))
        _epochs(run, progress, tracker)
        summary = _finish(run, progress, started)
        tracker.log_metrics({f"{s}_{k}": v for s in ("dev", "test") if s in summary
                             for k, v in headline(summary[s]).items()}, step=progress.epoch)
        tracker.log_asset(out / "metrics.json")
    finally:
        tracker.end()  # an interrupted run still leaves its tracking archive
    return summary


def _epochs(run: _Run, progress: _Progress, tracker) -> None:
    """The epochs still to run, with progress by the toolkit's convention (erc_core/progress.py:
    trainer.progress_bar null = a bar on a terminal and a line every trainer.progress_every_s
    seconds in a log file) and the one-line epoch summary every print_every_n_epochs."""
    trainer, last = run.config.trainer, run.budget.epochs
    epochs = show_progress(range(progress.epoch + 1, last + 1), desc="stage 3 epochs",
                           initial=progress.epoch, mode=trainer.progress_bar, every_s=trainer.progress_every_s)
    try:
        for epoch in epochs:
            if should_stop(trainer, progress, last):
                break  # checked first, so a resumed run that had stopped stays stopped
            row = _train_one_epoch(run, progress, epoch)
            tracker.log_metrics(row, step=epoch)
            if epoch % trainer.print_every_n_epochs == 0 or epoch == last or should_stop(trainer, progress, last):
                write_line(_epoch_line(row, progress, last))
    finally:
        epochs.close()


def _epoch_line(row: dict, progress: _Progress, max_epochs: int) -> str:
    return (f"stage 3 epoch {row['epoch']:>3}/{max_epochs}  train loss {row['train_loss']:.4f}  "
            f"dev loss {row['dev_loss']:.4f}  dev wF1 {100 * row['dev_weighted_f1']:.2f}  "
            f"best {100 * progress.best_f1:.2f} @ {progress.best_epoch}")


def should_stop(trainer, progress, epochs: int | None = None) -> bool:
    """Early stopping never ends a run in its first `early_stopping_start` of its `epochs` (default
    trainer.max_epochs), so a model still stuck at its start (e.g. predicting the majority class)
    is not the one kept."""
    epochs = epochs or trainer.max_epochs
    if not trainer.early_stopping_patience or progress.epoch < trainer.early_stopping_start * epochs:
        return False
    return progress.epoch - progress.best_epoch >= trainer.early_stopping_patience


def build_optimizer(model, optim) -> torch.optim.Optimizer:
    chosen = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[optim.name]
    return chosen(model.parameters(), lr=optim.lr, weight_decay=optim.weight_decay)


def build_scheduler(optimizer, optim, total_steps: int):
    """plateau: ReduceLROnPlateau, stepped on the dev loss once per epoch. Otherwise a LambdaLR
    stepped after every optimizer step: linear warmup over `warmup` of all steps, then cosine or
    linear decay that reaches 0 just after the last step (or constant)."""
    if optim.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=optim.scheduler_factor, patience=optim.scheduler_patience)
    decay = {"cosine": lambda done: 0.5 * (1 + math.cos(math.pi * done)), "linear": lambda done: 1 - done,
             "constant": lambda done: 1.0}[optim.scheduler]
    warmup = round(optim.warmup * total_steps)

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return decay(min(1.0, (step - warmup) / max(1, total_steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _setup(config: Stage3Config) -> _Run:
    set_seed(config.seed, config.trainer.deterministic)
    device = single_device(config.trainer.accelerator, config.trainer.devices)
    data = read_conversations(config.data.path)
    config.data.modality = concrete_modality(config.data.modality, data.feature_dims)
    dims = modality_dims(data.feature_dims, config.data.modality)
    speakers = config.model.num_speakers or len(config.model.speaker_map) or max_speakers(data.dialogues)
    splits = _prepared_splits(data, config, speakers)
    model = build_model(config.model, list(dims.values()), len(data.label_names), speakers).to(device)
    optimizer = build_optimizer(model, config.optim)
    budget = training_budget(len(splits["train"]), config.data.batch_size, config.trainer.max_epochs,
                             config.data.min_batches_per_epoch, config.trainer.min_steps)
    scheduler = build_scheduler(optimizer, config.optim, budget.steps)
    weights = class_weight_vector(splits["train"], len(data.label_names)).to(device) \
        if config.loss.class_weights else None
    info = dict(modality=config.data.modality, feature_dims=dims, label_names=data.label_names,
                num_speakers=speakers, train_config=to_dict(config),
                data={"path": str(config.data.path), "pickle_config": data.config},
                provenance=run_provenance(config.seed, device))
    identity = run_identity(config, file_sha256(config.data.path), dims, data.label_names, speakers)
    return _Run(config, data, splits, model, optimizer, scheduler, np.random.default_rng(config.seed),
                device, weights, info, identity, budget)


def _train_one_epoch(run: _Run, progress, epoch: int) -> dict:
    """Train, evaluate dev, step the scheduler, keep the best weights, save the resume state."""
    config, out = run.config, Path(run.config.run_dir)
    per_step = None if config.optim.scheduler == "plateau" else run.scheduler
    train_loss = train_epoch(run.model, run.splits["train"], run.optimizer, config, run.rng, run.device,
                             run.weights, per_step, run.budget.batch_size)
    if isinstance(run.model, LateFusionGNN):
        choose_fusion_weights(run.model, run.splits["dev"], config.data.batch_size, run.device)
    dev = evaluate(run.model, run.splits["dev"], run.data.label_names, config.data.batch_size, run.device,
                   run.weights)
    if per_step is None:
        run.scheduler.step(dev["loss"])
    row = {"epoch": epoch, "train_loss": train_loss, "dev_loss": dev["loss"], "dev_accuracy": dev["accuracy"],
           "dev_weighted_f1": dev["weighted_f1"], "dev_macro_f1": dev["macro_f1"],
           "dev_top_class_share": dev["top_prediction"]["share"], "lr": run.optimizer.param_groups[0]["lr"]}
    progress.history.append(row)
    progress.epoch = epoch
    collapsed = dev["top_prediction"]["collapsed"]
    if selection_key(dev["weighted_f1"], collapsed) > selection_key(progress.best_f1, progress.best_collapsed):
        progress.best_f1, progress.best_epoch, progress.best_collapsed = dev["weighted_f1"], epoch, collapsed
        progress.best_state = copy.deepcopy({k: v.cpu() for k, v in run.model.state_dict().items()})
        save_checkpoint(out, run.model, metrics={"best_epoch": epoch, "dev": headline(dev)}, **run.checkpoint_info)
    _save_state(out / STATE_FILE, run, progress)
    write_json(out / "metrics.json", {"status": "running", "history": progress.history})
    return row


def _finish(run: _Run, progress, started) -> dict:
    """Best weights -> dev / test metrics -> final checkpoint, metrics.json and learning curves."""
    config, out = run.config, Path(run.config.run_dir)
    run.model.load_state_dict(progress.best_state)
    final = {split: evaluate(run.model, items, run.data.label_names, config.data.batch_size, run.device)
             for split, items in run.splits.items() if split in ("dev", "test") and items}
    best = {"best_epoch": progress.best_epoch, **{s: headline(m) for s, m in final.items()}}
    save_checkpoint(out, run.model, metrics=best, **run.checkpoint_info)
    collapse = {**final["dev"]["top_prediction"], "rule": "cgnn/collapse.py"} if "dev" in final else None
    summary = {"status": "finished", "best_epoch": progress.best_epoch, "epochs_run": progress.epoch,
               "epochs_planned": run.budget.epochs, "batch_size": run.budget.batch_size,
               "optimizer_steps": progress.epoch * run.budget.steps_per_epoch,
               "collapse": collapse,
               "device": str(run.device), "seconds": round(time.time() - started, 2),
               "num_speakers": run.checkpoint_info["num_speakers"], "modality": config.data.modality,
               "provenance": run.checkpoint_info["provenance"],
               "data_provenance": run.data.config.get("provenance"),
               "history": progress.history, **final}
    if config.baseline:
        summary["context_free_baseline"] = baseline_for(config.data.path, config.data.modality, run.data)
    write_json(out / "metrics.json", summary)
    save_learning_curves(progress.history, out / "learning_curves.png", title=f"stage 3: {out.name}",
                         best_epoch=progress.best_epoch)
    return summary


def _prepared_splits(data, config: Stage3Config, speakers) -> dict:
    splits = {name: data.in_split(name) for name in ("train", "dev", "test")}
    for name in ("train", "dev"):
        labelled = sum(int((d["labels"] >= 0).sum()) for d in splits[name])
        if not labelled:
            raise UserError(f"{data.source}: no labelled '{name}' utterances; training needs labelled "
                            "train and dev splits (dev drives model selection)")
    if config.data.max_train_dialogues:
        splits["train"] = splits["train"][: config.data.max_train_dialogues]
    model = config.model
    limit = speaker_limit(model.relations, speakers)
    return {name: prepare_dialogues(dialogues, config.data.modality, limit, model.wp, model.wf, model.speaker_map)
            for name, dialogues in splits.items()}


# ---------------------------------------------------------------- resume state


def _save_state(path, run: _Run, progress: _Progress) -> None:
    """Everything to continue the run; tensors and plain values only (torch.load weights_only)."""
    state = {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
             "scheduler": run.scheduler.state_dict(), "numpy_rng": run.rng.bit_generator.state,
             "torch_rng": torch.get_rng_state(), "progress": dataclasses.asdict(progress), "run": run.identity}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    save_train_state(path, state)


def _restore(path, run: _Run) -> _Progress:
    state = load_train_state(path)
    check_same_run(path, state.get("run"), run.identity)
    load_state_strict(run.model, state["model"], str(path))
    try:
        run.optimizer.load_state_dict(state["optimizer"])
        run.scheduler.load_state_dict(state["scheduler"])
        run.rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return _Progress(**state["progress"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise UserError(f"{path}: the saved optimizer / scheduler / progress do not fit this run "
                        f"({error_line(error)}); start anew (overwrite=true or another run_dir)") from None


# ---------------------------------------------------------------- command line


def summary_line(run_dir, summary: dict) -> str:
    parts = [f"best epoch {summary['best_epoch']}"]
    for split in ("dev", "test"):
        metrics = summary.get(split) or {}
        if metrics.get("n"):
            parts.append(f"{split} acc {100 * metrics['accuracy']:.2f} wF1 {100 * metrics['weighted_f1']:.2f} "
                         f"mF1 {100 * metrics['macro_f1']:.2f}")
    lines = [f"stage 3 done: {run_dir}: " + " | ".join(parts)]
    collapse = summary.get("collapse") or {}
    if collapse.get("collapsed"):
        lines.append(collapse_warning(collapse))
    if summary.get("context_free_baseline"):
        split = "test" if (summary.get("test") or {}).get("n") else "dev"
        lines.append(baseline_line(summary["context_free_baseline"], summary.get(split) or {}, split))
    return "\n".join(lines)


def _main(argv) -> int:
    config, _ = parse_config_command(Stage3Config, __doc__, argv)
    if config is None:
        return 0
    print(summary_line(config.run_dir, train(config)))
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
