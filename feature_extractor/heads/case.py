"""CASE: align the audio frames to the text tokens, fuse per token, pool over tokens.

Origin: the public KEMDy "CASE" system, which fuses word-level text features with speech frames
aligned to them, either by "compressing" the frame sequence to the token length with a learned
linear map or by attention from tokens to frames. See docs/model_zoo.md.

Alignment (`alignment`):
- `compress`: aligned[t] = sum_f w[t, f] audio[f], a learned linear map along time. The reference
  multiplies the padded frame axis by a fixed [max_tokens x max_frames] matrix, so padding and
  the padded length change the result. Here the matrix is defined on *relative* positions: token
  t of an utterance with T real tokens reads row bin floor(t * token_bins / T), frame f of F real
  frames reads column bin floor(f * frame_bins / F) (t, f count real positions only), and each
  row is softmax-normalised over the real frames. Padding gets weight exactly 0, no utterance is
  cropped, and the map is initialised near the diagonal (speech and words run in the same order).
- `attention`: scaled dot-product attention, queries = tokens, keys/values = frames, with the
  audio key padding mask.

Combination (`combine`): `add` (position-wise sum, the "compressing"/"attention" forms) or
`concat` (the concatenation forms). Then LayerNorm, masked mean over real tokens, classifier.
"""

import torch
from torch import nn

from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput, masked_mean
from feature_extractor.heads.head_parts import (
    OutputLayer,
    PhysioInput,
    key_padding_mask,
    require,
    zero_padding,
)


def relative_bins(mask: torch.Tensor, num_bins: int) -> torch.Tensor:
    """For each position, the bin of its rank among the real positions: floor(rank * bins / length)."""
    mask = mask.bool()
    rank = mask.long().cumsum(dim=1) - 1
    length = mask.long().sum(dim=1, keepdim=True).clamp_min(1)
    return (rank.clamp_min(0) * num_bins // length).clamp(max=num_bins - 1)


class CompressAlignment(nn.Module):
    """Learned, length-independent linear map from frames to tokens (see the module docstring)."""

    def __init__(self, token_bins: int = 32, frame_bins: int = 128, diagonal_width: float = 0.1):
        super().__init__()
        self.token_bins, self.frame_bins = token_bins, frame_bins
        rows = (torch.arange(token_bins, dtype=torch.float32) + 0.5) / token_bins
        cols = (torch.arange(frame_bins, dtype=torch.float32) + 0.5) / frame_bins
        distance = rows.unsqueeze(1) - cols.unsqueeze(0)  # relative token time - relative frame time
        # Gaussian prior of std `diagonal_width` (fraction of the utterance); <= 0 starts uniform.
        initial = -distance.square() / (2 * diagonal_width**2) if diagonal_width > 0 else torch.zeros_like(distance)
        self.map_logits = nn.Parameter(initial)

    def forward(self, text_mask, audio, audio_mask) -> torch.Tensor:
        row = relative_bins(text_mask, self.token_bins)  # [B, T]
        col = relative_bins(audio_mask, self.frame_bins)  # [B, F]
        logits = self.map_logits[row.unsqueeze(2), col.unsqueeze(1)]  # [B, T, F]
        logits = logits.masked_fill(~audio_mask.bool().unsqueeze(1), float("-inf"))
        return torch.softmax(logits, dim=-1) @ audio


class AttentionAlignment(nn.Module):
    """Tokens attend to frames; padded frames are excluded by the key padding mask."""

    def __init__(self, width: int, num_heads: int = 1, dropout: float = 0.0):
        super().__init__()
        self.attention = nn.MultiheadAttention(width, num_heads, dropout=dropout, batch_first=True)

    def forward(self, text, audio, audio_mask) -> torch.Tensor:
        aligned, _ = self.attention(text, audio, audio, key_padding_mask=key_padding_mask(audio_mask), need_weights=False)
        return aligned


class CaseHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)
    alignment_kind = "compress"
    combine_kind = "add"

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = False,
        width: int = 256,
        num_heads: int = 1,
        token_bins: int = 32,
        frame_bins: int = 128,
        diagonal_width: float = 0.1,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.name = f"case_{self.alignment_kind}" + ("_concat" if self.combine_kind == "concat" else "")
        self.text_proj = nn.Linear(text_dim, width)
        self.audio_proj = nn.Linear(audio_dim, width)
        if self.alignment_kind == "compress":
            self.align = CompressAlignment(token_bins, frame_bins, diagonal_width)
        else:
            self.align = AttentionAlignment(width, num_heads, dropout)
        token_width = 2 * width if self.combine_kind == "concat" else width
        self.norm = nn.LayerNorm(token_width)
        self.dropout = nn.Dropout(dropout)
        self.physio = PhysioInput(physio_dim, physio_width)
        self.output = OutputLayer(token_width + self.physio.width, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        require(batch, self.name, "text_seq", "text_mask", "audio_seq", "audio_mask")
        text = self.text_proj(zero_padding(batch.text_seq, batch.text_mask))
        audio = self.audio_proj(zero_padding(batch.audio_seq, batch.audio_mask))
        if self.alignment_kind == "compress":
            aligned = self.align(batch.text_mask, audio, batch.audio_mask)
        else:
            aligned = self.align(text, audio, batch.audio_mask)
        tokens = torch.cat([text, aligned], dim=-1) if self.combine_kind == "concat" else text + aligned
        tokens = zero_padding(self.dropout(self.norm(tokens)), batch.text_mask)
        fused = self.physio.append_to(masked_mean(tokens, batch.text_mask), batch, self.name)
        return self.output(fused)


@register_head("case_compress")
class CaseCompressHead(CaseHead):
    alignment_kind, combine_kind = "compress", "add"


@register_head("case_compress_concat")
class CaseCompressConcatHead(CaseHead):
    alignment_kind, combine_kind = "compress", "concat"


@register_head("case_attention")
class CaseAttentionHead(CaseHead):
    alignment_kind, combine_kind = "attention", "add"
    divisible = (("width", "num_heads"),)  # attention splits the width among its heads


@register_head("case_attention_concat")
class CaseAttentionConcatHead(CaseHead):
    alignment_kind, combine_kind = "attention", "concat"
    divisible = (("width", "num_heads"),)
