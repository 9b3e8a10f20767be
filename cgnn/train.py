"""Train the stage-3 contextual GNN on a conversation pickle.

    python -m cgnn.train --config configs/stage3/default.yaml data=data/demo_features.pkl modality=at

Plain PyTorch loop: batches of whole dialogues, AdamW with a per-step warmup + cosine schedule
(or Adam + ReduceLROnPlateau on the dev loss, as COGMEN), model selection on dev weighted-F1,
optional early stopping. Writes into `out`: model.safetensors + config.json
(the best epoch), metrics.json, train_state.pt (for `resume=true`) and, with comet, an offline
archive under comet/."""

import argparse
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
from tqdm import tqdm

from cgnn.atomic import atomic_path, write_json
from cgnn.batching import iterate_batches, max_speakers, prepare_dialogues
from cgnn.checkpoint import save_checkpoint
from cgnn.config import load_config, to_dict
from cgnn.conversation_pickle import modality_dims, read_conversations
from cgnn.metrics import classification_metrics
from cgnn.model import ContextualGNN, ModelConfig
from cgnn.predict_core import logits_by_dialogue
from cgnn.tracking import start_tracker

STATE_FILE = "train_state.pt"


@dataclasses.dataclass
class TrainConfig:
    data: str = "data/demo_features.pkl"
    out: str = "runs/stage3"
    modality: str = "all"           # all (every one-letter feature of the pickle), a feature name
                                    # (fused) or one-letter names (a, t, at, atp)
    num_speakers: int = 0           # 0 = len(model.speaker_map), else the most speakers in any dialogue
    epochs: int = 55                # COGMEN's IEMOCAP recipe
    batch_size: int = 32            # dialogues per batch (COGMEN default)
    optimizer: str = "adamw"        # adamw | adam
    lr: float = 1e-3                # peak learning rate
    weight_decay: float = 1e-2
    scheduler: str = "cosine"       # cosine | linear | constant (per step, after warmup) | plateau
    warmup: float = 0.1             # fraction of all optimizer steps with a linear warmup from 0
    max_grad_norm: float = 0.0      # 0 = no clipping
    class_weights: bool = False     # inverse class frequency on the train split
    scheduler_factor: float = 0.1   # plateau: ReduceLROnPlateau on dev loss (torch defaults, as COGMEN)
    scheduler_patience: int = 10
    early_stopping: int = 0         # epochs without a better dev weighted-F1; 0 = off
    early_stopping_start: float = 0.5  # ... and never before this fraction of `epochs`
    seed: int = 24
    deterministic: bool = False     # torch.use_deterministic_algorithms
    device: str = "auto"            # auto | cpu | cuda | cuda:1 | mps
    tracking: str = "auto"          # auto | comet | none
    comet_project: str = "kemdy-erc-stage3"
    progress: bool = True
    resume: bool = False            # continue from <out>/train_state.pt if present
    max_train_dialogues: int = 0    # quick runs: use only the first N train dialogues
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)


# ---------------------------------------------------------------- setup


def choose_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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


def train_epoch(model, items, optimizer, config: TrainConfig, rng, device, weights, scheduler=None) -> float:
    """One pass over `items`; `scheduler` (a per-step schedule) is stepped after every update."""
    model.train()
    total, count = 0.0, 0
    for batch in iterate_batches(items, config.batch_size, shuffle=True, rng=rng):
        batch = batch.to(device)
        labelled = int((batch.labels >= 0).sum())
        if labelled == 0:
            continue
        loss = torch.nn.functional.cross_entropy(model(batch), batch.labels, weight=weights, ignore_index=-1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
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
        return {"labelled": 0}
    weight = weights.cpu() if weights is not None else None
    loss = torch.nn.functional.cross_entropy(logits[keep], gold[keep], weight=weight).item()
    result = classification_metrics(gold.numpy(), logits.argmax(-1).numpy(), label_names)
    return {"loss": loss, **result}


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class _Run:
    """Everything one training run works with."""
    config: TrainConfig
    data: object               # ConversationSet
    splits: dict               # split -> prepared dialogues
    model: ContextualGNN
    optimizer: torch.optim.Optimizer
    scheduler: object
    rng: np.random.Generator
    device: torch.device
    weights: object            # class weights tensor or None
    checkpoint_info: dict


@dataclasses.dataclass
class _Progress:
    best_f1: float
    best_epoch: int
    best_state: dict
    history: list
    epoch: int


def train(config: TrainConfig) -> dict:
    if config.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {config.epochs}")
    started = time.time()
    run = _setup(config)
    out = Path(config.out)
    progress = _Progress(best_f1=-1.0, best_epoch=0, best_state=None, history=[], epoch=0)
    if config.resume and (out / STATE_FILE).is_file():
        progress = _restore(out / STATE_FILE, run)
    tracker = start_tracker(config.tracking, out, config.comet_project, name=out.name)
    try:
        tracker.log_parameters(to_dict(config))
        bar = tqdm(range(progress.epoch + 1, config.epochs + 1), desc="stage 3",
                   disable=not config.progress, file=sys.stderr)
        for epoch in bar:
            if _should_stop(config, progress):
                break  # checked first, so a resumed run that had stopped stays stopped
            row = _train_one_epoch(run, progress, epoch)
            tracker.log_metrics(row, step=epoch)
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", dev_wf1=f"{row['dev_weighted_f1']:.4f}",
                            best=f"{progress.best_f1:.4f}@{progress.best_epoch}")
        summary = _finish(run, progress, started)
        tracker.log_metrics({f"{s}_{k}": v for s in ("dev", "test") if s in summary
                             for k, v in _headline(summary[s]).items()}, step=progress.epoch)
        tracker.log_asset(out / "metrics.json")
    finally:
        tracker.end()  # an interrupted run still leaves its tracking archive
    return summary


