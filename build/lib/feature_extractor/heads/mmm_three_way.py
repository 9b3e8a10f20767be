"""MMM three-way fusion: both pooled vectors in a common space, compared three ways.

Origin: the MMM KEMDy system (see mmm_concat.py and docs/model_zoo.md).

    t = W_t text_pooled, a = W_a audio_pooled          (width each)
    fused = [t ; a ; |a - t| ; a * t (; physio)]        [4 width (+ physio)]
The difference and product expose agreement between modalities to a linear classifier.
"""

import torch
from torch import nn

from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput
from feature_extractor.heads.head_parts import OutputLayer, PhysioInput, pooled_audio, pooled_text


@register_head("mmm_three_way")
class MmmThreeWayHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = False,
        width: int = 256,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.text_proj = nn.Linear(text_dim, width)
        self.audio_proj = nn.Linear(audio_dim, width)
        self.dropout = nn.Dropout(dropout)
        self.physio = PhysioInput(physio_dim, physio_width)
        self.output = OutputLayer(4 * width + self.physio.width, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        text = self.text_proj(pooled_text(batch, "mmm_three_way"))
        audio = self.audio_proj(pooled_audio(batch, "mmm_three_way"))
        fused = self.dropout(torch.cat([text, audio, (audio - text).abs(), audio * text], dim=-1))
        return self.output(self.physio.append_to(fused, batch, "mmm_three_way"))
