"""Frozen pretrained encoders: their per-utterance vectors are computed once (and cached, see
frozen_cache.py), so stage 1 trains only what sits on top of them, this module's `FrozenFeatureEncoder`.

    x       = (vector - train mean) / train std            (fixed statistics of the train split)
    pooled  = GELU(W dropout(x) + b)   (frozen_hidden > 0; else pooled = x, for a linear probe)

Which encoders are frozen: model.audio.kind whisper / opensmile, model.text.kind sentence.
"""

import importlib

import numpy as np
import torch
from torch import nn

from erc_core.errors import UserError
from feature_extractor.encoders.encoding import ModalityEncoding

FROZEN_AUDIO_KINDS = ("whisper", "opensmile")
FROZEN_TEXT_KINDS = ("sentence",)


def optional_import(module: str, setting: str, install: str):
    """`module`, or one error line naming the setting that needs it and what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"{setting} needs the optional package {install.split()[0]} (pip install {install})") from None


def frozen_modalities(model_cfg, modalities: str) -> str:
    """Which of the head's modalities ("a", "t") come from frozen encoders under this ModelConfig."""
    frozen = {"a": model_cfg.audio.kind in FROZEN_AUDIO_KINDS, "t": model_cfg.text.kind in FROZEN_TEXT_KINDS}
    return "".join(modality for modality in modalities if frozen.get(modality))


def build_featurizer(model_cfg, modality: str, threads: int = 1):
    """The object that turns waveforms (audio) or transcripts (text) into vectors: `.encode(items)`
    and `.identity` (what the cache is keyed by)."""
    if modality == "t":
        from feature_extractor.encoders.sentence_features import SentenceFeatures

        return SentenceFeatures(model_cfg.text.name, max_tokens=model_cfg.text.max_tokens, threads=threads)
    audio = model_cfg.audio
    if audio.kind == "whisper":
        from feature_extractor.encoders.whisper_features import WhisperFeatures

        return WhisperFeatures(audio.whisper_model, window=audio.whisper_window, threads=threads)
    from feature_extractor.encoders.opensmile_features import OpenSmileFeatures

    return OpenSmileFeatures(audio.opensmile_set, audio.opensmile_level)


class FrozenFeatureEncoder(nn.Module):
    """The trained part on top of a frozen encoder's utterance vectors [B, input_dim]."""

    frozen_features = True  # the extractor feeds it the batch's cached vectors, not tokens or waveforms

    def __init__(self, input_dim: int, hidden: int = 256, dropout: float = 0.2):
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(input_dim))
        self.register_buffer("feature_std", torch.ones(input_dim))
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Sequential(nn.Linear(input_dim, hidden), nn.GELU()) if hidden > 0 else nn.Identity()
        self.output_dim = hidden if hidden > 0 else input_dim

    @torch.no_grad()
    def set_feature_stats(self, vectors: np.ndarray) -> None:
        """Standardise with the mean / std of the train split's vectors."""
        vectors = torch.as_tensor(np.asarray(vectors, dtype=np.float64))
        self.feature_mean.copy_(vectors.mean(dim=0).float())
        self.feature_std.copy_(vectors.std(dim=0, unbiased=False).float().clamp_min(1e-6))

    def forward(self, vectors: torch.Tensor) -> ModalityEncoding:
        pooled = self.project(self.dropout((vectors - self.feature_mean) / self.feature_std))
        mask = torch.ones(pooled.shape[0], 1, dtype=torch.bool, device=pooled.device)
        return ModalityEncoding(seq=pooled.unsqueeze(1), mask=mask, pooled=pooled)
