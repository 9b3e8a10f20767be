"""Pieces every fusion head shares: reading the encoded batch, the optional physiological input,
and the output layer (emotion classifier + optional valence/arousal regressor on `fused`)."""

from typing import Optional

import torch
from torch import nn

from feature_extractor.heads.base import EncodedBatch, HeadOutput, masked_mean


def require(batch: EncodedBatch, head: str, *fields: str) -> None:
    """Fail with a clear message when the batch lacks an input this head reads."""
    missing = [name for name in fields if getattr(batch, name) is None]
    if missing:
        raise ValueError(f"head {head!r} needs EncodedBatch.{', '.join(missing)}, which the batch does not carry")


def pooled_text(batch: EncodedBatch, head: str) -> torch.Tensor:
    """The batch's pooled text vector, or the masked mean of the token sequence."""
    if batch.text_pooled is not None:
        return batch.text_pooled
    require(batch, head, "text_seq", "text_mask")
    return masked_mean(batch.text_seq, batch.text_mask)


def pooled_audio(batch: EncodedBatch, head: str) -> torch.Tensor:
    """The batch's pooled audio vector, or the masked mean of the frame sequence."""
    if batch.audio_pooled is not None:
        return batch.audio_pooled
    require(batch, head, "audio_seq", "audio_mask")
    return masked_mean(batch.audio_seq, batch.audio_mask)


class PhysioInput(nn.Module):
    """Optional third input: the per-utterance physiological summary [B, physio_dim] projected to
    `width` and appended to a head's fused vector. physio_dim = 0 means no physiological input.

    The summary must be finite: NaN for uncovered signals is replaced upstream (with the
    has_* coverage flags as extra columns) before it reaches a head."""

    def __init__(self, physio_dim: int, width: int = 32):
        super().__init__()
        self.physio_dim = physio_dim
        self.width = width if physio_dim > 0 else 0
        self.project = nn.Sequential(nn.Linear(physio_dim, width), nn.GELU()) if physio_dim > 0 else None

    def append_to(self, fused: torch.Tensor, batch: EncodedBatch, head: str) -> torch.Tensor:
        if self.project is None:
            return fused
        if batch.physio is None:
            raise ValueError(f"head {head!r} was built with physio_dim={self.physio_dim} but the batch has no physio")
        if batch.physio.shape[-1] != self.physio_dim:
            raise ValueError(f"head {head!r}: physio has {batch.physio.shape[-1]} columns, expected {self.physio_dim}")
        return torch.cat([fused, self.project(batch.physio.to(fused.dtype))], dim=-1)


class OutputLayer(nn.Module):
    """Reads the fused vector: `num_classes` emotion logits and, with predict_va, (valence, arousal)."""

    def __init__(self, fused_dim: int, num_classes: int, predict_va: bool = False):
        super().__init__()
        self.classifier = nn.Linear(fused_dim, num_classes)
        self.va_regressor = nn.Linear(fused_dim, 2) if predict_va else None

    def forward(self, fused: torch.Tensor) -> HeadOutput:
        va: Optional[torch.Tensor] = None if self.va_regressor is None else self.va_regressor(fused)
        return HeadOutput(logits=self.classifier(fused), fused=fused, va=va)


def key_padding_mask(mask: torch.Tensor) -> torch.Tensor:
    """nn.MultiheadAttention wants True on padding; our masks are True on real positions."""
    return ~mask.bool()


def zero_padding(seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Set padded positions to exactly 0 (with `where`, so even NaN/inf padding cannot leak)."""
    return torch.where(mask.bool().unsqueeze(-1), seq, torch.zeros((), dtype=seq.dtype, device=seq.device))
