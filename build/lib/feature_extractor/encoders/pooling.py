"""Masks and pooling shared by the encoders: padding never reaches a pooled vector."""

import torch

from feature_extractor.heads.base import masked_mean

POOLING_MODES = ("mean", "cls")


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Bool [B, max_len], True on the first `lengths[b]` positions of row b."""
    positions = torch.arange(max_len, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def pool(seq: torch.Tensor, mask: torch.Tensor, mode: str = "mean") -> torch.Tensor:
    """`mean`: masked mean over real positions; `cls`: the first position (BERT-style [CLS])."""
    if mode == "mean":
        return masked_mean(seq, mask)
    if mode == "cls":
        return seq[:, 0]
    raise ValueError(f"pooling {mode!r}; expected one of {', '.join(POOLING_MODES)}")
