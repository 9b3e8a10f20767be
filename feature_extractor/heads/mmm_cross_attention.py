"""MMM cross-modal attention: tokens attend to frames and frames attend to tokens.

Origin: the MMM KEMDy system (see mmm_concat.py and docs/model_zoo.md).

    t' = LN(t + Attn(q=t, kv=a, audio key padding mask))     per token
    a' = LN(a + Attn(q=a, kv=t, text key padding mask))      per frame
    fused = [masked_mean(t', text_mask) ; masked_mean(a', audio_mask) (; physio)]
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


class CrossAttentionLayer(nn.Module):
    """Residual cross attention from `query` positions to the real `context` positions."""

    def __init__(self, width: int, num_heads: int, dropout: float):
        super().__init__()
        self.attention = nn.MultiheadAttention(width, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(width)

    def forward(self, query, context, context_mask):
        attended, _ = self.attention(query, context, context, key_padding_mask=key_padding_mask(context_mask), need_weights=False)
        return self.norm(query + attended)


@register_head("mmm_cross_attention")
class MmmCrossAttentionHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)
    divisible = (("width", "num_heads"),)  # attention splits the width among its heads

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = False,
        width: int = 256,
        num_heads: int = 4,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.text_proj = nn.Linear(text_dim, width)
        self.audio_proj = nn.Linear(audio_dim, width)
        self.text_to_audio = CrossAttentionLayer(width, num_heads, dropout)
        self.audio_to_text = CrossAttentionLayer(width, num_heads, dropout)
        self.physio = PhysioInput(physio_dim, physio_width)
        self.output = OutputLayer(2 * width + self.physio.width, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        require(batch, "mmm_cross_attention", "text_seq", "text_mask", "audio_seq", "audio_mask")
        text_mask, audio_mask = batch.text_mask, batch.audio_mask
        text = self.text_proj(zero_padding(batch.text_seq, text_mask))
        audio = self.audio_proj(zero_padding(batch.audio_seq, audio_mask))
        text_ctx = zero_padding(self.text_to_audio(text, audio, audio_mask), text_mask)
        audio_ctx = zero_padding(self.audio_to_text(audio, text, text_mask), audio_mask)
        fused = torch.cat([masked_mean(text_ctx, text_mask), masked_mean(audio_ctx, audio_mask)], dim=-1)
        return self.output(self.physio.append_to(fused, batch, "mmm_cross_attention"))
