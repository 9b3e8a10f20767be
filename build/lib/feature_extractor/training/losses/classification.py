"""Cross-entropy and focal loss against a target distribution (one-hot or soft)."""

import torch
import torch.nn.functional as F


def smooth_targets(targets: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    """Mix the targets with the uniform distribution, as torch's cross_entropy does."""
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing: expected a value in [0, 1), got {label_smoothing}")
    num_classes = targets.shape[1]
    return targets * (1.0 - label_smoothing) + label_smoothing / num_classes


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -sum_k q_k log p_k."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float) -> torch.Tensor:
    """Mean over the batch of -sum_k q_k (1 - p_k)^gamma log p_k; gamma = 0 is cross-entropy."""
    if gamma < 0:
        raise ValueError(f"focal_gamma: expected a value >= 0, got {gamma}")
    log_probs = F.log_softmax(logits, dim=1)
    modulation = (1.0 - log_probs.exp()).pow(gamma)
    return -(targets * modulation * log_probs).sum(dim=1).mean()
