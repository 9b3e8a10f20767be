"""MMM vanilla fusion: the pooled text and audio vectors, concatenated, through one hidden layer.

Origin: "MMM: Multi-modal Emotion Recognition in conversation with MLP Mixer" (2022 ETRI Human
Understanding AI paper competition, KEMDy), which compared this baseline with the three-way,
cross-attention and mixer fusions in the sibling files. See docs/model_zoo.md.

    fused = Dropout(GELU(W [text_pooled ; audio_pooled (; physio)]))     [hidden]
"""

import torch
from torch import nn

from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput
from feature_extractor.heads.head_parts import OutputLayer, PhysioInput, pooled_audio, pooled_text


@register_head("mmm_concat")
class MmmConcatHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = False,
        hidden: int = 256,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.physio = PhysioInput(physio_dim, physio_width)
        self.fuse = nn.Sequential(nn.Linear(text_dim + audio_dim + self.physio.width, hidden), nn.GELU(), nn.Dropout(dropout))
        self.output = OutputLayer(hidden, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        pooled = torch.cat([pooled_text(batch, "mmm_concat"), pooled_audio(batch, "mmm_concat")], dim=-1)
        return self.output(self.fuse(self.physio.append_to(pooled, batch, "mmm_concat")))
