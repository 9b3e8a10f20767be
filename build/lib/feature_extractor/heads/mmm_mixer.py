"""MMM mixer fusion: an MLP-Mixer over the joint sequence of text tokens and audio frames.

Origin: the MMM KEMDy system (see mmm_concat.py and docs/model_zoo.md).

Both sequences are projected to `width`, text is padded/cropped to `max_tokens` and audio to
`max_frames` (the token-mixing MLP has one weight per position, so lengths are fixed), and the
two are concatenated into max_tokens + max_frames positions with a joint mask. Padding is zeroed
before every token mixing and excluded from the final masked mean, so it never changes the
output. Real positions beyond the fixed lengths are cropped: a warning says how many.

    x = [pad(W_t text) ; pad(W_a audio)] + modality embedding      [max_tokens + max_frames, width]
    fused = masked_mean(Mixer(x, mask), mask) (; physio)
"""

import warnings

import torch
from torch import nn

from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput, masked_mean
from feature_extractor.heads.head_parts import OutputLayer, PhysioInput, require, zero_padding
from feature_extractor.heads.mixer_blocks import Mixer


def fit_length(seq: torch.Tensor, mask: torch.Tensor, length: int, what: str):
    """Pad (with zeros, mask False) or crop a [B, N, C] sequence and its mask to `length` positions."""
    current = seq.shape[1]
    if current >= length:
        cropped = int(mask[:, length:].sum())
        if cropped:
            warnings.warn(f"mmm_mixer: cropped {cropped} real {what} beyond the fixed length {length}", stacklevel=3)
        return seq[:, :length], mask[:, :length]
    padded_seq = seq.new_zeros(seq.shape[0], length, seq.shape[2])
    padded_seq[:, :current] = seq
    padded_mask = mask.new_zeros(mask.shape[0], length)
    padded_mask[:, :current] = mask
    return padded_seq, padded_mask


@register_head("mmm_mixer")
class MmmMixerHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = False,
        width: int = 256,
        depth: int = 4,
        max_tokens: int = 64,
        max_frames: int = 512,
        token_hidden: int = 256,
        channel_hidden: int = 1024,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.max_tokens, self.max_frames = max_tokens, max_frames
        self.text_proj = nn.Linear(text_dim, width)
        self.audio_proj = nn.Linear(audio_dim, width)
        self.modality_embedding = nn.Parameter(0.02 * torch.randn(2, width))  # tells channel MLPs which modality
        self.mixer = Mixer(max_tokens + max_frames, width, depth, token_hidden, channel_hidden, dropout)
        self.physio = PhysioInput(physio_dim, physio_width)
        self.output = OutputLayer(width + self.physio.width, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        require(batch, "mmm_mixer", "text_seq", "text_mask", "audio_seq", "audio_mask")
        text, text_mask = fit_length(batch.text_seq, batch.text_mask.bool(), self.max_tokens, "tokens")
        audio, audio_mask = fit_length(batch.audio_seq, batch.audio_mask.bool(), self.max_frames, "frames")
        text = self.text_proj(zero_padding(text, text_mask)) + self.modality_embedding[0]
        audio = self.audio_proj(zero_padding(audio, audio_mask)) + self.modality_embedding[1]
        joint, mask = torch.cat([text, audio], dim=1), torch.cat([text_mask, audio_mask], dim=1)
        mixed = zero_padding(self.mixer(joint, mask), mask)
        return self.output(self.physio.append_to(masked_mean(mixed, mask), batch, "mmm_mixer"))
