"""Valence/arousal regression losses: MSE, or 1 - CCC (the CCC itself is a metric: erc_core.metrics)."""

import torch

from erc_core.metrics import concordance_correlation


def regression_loss(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """`mse` (mean over both dimensions) or `ccc` (1 - mean CCC of valence and arousal), over the
    rows whose two targets are known: a blank valence / arousal cell (NaN) leaves its row out, and
    a batch with too few known rows adds 0 (keeping the graph, so every parameter still gets a
    gradient entry)."""
    known = torch.isfinite(target).all(dim=1)
    if int(known.sum()) < (2 if kind == "ccc" else 1):
        return pred.sum() * 0.0
    pred, target = pred[known], target[known]
    if kind == "mse":
        return torch.nn.functional.mse_loss(pred.float(), target.float())
    if kind == "ccc":
        cccs = [concordance_correlation(pred[:, i], target[:, i]) for i in range(pred.shape[1])]
        return 1.0 - torch.stack(cccs).mean()
    raise ValueError(f"regression: expected one of none, mse, ccc, got {kind!r}")
