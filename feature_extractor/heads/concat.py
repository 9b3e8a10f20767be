"""The reference baseline heads: concatenate pooled vectors, one linear classifier.

    fused  = [text_pooled ; audio_pooled (; physio)]      (only the modalities the head reads)
    logits = W dropout(modality_dropout(fused)) + b        (7 classes)
    va     = W_va dropout(modality_dropout(fused)) + b_va  (when predict_va)

`modality_dropout` (a head option, training only, two or more modalities) drops whole modalities
per utterance as stage 3 does (cgnn/modality_fusion.py), so the classifier must predict from each
modality alone as well as together and an uninformative modality cannot take its weight.

`concat` reads text and audio (and physio when physio_dim > 0); `audio_only` / `text_only` read
one modality. `modalities` on the class tells the extractor which encoders to build.
"""

import torch
from torch import nn

from cgnn.modality_fusion import ModalityDropout
from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput
from feature_extractor.heads.head_parts import pooled_audio, pooled_text


@register_head("concat")
class ConcatHead(nn.Module):
    name = "concat"
    modalities = "at"

    def __init__(self, text_dim: int, audio_dim: int, physio_dim: int, num_classes: int, predict_va: bool = False, dropout: float = 0.1,
                 modality_dropout: float = 0.0):
        super().__init__()
        self.use_text = "t" in self.modalities
        self.use_audio = "a" in self.modalities
        self.physio_dim = physio_dim
        dims = {"t": text_dim, "a": audio_dim}
        for modality in self.modalities:
            if dims[modality] <= 0:
                raise ValueError(f"head {self.name!r} reads modality {modality!r} but got its dimension {dims[modality]}")
        widths = [text_dim] * self.use_text + [audio_dim] * self.use_audio + [physio_dim] * bool(physio_dim)
        fused_dim = sum(widths)
        self.modality_dropout = ModalityDropout(widths, modality_dropout)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(fused_dim, num_classes)
        self.va_regressor = nn.Linear(fused_dim, 2) if predict_va else None

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        parts = []
        if self.use_text:
            parts.append(pooled_text(batch, self.name))
        if self.use_audio:
            parts.append(pooled_audio(batch, self.name))
        if self.physio_dim:
            if batch.physio is None or batch.physio.shape[-1] != self.physio_dim:
                got = None if batch.physio is None else tuple(batch.physio.shape)
                raise ValueError(f"head {self.name!r}: expected physio [B, {self.physio_dim}], got {got}")
            parts.append(batch.physio.to(parts[0].dtype))
        fused = torch.cat(parts, dim=-1)
        hidden = self.dropout(self.modality_dropout(fused))
        va = self.va_regressor(hidden) if self.va_regressor is not None else None
        return HeadOutput(logits=self.classifier(hidden), fused=fused, va=va)


@register_head("audio_only")
class AudioOnlyHead(ConcatHead):
    name = "audio_only"
    modalities = "a"


@register_head("text_only")
class TextOnlyHead(ConcatHead):
    name = "text_only"
    modalities = "t"
