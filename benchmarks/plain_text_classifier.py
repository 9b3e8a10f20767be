"""The plain-loop reference for stage 1 text-only fine-tuning: no Lightning, no toolkit training code.

A Hugging Face encoder (AutoModel) + mean pooling over real tokens + one linear layer, AdamW
(no decay on biases and LayerNorms), linear warmup over `warmup_ratio` of the steps then linear
decay, shuffled batches of `batch_size`, dev weighted-F1 after every epoch, the best dev epoch's
weights scored on test. The text input is built by the toolkit's own rule (dialogue_context.py),
so the two loops see the same token ids; what differs is everything else. Used by
pipeline_real_text.py for the accuracy level and the epoch-time ratio of stage 1."""

import copy
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

from erc_core.device import choose_device
from feature_extractor.inputs.dialogue_context import ContextWindow, encode_with_context, with_dialogue_context


@dataclass
class PlainSettings:
    epochs: int = 4
    batch_size: int = 32
    eval_batch_size: int = 64
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_tokens: int = 128
    context: ContextWindow = ContextWindow()
    seed: int = 0
    device: str = "auto"


class MeanPooledClassifier(torch.nn.Module):
    def __init__(self, folder, num_classes: int):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(folder)
        self.classifier = torch.nn.Linear(self.encoder.config.hidden_size, num_classes)

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return self.classifier((hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0))


def run_plain_loop(folder, table: pd.DataFrame, num_classes: int, settings: PlainSettings) -> dict:
    """{'dev_history', 'best_epoch', 'dev', 'test' (weighted-F1 in %), 'train_seconds' per epoch}."""
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    splits = {name: _encoded(tokenizer, rows, settings) for name, rows in _splits(table, settings.context).items()}
    device = choose_device(settings.device)
    model = MeanPooledClassifier(folder, num_classes).to(device)
    optimizer = torch.optim.AdamW(_parameter_groups(model, settings.weight_decay), lr=settings.lr)
    steps = settings.epochs * -(-len(splits["train"][1]) // settings.batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup_ratio * steps), steps)
    rng = np.random.default_rng(settings.seed)
    history, seconds, best = [], [], (-1.0, None, None)
    for epoch in range(settings.epochs):
        started = time.perf_counter()
        _train_epoch(model, tokenizer, splits["train"], optimizer, scheduler, settings.batch_size, rng)
        _synchronize(device)
        seconds.append(time.perf_counter() - started)
        dev = _weighted_f1(model, tokenizer, splits["dev"], settings.eval_batch_size)
        history.append(dev)
        if dev > best[0]:
            best = (dev, epoch, copy.deepcopy(model.state_dict()))
    model.load_state_dict(best[2])
    test = _weighted_f1(model, tokenizer, splits["test"], settings.eval_batch_size)
    return {"dev_history": history, "best_epoch": best[1] + 1, "dev": best[0], "test": test, "train_seconds": seconds}


def _splits(table: pd.DataFrame, context: ContextWindow) -> dict:
    table = with_dialogue_context(table, context)
    return {name: table[table["split"] == name] for name in ("train", "dev", "test")}


def _encoded(tokenizer, rows: pd.DataFrame, settings: PlainSettings):
    if settings.context.enabled:
        ids = [encode_with_context(tokenizer, text, before, after, settings.max_tokens)
               for text, before, after in zip(rows["text"], rows["context_before"], rows["context_after"])]
    else:
        ids = tokenizer(rows["text"].tolist(), truncation=True, max_length=settings.max_tokens)["input_ids"]
    return ids, rows["label"].to_numpy()


def _parameter_groups(model, weight_decay: float) -> list:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "norm" in name.lower() else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _batch(tokenizer, ids, rows, device) -> dict:
    return tokenizer.pad({"input_ids": [ids[k] for k in rows]}, padding=True, return_tensors="pt").to(device)


def _synchronize(device) -> None:
    if device.type == "cuda":  # kernels run asynchronously: time the work, not its launch
        torch.cuda.synchronize(device)


def _train_epoch(model, tokenizer, data, optimizer, scheduler, batch_size: int, rng) -> None:
    ids, labels = data
    model.train()
    order, device = rng.permutation(len(ids)), _device_of(model)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = _batch(tokenizer, ids, rows, device)
        loss = torch.nn.functional.cross_entropy(model(batch["input_ids"], batch["attention_mask"]),
                                                 torch.as_tensor(labels[rows], device=device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


def _weighted_f1(model, tokenizer, data, batch_size: int) -> float:
    ids, labels = data
    model.eval()
    predicted, device = [], _device_of(model)
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            batch = _batch(tokenizer, ids, range(start, min(start + batch_size, len(ids))), device)
            predicted.append(model(batch["input_ids"], batch["attention_mask"]).argmax(1).cpu().numpy())
    return 100 * f1_score(labels, np.concatenate(predicted), average="weighted")


def _device_of(model) -> torch.device:
    return next(model.parameters()).device
