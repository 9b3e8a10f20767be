"""How several modalities enter the model: each normalised on its own, equal in weight, and
trained to be useful alone.

    u_m = LayerNorm(x_m) * sqrt(D / (M * d_m))     modality m of width d_m; D = sum d_m, M modalities
    u   = [u_1, ..., u_M]                         (then the sequence encoder's projection W u = sum_m W_m u_m)

A LayerNorm over the concatenation lets the widest or loudest modality dominate (Whisper's 768
dimensions against e5's 384: two thirds of the input norm). Here every modality gets the same
norm (sqrt(D / M)), so each starts with the same say; with one modality this is exactly the
LayerNorm of `input_norm: layer`.

Modality dropout (`model.modality_dropout` = p, training only, at least two modalities): each
utterance loses each modality with probability p (never all of them; a draw that would drop all
keeps them all) and the kept ones are scaled by M / kept, so the projection sees the same norm.
The model must then predict from every modality alone as well as together, so a weak or
uninformative modality cannot become the one it leans on."""

import torch
from torch import nn


class ModalityNorm(nn.Module):
    """Per-modality LayerNorm (no affine parameters) with equal norm per modality."""

    def __init__(self, widths):
        super().__init__()
        self.widths = [int(w) for w in widths]
        total, count = sum(self.widths), len(self.widths)
        self.register_buffer("scale", torch.tensor([(total / (count * w)) ** 0.5 for w in self.widths]),
                             persistent=False)

    def forward(self, x):
        blocks = torch.split(x, self.widths, dim=-1)
        return torch.cat([nn.functional.layer_norm(block, block.shape[-1:]) * scale
                          for block, scale in zip(blocks, self.scale)], dim=-1)


class ModalityDropout(nn.Module):
    """Drops whole modalities per utterance in training (see the module docstring)."""

    def __init__(self, widths, p: float):
        super().__init__()
        self.widths, self.p = [int(w) for w in widths], float(p)

    def forward(self, x):
        count = len(self.widths)
        if not self.training or self.p == 0 or count < 2:
            return x
        keep = (torch.rand(x.shape[0], count, device=x.device) >= self.p)
        keep |= ~keep.any(dim=1, keepdim=True)  # dropping every modality -> keep them all
        factor = keep.to(x.dtype) * (count / keep.sum(dim=1, keepdim=True).to(x.dtype))
        widths = torch.tensor(self.widths, device=x.device)
        return x * torch.repeat_interleave(factor, widths, dim=1)
