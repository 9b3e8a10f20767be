"""What the Hugging Face encoder wrappers share: a wrapped model (`self.model`) that can be frozen.
A frozen model stays in eval mode whatever mode the stage-1 module is put in (no dropout or
LayerDrop) and runs without building a graph."""

import torch
from torch import nn


class FreezableEncoder(nn.Module):
    frozen = False

    def configure_training(self, freeze: bool, gradient_checkpointing: bool) -> None:
        """Freeze the wrapped model (no gradients, eval mode) and / or trade compute for memory."""
        self.frozen = freeze
        if freeze:
            self.model.requires_grad_(False)
        if gradient_checkpointing:
            self.model.gradient_checkpointing_enable()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.model.eval()
        return self

    def gradients(self):
        """The context to run the wrapped model in: no gradients when it is frozen."""
        return torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen)
