"""Tensor Mixer Network: the outer product of the pooled audio and text vectors, read by an MLP-Mixer.

Origin: the public KEMDy19+20 system "Improving Multimodal Emotion Recognition using Tensor Mixer
Network and Peaking Labels" (tensor fusion in the spirit of Zadeh et al. 2017 + MLP-Mixer, trained
on rater soft labels with PeakL; valence/arousal regressed jointly). See docs/model_zoo.md.

    a = LN(W_a audio_pooled), t = LN(W_t text_pooled)     (proj_dim each, 256 in the reference)
    M = a t^T                                             [proj_dim, proj_dim] interaction map
    patches of patch_size x patch_size -> width            (16x16 patches -> 256 positions)
    Mixer(depth) -> mean over patches -> fused [width (+ physio)]
"""

import torch
from torch import nn

from feature_extractor.heads import register_head
from feature_extractor.heads.base import EncodedBatch, HeadOutput
from feature_extractor.heads.head_parts import OutputLayer, PhysioInput, pooled_audio, pooled_text
from feature_extractor.heads.mixer_blocks import Mixer


@register_head("tensor_mixer")
class TensorMixerHead(nn.Module):
    modalities = "at"  # the encoders this head reads (t text, a audio)
    divisible = (("proj_dim", "patch_size"),)  # checked by heads/options.py

    def __init__(
        self,
        text_dim: int,
        audio_dim: int,
        physio_dim: int,
        num_classes: int,
        predict_va: bool = True,
        proj_dim: int = 256,
        patch_size: int = 16,
        width: int = 512,
        depth: int = 12,
        token_hidden: int = 256,
        channel_hidden: int = 2048,
        dropout: float = 0.1,
        physio_width: int = 32,
    ):
        super().__init__()
        self.patch_size = patch_size
        self.audio_proj = nn.Sequential(nn.Linear(audio_dim, proj_dim), nn.LayerNorm(proj_dim))
        self.text_proj = nn.Sequential(nn.Linear(text_dim, proj_dim), nn.LayerNorm(proj_dim))
        num_patches = (proj_dim // patch_size) ** 2
        self.patch_embed = nn.Linear(patch_size * patch_size, width)
        self.mixer = Mixer(num_patches, width, depth, token_hidden, channel_hidden, dropout)
        self.physio = PhysioInput(physio_dim, physio_width)
        self.output = OutputLayer(width + self.physio.width, num_classes, predict_va)

    def forward(self, batch: EncodedBatch) -> HeadOutput:
        audio = self.audio_proj(pooled_audio(batch, "tensor_mixer"))
        text = self.text_proj(pooled_text(batch, "tensor_mixer"))
        interaction = audio.unsqueeze(2) * text.unsqueeze(1)  # [B, P, P]
        patches = self.mixer(self.patch_embed(self._patchify(interaction)))
        fused = self.physio.append_to(patches.mean(dim=1), batch, "tensor_mixer")
        return self.output(fused)

    def _patchify(self, square: torch.Tensor) -> torch.Tensor:
        """[B, P, P] -> [B, (P/s)^2, s*s] non-overlapping s x s patches, row-major."""
        batch, size, _ = square.shape
        s, n = self.patch_size, size // self.patch_size
        return square.reshape(batch, n, s, n, s).permute(0, 1, 3, 2, 4).reshape(batch, n * n, s * s)
