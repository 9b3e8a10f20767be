"""What every encoder returns: a sequence, its mask (True = real position) and a pooled vector."""

from typing import NamedTuple

import torch


class ModalityEncoding(NamedTuple):
    seq: torch.Tensor  # [B, L, D]
    mask: torch.Tensor  # [B, L] bool
    pooled: torch.Tensor  # [B, D]
