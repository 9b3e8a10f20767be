"""The interface every stage-1 fusion head implements (see docs/contracts.md)."""

from dataclasses import dataclass
from typing import Optional

import torch


@dataclass
class EncodedBatch:
    """Encoder outputs for one batch. Masks are bool, True on real tokens/frames."""

    text_seq: Optional[torch.Tensor] = None  # [B, T, Dt]
    text_mask: Optional[torch.Tensor] = None  # [B, T]
    text_pooled: Optional[torch.Tensor] = None  # [B, Dt]
    audio_seq: Optional[torch.Tensor] = None  # [B, F, Da]
    audio_mask: Optional[torch.Tensor] = None  # [B, F]
    audio_pooled: Optional[torch.Tensor] = None  # [B, Da]
    physio: Optional[torch.Tensor] = None  # [B, Dp]


@dataclass
class HeadOutput:
    logits: torch.Tensor  # [B, K]
    fused: torch.Tensor  # [B, D]: the vector the classifier reads; exported by stage 2
    va: Optional[torch.Tensor] = None  # [B, 2]: valence, arousal


def masked_mean(seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real positions only: padding never changes the result."""
    real = mask.unsqueeze(-1)
    total = torch.where(real, seq, torch.zeros((), dtype=seq.dtype, device=seq.device)).sum(dim=1)
    return total / real.sum(dim=1).clamp_min(1).to(seq.dtype)