def _setup(config: TrainConfig) -> _Run:
    set_seed(config.seed, config.deterministic)
    device = choose_device(config.device)
    data = read_conversations(config.data)
    config = dataclasses.replace(config, modality=_concrete_modality(config.modality, data.feature_dims))
    dims = modality_dims(data.feature_dims, config.modality)
    speakers = config.num_speakers or len(config.model.speaker_map) or max_speakers(data.dialogues)
    splits = _prepared_splits(data, config, speakers)
    model = ContextualGNN(config.model, sum(dims.values()), len(data.label_names), speakers).to(device)
    optimizer = _optimizer(model, config)
    scheduler = _scheduler(optimizer, config, steps_per_epoch=math.ceil(len(splits["train"]) / config.batch_size))
    weights = class_weight_vector(splits["train"], len(data.label_names)).to(device) \
        if config.class_weights else None
    info = dict(modality=config.modality, feature_dims=dims, label_names=data.label_names,
                num_speakers=speakers, train_config=to_dict(config),
                data={"path": str(config.data), "pickle_config": data.config})
    return _Run(config, data, splits, model, optimizer, scheduler, np.random.default_rng(config.seed),
                device, weights, info)


def _train_one_epoch(run: _Run, progress, epoch: int) -> dict:
    """Train, evaluate dev, step the scheduler, keep the best weights, save the resume state."""
    config, out = run.config, Path(run.config.out)
    per_step = None if config.scheduler == "plateau" else run.scheduler
    train_loss = train_epoch(run.model, run.splits["train"], run.optimizer, config, run.rng, run.device,
                             run.weights, per_step)
    dev = evaluate(run.model, run.splits["dev"], run.data.label_names, config.batch_size, run.device,
                   run.weights)
    if per_step is None:
        run.scheduler.step(dev["loss"])
    row = {"epoch": epoch, "train_loss": train_loss, "dev_loss": dev["loss"], "dev_accuracy": dev["accuracy"],
           "dev_weighted_f1": dev["weighted_f1"], "dev_macro_f1": dev["macro_f1"],
           "lr": run.optimizer.param_groups[0]["lr"]}
    progress.history.append(row)
    progress.epoch = epoch
    if dev["weighted_f1"] > progress.best_f1:
        progress.best_f1, progress.best_epoch = dev["weighted_f1"], epoch
        progress.best_state = copy.deepcopy({k: v.cpu() for k, v in run.model.state_dict().items()})
        save_checkpoint(out, run.model, metrics={"best_epoch": epoch, "dev": _headline(dev)},
                        **run.checkpoint_info)
    _save_state(out / STATE_FILE, run, progress)
    write_json(out / "metrics.json", {"status": "running", "history": progress.history})
    return row


