"""RoBERTa / BERT / ELECTRA text encoder from the HF hub or a local folder (AutoModel + AutoTokenizer).

Input: token ids [B, L] and the tokenizer's attention mask. Output: token sequence, token mask and
a pooled vector: masked mean over real tokens (default) or the first token (`cls`).
"""

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

from feature_extractor.encoders.encoding import ModalityEncoding
from feature_extractor.encoders.pooling import POOLING_MODES, pool


class HFTextEncoder(nn.Module):
    """`pretrained=False` builds the architecture from the folder's config only (random init);
    used when the weights come from a stage-1 export anyway."""

    def __init__(
        self,
        name_or_path: str,
        pooling: str = "mean",
        layer: int = -1,
        freeze: bool = False,
        gradient_checkpointing: bool = False,
        pretrained: bool = True,
    ):
        super().__init__()
        if pooling not in POOLING_MODES:
            raise ValueError(f"text pooling {pooling!r}; expected one of {', '.join(POOLING_MODES)}")
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        if pretrained:
            self.model = AutoModel.from_pretrained(name_or_path)
        else:
            self.model = AutoModel.from_config(AutoConfig.from_pretrained(name_or_path))
        if getattr(self.model, "pooler", None) is not None:
            self.model.pooler = None  # BERT/RoBERTa [CLS] pooler: unused here, would idle under DDP
        self.pooling = pooling
        self.layer = layer
        self.frozen = freeze
        if freeze:
            self.model.requires_grad_(False)
        if gradient_checkpointing:
            self.model.gradient_checkpointing_enable()
        self.output_dim = self.model.config.hidden_size

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.model.eval()
        return self

    def forward(self, input_ids: torch.Tensor, token_mask: torch.Tensor) -> ModalityEncoding:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            want_layer = self.layer != -1
            outputs = self.model(
                input_ids=input_ids, attention_mask=token_mask.long(), output_hidden_states=want_layer
            )
            seq = outputs.hidden_states[self.layer] if want_layer else outputs.last_hidden_state
            mask = token_mask.bool()
            return ModalityEncoding(seq=seq, mask=mask, pooled=pool(seq, mask, self.pooling))
