"""MLP-Mixer (Tolstikhin et al., 2021): blocks that alternate a token-mixing MLP (across
positions, per channel) and a channel-mixing MLP (per position), with pre-LayerNorm residuals.

With a mask, padded positions are zeroed before every token mixing, so they contribute nothing
to real positions; what a padded position holds afterwards is never read (callers pool with the
mask). The token-mixing MLP has weights per position, so the sequence length is fixed."""

from typing import Optional

import torch
from torch import nn

from feature_extractor.heads.head_parts import zero_padding


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim), nn.Dropout(dropout))


class MixerBlock(nn.Module):
    def __init__(self, num_positions: int, width: int, token_hidden: int, channel_hidden: int, dropout: float = 0.0):
        super().__init__()
        self.token_norm = nn.LayerNorm(width)
        self.token_mlp = FeedForward(num_positions, token_hidden, dropout)
        self.channel_norm = nn.LayerNorm(width)
        self.channel_mlp = FeedForward(width, channel_hidden, dropout)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x [B, N, C]; mask [B, N] bool (True = real) or None."""
        mixed = self.token_norm(x)
        if mask is not None:
            mixed = zero_padding(mixed, mask)
        x = x + self.token_mlp(mixed.transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.channel_norm(x))


class Mixer(nn.Module):
    """`depth` MixerBlocks followed by a final LayerNorm: [B, N, C] -> [B, N, C]."""

    def __init__(self, num_positions: int, width: int, depth: int, token_hidden: int, channel_hidden: int, dropout: float = 0.0):
        super().__init__()
        self.blocks = nn.ModuleList(
            MixerBlock(num_positions, width, token_hidden, channel_hidden, dropout) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)