def _finish(run: _Run, progress, started) -> dict:
    """Best weights -> dev / test metrics -> final checkpoint and metrics.json."""
    config, out = run.config, Path(run.config.out)
    run.model.load_state_dict(progress.best_state)
    final = {split: evaluate(run.model, items, run.data.label_names, config.batch_size, run.device)
             for split, items in run.splits.items() if split in ("dev", "test") and items}
    headline = {"best_epoch": progress.best_epoch, **{s: _headline(m) for s, m in final.items()}}
    save_checkpoint(out, run.model, metrics=headline, **run.checkpoint_info)
    summary = {"status": "finished", "best_epoch": progress.best_epoch, "epochs_run": progress.epoch,
               "device": str(run.device), "seconds": round(time.time() - started, 2),
               "num_speakers": run.checkpoint_info["num_speakers"], "modality": config.modality,
               "history": progress.history, **final}
    write_json(out / "metrics.json", summary)
    return summary


def _prepared_splits(data, config, speakers) -> dict:
    splits = {name: data.in_split(name) for name in ("train", "dev", "test")}
    for name in ("train", "dev"):
        labelled = sum(int((d["labels"] >= 0).sum()) for d in splits[name])
        if not labelled:
            raise ValueError(f"{data.source}: no labelled '{name}' utterances; training needs labelled "
                             "train and dev splits (dev drives model selection)")
    if config.max_train_dialogues:
        splits["train"] = splits["train"][: config.max_train_dialogues]
    window = config.model
    return {name: prepare_dialogues(dialogues, config.modality, speakers, window.wp, window.wf, window.speaker_map)
            for name, dialogues in splits.items()}


def _concrete_modality(modality: str, feature_dims: dict) -> str:
    """`all` -> every one-letter feature of the pickle in its order (a COGMEN import: t, at, atv;
    a stage-2 pickle: t, a, p but not the derived `fused`), or its only feature."""
    if modality != "all":
        return modality
    letters = "".join(name for name in feature_dims if len(name) == 1)
    if letters:
        return letters
    if len(feature_dims) == 1:
        return next(iter(feature_dims))
    raise ValueError(f"modality 'all': no one-letter features in {list(feature_dims)}; name one of them")


def _optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    optimizers = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
    if config.optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; expected one of {', '.join(optimizers)}")
    return optimizers[config.optimizer](model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _scheduler(optimizer, config: TrainConfig, steps_per_epoch: int):
    """plateau: ReduceLROnPlateau stepped on the dev loss once per epoch. Otherwise a LambdaLR
    stepped after every optimizer step: linear warmup over `warmup` of all steps, then cosine or
    linear decay that reaches 0 just after the last step (or constant)."""
    if config.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.scheduler_factor, patience=config.scheduler_patience)
    decays = {"cosine": lambda done: 0.5 * (1 + math.cos(math.pi * done)), "linear": lambda done: 1 - done,
              "constant": lambda done: 1.0}
    if config.scheduler not in decays:
        raise ValueError(f"unknown scheduler {config.scheduler!r}; expected plateau or {', '.join(decays)}")
    total = config.epochs * steps_per_epoch
    warmup = round(config.warmup * total)

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return decays[config.scheduler](min(1.0, (step - warmup) / max(1, total - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _should_stop(config: TrainConfig, progress) -> bool:
    """Early stopping never ends a run in its first `early_stopping_start` of the epochs, so a
    model still stuck at its start (e.g. predicting the majority class) is not the one kept."""
    if not config.early_stopping or progress.epoch < config.early_stopping_start * config.epochs:
        return False
    return progress.epoch - progress.best_epoch >= config.early_stopping


def _headline(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("loss", "accuracy", "weighted_f1", "macro_f1", "labelled") if k in metrics}


# ---------------------------------------------------------------- resume state


def _save_state(path, run: _Run, progress: _Progress) -> None:
    """Everything to continue the run; tensors and plain values only (torch.load weights_only)."""
    state = {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
             "scheduler": run.scheduler.state_dict(), "numpy_rng": run.rng.bit_generator.state,
             "torch_rng": torch.get_rng_state(), "progress": dataclasses.asdict(progress)}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _restore(path, run: _Run) -> _Progress:
    state = torch.load(path, map_location="cpu", weights_only=True)
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return _Progress(**state["progress"])


# ---------------------------------------------------------------- command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file (configs/stage3/*.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. modality=t model.wp=-1")
    args = parser.parse_args(argv)
    config = load_config(TrainConfig, args.config, args.overrides)
    summary = train(config)
    parts = [f"best epoch {summary['best_epoch']}"]
    for split in ("dev", "test"):
        if split in summary and summary[split].get("labelled"):
            m = summary[split]
            parts.append(f"{split} acc {100 * m['accuracy']:.2f} wF1 {100 * m['weighted_f1']:.2f} "
                         f"mF1 {100 * m['macro_f1']:.2f}")
    print(f"{config.out}: " + " | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
