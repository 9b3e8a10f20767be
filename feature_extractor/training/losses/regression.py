"""Valence/arousal regression: concordance correlation coefficient (CCC) and its losses."""

import torch

VA_NAMES = ("valence", "arousal")


def concordance_correlation(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Lin's CCC of two vectors [N] (population moments): 2 cov / (var_p + var_t + (mu_p - mu_t)^2)."""
    if pred.shape != target.shape or pred.dim() != 1:
        raise ValueError(f"concordance_correlation: expected two [N] vectors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    pred = pred.float()
    target = target.float()
    pred_mean, target_mean = pred.mean(), target.mean()
    covariance = ((pred - pred_mean) * (target - target_mean)).mean()
    denominator = pred.var(unbiased=False) + target.var(unbiased=False) + (pred_mean - target_mean) ** 2
    return 2.0 * covariance / (denominator + eps)


def ccc_per_dimension(pred: torch.Tensor, target: torch.Tensor) -> dict:
    """{'ccc_valence': float, 'ccc_arousal': float} for predictions and targets [N, 2]."""
    return {
        f"ccc_{name}": float(concordance_correlation(pred[:, i], target[:, i]))
        for i, name in enumerate(VA_NAMES)
    }


def regression_loss(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """`mse` (mean over both dimensions) or `ccc` (1 - mean CCC of valence and arousal)."""
    if kind == "mse":
        return torch.nn.functional.mse_loss(pred.float(), target.float())
    if kind == "ccc":
        cccs = [concordance_correlation(pred[:, i], target[:, i]) for i in range(pred.shape[1])]
        return 1.0 - torch.stack(cccs).mean()
    raise ValueError(f"regression: expected one of none, mse, ccc, got {kind!r}")
