"""Target distributions built from the 10 rater votes: plain soft labels and PeakL.

PeakL ("peaking labels", from the Tensor Mixer Network KEMDy system) sharpens a vague rater
distribution y by an amount that grows with its disagreement:

    r  = tanh(H(y)),   H(y) = -sum_k y_k ln y_k   (natural log)
    y' = max(0, y - r / K),  renormalised to sum to 1

A unanimous vote (H = 0) is left unchanged; classes with few votes drop to zero first.
"""

import torch


def normalised_distribution(rater_distribution: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Check the shape and rescale each row to sum to 1; a row without votes is an error."""
    if rater_distribution.dim() != 2 or rater_distribution.shape[1] != num_classes:
        raise ValueError(
            f"rater distribution: expected shape [B, {num_classes}], got {tuple(rater_distribution.shape)}"
        )
    if bool((rater_distribution < 0).any()):
        raise ValueError("rater distribution: expected non-negative vote shares, found a negative value")
    totals = rater_distribution.sum(dim=1, keepdim=True)
    empty = (totals.squeeze(1) <= 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"rater distribution: rows {empty} have no votes (sum 0); expected shares summing to 1")
    return rater_distribution / totals


def distribution_entropy(distribution: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats per row, with 0 ln 0 = 0."""
    log_terms = torch.where(distribution > 0, distribution * distribution.clamp_min(1e-30).log(), 0.0)
    return -log_terms.sum(dim=1)


def peakl_targets(rater_distribution: torch.Tensor, num_classes: int = 7) -> torch.Tensor:
    """PeakL-sharpened targets [B, K] from rater vote shares [B, K] (counts are accepted too)."""
    distribution = normalised_distribution(rater_distribution.float(), num_classes)
    disagreement = torch.tanh(distribution_entropy(distribution)).unsqueeze(1)
    # r / K < 1 / K <= max_k y_k, so the largest share always survives and the sum stays positive.
    peaked = (distribution - disagreement / num_classes).clamp_min(0.0)
    return peaked / peaked.sum(dim=1, keepdim=True)
