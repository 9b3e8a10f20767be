"""Stage-1 training logic for Lightning: loss, optimiser + schedule, dev/test metrics.

Evaluation gathers (dataset index, prediction, label) from every rank, drops the duplicates the
distributed sampler pads with, and computes the metrics once on the complete split, so the numbers
are the same on one device or many.
"""

import math

import lightning.pytorch as pl
import numpy as np
import torch
import torch.distributed as dist

from erc_core.metrics import classification_metrics, va_metrics
from feature_extractor.extractor import AudioTextExtractor
from feature_extractor.training.losses.loss import compute_loss

NO_DECAY = ("bias", "norm", "layer_norm", "layernorm")


class Stage1Module(pl.LightningModule):
    def __init__(self, model: AudioTextExtractor, loss_cfg, optim_cfg, label_names):
        super().__init__()
        self.model = model
        self.loss_cfg = loss_cfg
        self.optim_cfg = optim_cfg
        self.label_names = list(label_names)
        self.last_metrics = {}  # split -> metrics of the latest evaluation
        self.last_records = {}  # split -> gathered records (index, label, pred, probs) of it
        self._outputs = []
        self._train_loss = [0.0, 0]  # sum over this epoch's batches on this rank, batch count

    def _loss(self, batch, output):
        soft = batch.get("soft_labels") if self.loss_cfg.target != "hard" else None
        va = batch.get("va") if self.loss_cfg.regression != "none" else None
        return compute_loss(output, batch["labels"], soft, va, self.loss_cfg)

    def training_step(self, batch, batch_idx):
        output, _ = self.model(batch)
        loss = self._loss(batch, output)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["labels"]))
        self._train_loss[0] += float(loss.detach())
        self._train_loss[1] += 1
        return loss

    def epoch_train_loss(self) -> float | None:
        """Mean training loss of the current epoch's batches on this rank (None before any)."""
        total, count = self._train_loss
        return total / count if count else None

    def on_train_epoch_start(self):
        self._train_loss = [0.0, 0]
        batch_sampler = getattr(self.trainer.train_dataloader, "batch_sampler", None)
        if hasattr(batch_sampler, "set_epoch"):
            batch_sampler.set_epoch(self.current_epoch)

    # -- evaluation ----------------------------------------------------------------------------
    def validation_step(self, batch, batch_idx):
        self._collect(batch)

    def test_step(self, batch, batch_idx):
        self._collect(batch)

    def on_validation_epoch_end(self):
        self._finish_evaluation("dev")

    def on_test_epoch_end(self):
        self._finish_evaluation("test")

    def _collect(self, batch):
        output, _ = self.model(batch)
        probs = torch.softmax(output.logits.float(), dim=-1)
        record = {
            "index": batch["index"].cpu().numpy(),
            "pred": probs.argmax(dim=-1).cpu().numpy(),
            "probs": probs.cpu().numpy(),
            "label": batch["labels"].cpu().numpy(),
        }
        if output.va is not None and "va" in batch:
            record["va_pred"] = output.va.float().cpu().numpy()
            record["va_true"] = batch["va"].cpu().numpy()
        self._outputs.append(record)

    def _finish_evaluation(self, split: str):
        records = gather_records(self._outputs)
        self._outputs = []
        if self.trainer.sanity_checking or not records["index"].size:
            return
        metrics = classification_metrics(records["label"], records["pred"], self.label_names)
        if "va_pred" in records:
            metrics.update(va_metrics(records["va_pred"], records["va_true"]))
        self.last_metrics[split] = metrics
        self.last_records[split] = records
        # Every rank computed the same numbers from the gathered records; sync_dist averages
        # identical values (a no-op) and keeps Lightning's distributed-logging check satisfied.
        for key, value in metrics.items():
            if isinstance(value, float):
                self.log(f"{split}/{key}", value, prog_bar=key == "weighted_f1", sync_dist=True)

    # -- optimisation --------------------------------------------------------------------------
    def configure_optimizers(self):
        cfg = self.optim_cfg
        encoder_ids = {id(p) for p in self.model.encoder_parameters()}
        groups = {}
        for name, param in self.model.named_parameters():
            if not param.requires_grad:
                continue
            part = "encoder" if id(param) in encoder_ids else "head"
            decay = "no_decay" if any(word in name.lower() for word in NO_DECAY) else "decay"
            groups.setdefault((part, decay), []).append(param)
        head_lr = cfg.head_lr if cfg.head_lr is not None else cfg.lr
        param_groups = [
            {"params": params, "lr": cfg.lr if part == "encoder" else head_lr,
             "weight_decay": cfg.weight_decay if decay == "decay" else 0.0}
            for (part, decay), params in sorted(groups.items())
        ]
        optimizer = torch.optim.AdamW(param_groups)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(math.ceil(cfg.warmup_ratio * total))
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_then_linear_decay(step, warmup, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def warmup_then_linear_decay(step: int, warmup: int, total: int) -> float:
    """LR multiplier: 0 -> 1 linearly over `warmup` steps, then 1 -> 0 linearly at `total`."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.0, (total - step) / max(1, total - warmup))


def gather_records(outputs: list[dict]) -> dict:
    """Concatenate this rank's evaluation records, all-gather them across ranks, keep one row per
    dataset index (sorted), dropping the sampler's padding duplicates."""
    local = {key: np.concatenate([record[key] for record in outputs]) for key in (outputs[0] if outputs else {})}
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, local)
        parts = [part for part in everyone if part]
        local = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} if parts else {}
    if not local:
        return {"index": np.zeros(0, dtype=np.int64)}
    _, first = np.unique(local["index"], return_index=True)
    return {key: values[first] for key, values in local.items()}
