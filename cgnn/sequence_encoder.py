"""Sequence context over each dialogue: project the utterance features to the hidden size first,
then a transformer encoder (key padding mask + sinusoidal positions) or a bidirectional LSTM/GRU
over packed sequences. Padding never influences a real utterance.

COGMEN runs its transformer at the input width (e.g. 1792 for audio+text) and projects after;
projecting first gives the same kind of context model at a fraction of the cost."""

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ENCODERS = ("transformer", "lstm", "gru")


def sinusoidal_positions(length: int, width: int, device=None) -> torch.Tensor:
    """[length, width] sine/cosine position table (Vaswani et al.); odd widths are supported."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32, device=device)
                          * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


class SequenceEncoder(nn.Module):
    def __init__(self, input_dim, hidden, kind="transformer", layers=2, heads=4, feedforward=400,
                 dropout=0.5, positional=True):
        super().__init__()
        if kind not in ENCODERS:
            raise ValueError(f"unknown encoder {kind!r}; expected one of {', '.join(ENCODERS)}")
        self.kind = kind
        self.positional = positional
        self.project = nn.Linear(input_dim, hidden)
        self.dropout = nn.Dropout(dropout)
        if kind == "transformer":
            if hidden % heads:
                raise ValueError(f"hidden size {hidden} is not divisible by encoder_heads {heads}")
            layer = nn.TransformerEncoderLayer(hidden, heads, feedforward, dropout, batch_first=True)
            self.context = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        else:
            if hidden % 2:
                raise ValueError(f"hidden size {hidden} must be even for a bidirectional {kind}")
            rnn = nn.LSTM if kind == "lstm" else nn.GRU
            self.context = rnn(hidden, hidden // 2, num_layers=layers, batch_first=True,
                               bidirectional=True, dropout=dropout if layers > 1 else 0.0)

    def forward(self, nodes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """nodes [N, D_in] (the real utterances, row-major over `mask`), mask [B, T] (True = real)
        -> [N, hidden] in the same order."""
        x = nodes.new_zeros(*mask.shape, self.project.out_features)
        x[mask] = self.project(nodes)
        if self.kind == "transformer":
            if self.positional:
                x = x + sinusoidal_positions(x.shape[1], x.shape[2], x.device)
            x = self.context(self.dropout(x), src_key_padding_mask=~mask)
        else:
            lengths = mask.sum(1).cpu()
            packed = pack_padded_sequence(self.dropout(x), lengths, batch_first=True, enforce_sorted=False)
            x, _ = self.context(packed)
            x, _ = pad_packed_sequence(x, batch_first=True, total_length=mask.shape[1])
        return x[mask]
