"""The stage-1 training loss: emotion classification (hard, soft or PeakL targets; CE or focal),
optionally plus valence/arousal regression (MSE or 1 - CCC).

    loss = compute_loss(head_output, labels, soft_labels, va_targets, LossConfig(target="peakl"))

With `regression != "none"` the loss is
`classification_weight * classification + regression_weight * regression` (0.7 / 0.3 by default,
as in the Tensor Mixer Network system); otherwise it is the classification term alone.
"""

from typing import Optional

import torch
import torch.nn.functional as F

from feature_extractor.heads.base import HeadOutput
from feature_extractor.training.config import LossConfig  # the schema lives with the other stage-1 keys
from feature_extractor.training.losses.classification import focal_loss, smooth_targets, soft_cross_entropy
from feature_extractor.training.losses.regression import regression_loss
from feature_extractor.training.losses.soft_targets import normalised_distribution, peakl_targets


def compute_loss(
    output: HeadOutput,
    labels: torch.Tensor,
    soft_labels: Optional[torch.Tensor],
    va_targets: Optional[torch.Tensor],
    cfg: LossConfig,
) -> torch.Tensor:
    """Scalar training loss for one batch (see the module docstring)."""
    classification = classification_loss(output.logits, labels, soft_labels, cfg)
    regression_kind = cfg.regression
    if regression_kind == "auto":
        regression_kind = "mse" if output.va is not None else "none"
    if regression_kind == "none":
        return classification
    if output.va is None:
        raise ValueError(f"loss.regression={cfg.regression!r} needs valence/arousal outputs: build the head with predict_va=True")
    if va_targets is None:
        raise ValueError(f"loss.regression={cfg.regression!r} needs valence/arousal targets, got None")
    _check_va_targets(va_targets, output.va)
    regression = regression_loss(output.va, va_targets.to(output.va.device), regression_kind)
    return cfg.classification_weight * classification + cfg.regression_weight * regression


def classification_loss(logits, labels, soft_labels, cfg: LossConfig) -> torch.Tensor:
    logits = logits.float()  # the loss is computed in float32 even under bf16 autocast
    targets = target_distribution(labels, soft_labels, cfg, num_classes=logits.shape[1])
    targets = smooth_targets(targets.to(logits.device), cfg.label_smoothing)
    if cfg.kind == "focal":
        return focal_loss(logits, targets, cfg.focal_gamma)
    return soft_cross_entropy(logits, targets)


def target_distribution(labels, soft_labels, cfg: LossConfig, num_classes: int) -> torch.Tensor:
    """[B, K] targets: one-hot labels, the rater distribution, or its PeakL sharpening."""
    if cfg.target == "hard":
        _check_labels(labels, num_classes)
        return F.one_hot(labels.long(), num_classes).float()
    if soft_labels is None:
        raise ValueError(f"loss.target={cfg.target!r} needs rater soft labels (soft_neutral..soft_fear), got None")
    if cfg.target == "peakl":
        return peakl_targets(soft_labels, num_classes)
    return normalised_distribution(soft_labels.float(), num_classes)


def _check_labels(labels: torch.Tensor, num_classes: int) -> None:
    bad = ((labels < 0) | (labels >= num_classes)).nonzero().flatten().tolist()
    if bad:
        values = labels[bad].tolist()
        raise ValueError(f"labels: batch rows {bad} have labels {values}; expected class ids in 0..{num_classes - 1}")


def _check_va_targets(va_targets: torch.Tensor, va_pred: torch.Tensor) -> None:
    if va_targets.shape != va_pred.shape:
        raise ValueError(f"va_targets: expected shape {tuple(va_pred.shape)} (valence, arousal), got {tuple(va_targets.shape)}")


__all__ = [
    "LossConfig",
    "compute_loss",
    "classification_loss",
    "target_distribution",
    "peakl_targets",
]
