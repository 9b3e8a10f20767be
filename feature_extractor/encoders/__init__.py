"""Stage-1 encoders: HF text and speech models, the no-download acoustic encoder, and the trained
projection over frozen encoders' cached vectors (frozen.py).

Every encoder returns a `ModalityEncoding` (sequence, mask, pooled) and exposes `output_dim`.
"""

import contextlib

from erc_core.errors import UserError
from feature_extractor.encoders.encoding import ModalityEncoding


@contextlib.contextmanager
def loading(key: str, name: str):
    """A model folder or hub id that cannot be loaded is the user's setting: one line naming it."""
    try:
        yield
    except OSError as error:  # transformers: missing files, unknown hub id, no network when offline
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{key}={name}: cannot load it ({first_line})") from None


def build_text_encoder(cfg, pretrained: bool = True, frozen_dim: int | None = None):
    if cfg.kind == "sentence":
        return _frozen_encoder("model.text", frozen_dim, cfg)
    from feature_extractor.encoders.hf_text import HFTextEncoder
    from feature_extractor.encoders.model_source import check_model_source

    check_model_source("model.text.name", cfg.name)
    with loading("model.text.name", cfg.name):
        encoder = HFTextEncoder(
            cfg.name,
            pooling=cfg.pooling,
            layer=cfg.layer,
            freeze=cfg.freeze,
            gradient_checkpointing=cfg.gradient_checkpointing,
            pretrained=pretrained,
        )
    limit = encoder.max_tokens_limit
    if limit is not None and cfg.max_tokens > limit:
        raise UserError(f"model.text.max_tokens={cfg.max_tokens}, but {cfg.name} numbers at most {limit} token positions")
    return encoder


def build_audio_encoder(cfg, pretrained: bool = True, frozen_dim: int | None = None):
    from feature_extractor.encoders.frozen import FROZEN_AUDIO_KINDS

    if cfg.kind in FROZEN_AUDIO_KINDS:
        return _frozen_encoder("model.audio", frozen_dim, cfg)
    if cfg.kind == "acoustic":
        from feature_extractor.encoders.acoustic import AcousticEncoder

        return AcousticEncoder(hidden=cfg.acoustic_hidden, layers=cfg.acoustic_layers, stride=cfg.acoustic_stride)
    if cfg.kind == "hf":
        from feature_extractor.encoders.hf_audio import HFAudioEncoder
        from feature_extractor.encoders.hf_whisper import HFWhisperEncoder, is_whisper
        from feature_extractor.encoders.model_source import check_model_source

        if not 0 <= cfg.layerdrop < 1:
            raise UserError(f"model.audio.layerdrop={cfg.layerdrop}: a dropout probability must be in [0, 1)")
        check_model_source("model.audio.name", cfg.name)
        with loading("model.audio.name", cfg.name):
            if is_whisper(cfg.name):
                return HFWhisperEncoder(cfg.name, layer=cfg.layer, freeze=cfg.freeze,
                                        gradient_checkpointing=cfg.gradient_checkpointing, pretrained=pretrained)
            return HFAudioEncoder(
                cfg.name,
                layer=cfg.layer,
                freeze=cfg.freeze,
                freeze_feature_encoder=cfg.freeze_feature_encoder,
                gradient_checkpointing=cfg.gradient_checkpointing,
                pretrained=pretrained,
                layerdrop=cfg.layerdrop,
            )
    raise UserError(f"model.audio.kind={cfg.kind!r}; expected hf, acoustic, whisper or opensmile")


def _frozen_encoder(key: str, frozen_dim: int | None, cfg):
    from feature_extractor.encoders.frozen import FrozenFeatureEncoder

    if not frozen_dim:
        raise ValueError(f"{key}.kind={cfg.kind}: the width of its frozen vectors must be known to build the encoder")
    return FrozenFeatureEncoder(frozen_dim, hidden=cfg.frozen_hidden, dropout=cfg.frozen_dropout)


__all__ = ["ModalityEncoding", "build_text_encoder", "build_audio_encoder"]
