"""RoBERTa / BERT / ELECTRA text encoder from the HF hub or a local folder (AutoModel + AutoTokenizer).

Input: token ids [B, L] and the tokenizer's attention mask. Output: token sequence, token mask and
a pooled vector: masked mean over real tokens (default) or the first token (`cls`).

`max_tokens_limit` is how many tokens the model's position table holds: BERT / ELECTRA use
`max_position_embeddings` positions; RoBERTa-style tables start after the padding id (klue/roberta-base:
514 - 1 - 1 = 512). A longer `max_tokens` would fail inside the model, so build_text_encoder refuses it.
"""

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

from feature_extractor.encoders.encoding import ModalityEncoding
from feature_extractor.encoders.freezable import FreezableEncoder
from feature_extractor.encoders.pooling import POOLING_MODES, pool


class HFTextEncoder(FreezableEncoder):
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
        self.configure_training(freeze, gradient_checkpointing)
        self.output_dim = self.model.config.hidden_size
        self.max_tokens_limit = position_limit(self.model)


    def forward(self, input_ids: torch.Tensor, token_mask: torch.Tensor) -> ModalityEncoding:
        with self.gradients():
            want_layer = self.layer != -1
            outputs = self.model(
                input_ids=input_ids, attention_mask=token_mask.long(), output_hidden_states=want_layer
            )
            seq = outputs.hidden_states[self.layer] if want_layer else outputs.last_hidden_state
            mask = token_mask.bool()
            return ModalityEncoding(seq=seq, mask=mask, pooled=pool(seq, mask, self.pooling))


def position_limit(model) -> int | None:
    """Tokens the absolute position table can number (None: no table, e.g. relative positions)."""
    table = getattr(getattr(model, "embeddings", None), "position_embeddings", None)
    if not isinstance(table, nn.Embedding):
        return None
    first_position = table.padding_idx + 1 if table.padding_idx is not None else 0
    return table.num_embeddings - first_position
