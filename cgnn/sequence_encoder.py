"""Sequence context over each dialogue, on the real utterances only:

    u = Norm(x)                       per utterance (`layer`), per feature dimension (`batch`) or none
    h = Dropout(W u)                  projection to the hidden size first (`project_first`)
    h = h + α · P[position]           sinusoidal positions, learned scale α (init `position_scale`)
    h = TransformerLayer(h) x L       or a bidirectional LSTM / GRU over packed sequences

Every tensor with a row per utterance is kept packed ([N, width], no padding): normalisation,
projection, dropout (masks drawn with torch.rand, see `Dropout`), the transformer's projections,
feed-forward and layer norms run on real rows only. Only
the attention scores need the padded [B, heads, T, T] layout, with a key padding mask, so padding
never influences a real utterance.

Why the input norm: frozen sentence embeddings (MiniLM: row norm 1, 0.05 per dimension) projected
by a fresh linear layer are tiny next to a sinusoidal table of amplitude 1; the table then drowns
the features. Standardised inputs give the projection a known scale for any feature extractor,
and α lets the model decide how much position it wants.

`project_first=False` runs the transformer at the input width and projects after, as COGMEN
(configs/stage3/cogmen.yaml); that costs far more (docs/benchmarks.md)."""

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from cgnn.modality_fusion import ModalityDropout, ModalityNorm

ENCODERS = ("transformer", "lstm", "gru")
INPUT_NORMS = ("batch", "layer", "modality", "none")


def sinusoidal_positions(length: int, width: int, device=None) -> torch.Tensor:
    """[length, width] sine/cosine position table (Vaswani et al.); odd widths are supported."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32, device=device)
                          * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


def pad(rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[N, ...] real rows -> [B, T, ...] with zeros at the padded positions of `mask` [B, T]."""
    padded = rows.new_zeros(*mask.shape, *rows.shape[1:])
    padded[mask] = rows
    return padded


class Dropout(nn.Dropout):
    """nn.Dropout whose CPU mask comes from torch.rand: the same distribution, about 2.4x cheaper
    (forward + backward) than torch's CPU dropout kernel (docs/benchmarks.md); other devices use
    torch's own kernel."""

    def forward(self, x):
        if not self.training or not 0 < self.p < 1 or x.device.type != "cpu":
            return super().forward(x)
        return x * ((torch.rand_like(x) >= self.p).to(x.dtype) * (1 / (1 - self.p)))


def input_norm(kind: str, width: int, widths=None) -> nn.Module:
    """`widths`: the width of each modality in the input (`modality`: cgnn/modality_fusion.py)."""
    if kind not in INPUT_NORMS:
        raise ValueError(f"unknown input_norm {kind!r}; expected one of {', '.join(INPUT_NORMS)}")
    # no affine parameters: the projection that follows is affine already, and with nothing to
    # learn below it, backward stops at the projection
    if kind == "batch":  # standardise each dimension with the running statistics of the data
        return nn.BatchNorm1d(width, affine=False, momentum=None)
    if kind == "modality":  # each modality on its own, every one with the same norm
        return ModalityNorm(widths or [width])
    return nn.LayerNorm(width, elementwise_affine=False) if kind == "layer" else nn.Identity()


class PackedSelfAttention(nn.Module):
    """Multi-head self-attention within each dialogue; rows in and out are packed [N, width]."""

    def __init__(self, width, heads, dropout):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by encoder_heads {heads}")
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, h, mask):
        batch, length = mask.shape
        q, k, v = pad(self.qkv(h), mask).view(batch, length, 3 * self.heads, -1).transpose(1, 2).chunk(3, dim=1)
        attended = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[:, None, None, :], dropout_p=self.dropout if self.training else 0.0)
        return self.out(attended.transpose(1, 2).reshape(batch, length, -1)[mask])


class TransformerLayer(nn.Module):
    """Post-norm transformer encoder layer (as nn.TransformerEncoderLayer, ReLU) on packed rows."""

    def __init__(self, width, heads, feedforward, dropout, attention_dropout):
        super().__init__()
        self.attention = PackedSelfAttention(width, heads, attention_dropout)
        self.feedforward = nn.Sequential(nn.Linear(width, feedforward), nn.ReLU(), Dropout(dropout),
                                         nn.Linear(feedforward, width))
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.dropout = Dropout(dropout)

    def forward(self, h, mask):
        h = self.norm1(h + self.dropout(self.attention(h, mask)))
        return self.norm2(h + self.dropout(self.feedforward(h)))


class SequenceEncoder(nn.Module):
    def __init__(self, input_dim, hidden, kind="transformer", layers=1, heads=4, feedforward=400,
                 dropout=0.5, attention_dropout=0.0, positional=False, position_scale=0.1, norm="layer",
                 project_first=True, widths=None, modality_dropout=0.0):
        """`widths`: each modality's width in the input, in order (None = one modality)."""
        super().__init__()
        if kind not in ENCODERS:
            raise ValueError(f"unknown encoder {kind!r}; expected one of {', '.join(ENCODERS)}")
        if not project_first and kind != "transformer":
            raise ValueError("project_first=false (transformer at the input width) needs encoder=transformer")
        self.kind, self.project_first = kind, project_first
        self.norm = input_norm(norm, input_dim, widths)
        self.modality_dropout = ModalityDropout(widths or [input_dim], modality_dropout)
        self.project = nn.Linear(input_dim, hidden)
        self.dropout = Dropout(dropout if project_first else 0.0)
        width = hidden if project_first else input_dim
        heads = heads or next((h for h in range(7, 15) if width % h == 0), 1)  # 0: COGMEN's rule
        self.position_scale = nn.Parameter(torch.tensor(float(position_scale))) if positional else None
        if kind == "transformer":
            self.context = nn.ModuleList(TransformerLayer(width, heads, feedforward, dropout, attention_dropout)
                                         for _ in range(layers))
        else:
            if hidden % 2:
                raise ValueError(f"hidden size {hidden} must be even for a bidirectional {kind}")
            rnn = nn.LSTM if kind == "lstm" else nn.GRU
            self.context = rnn(hidden, hidden // 2, num_layers=layers, batch_first=True,
                               bidirectional=True, dropout=dropout if layers > 1 else 0.0)

    def forward(self, nodes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """nodes [N, D_in] (the real utterances, row-major over `mask`), mask [B, T] (True = real)
        -> [N, hidden] in the same order."""
        h = self.modality_dropout(self.norm(nodes))
        if self.project_first:
            h = self.dropout(self.project(h))
        if self.position_scale is not None:
            position = torch.cumsum(mask, 1)[mask] - 1
            h = h + self.position_scale * sinusoidal_positions(mask.shape[1], h.shape[1], h.device)[position]
        if self.kind == "transformer":
            for layer in self.context:
                h = layer(h, mask)
        else:
            h = self._recurrent(h, mask)
        return h if self.project_first else self.project(h)

    def _recurrent(self, h, mask):
        packed = pack_padded_sequence(pad(h, mask), mask.sum(1).cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.context(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=mask.shape[1])
        return out[mask]
