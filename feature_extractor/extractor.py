"""The stage-1 model: encoders for the modalities the head reads, then the fusion head.

    encoded = EncodedBatch(text seq/mask/pooled, audio seq/mask/pooled, physio)
    output  = head(encoded)            -> logits, fused (exported by stage 2), optional va
"""

from torch import nn

from feature_extractor.encoders import build_audio_encoder, build_text_encoder
from feature_extractor.heads import EncodedBatch, HeadOutput, build_head, head_class
from feature_extractor.heads.options import validate_head_options
from feature_extractor.inputs.physio_vector import PHYSIO_DIM


def head_modalities(head: str) -> str:
    """Which encoders a head needs: its class attribute `modalities` ("a", "t", "at"); default "at"."""
    return getattr(head_class(head), "modalities", "at")


class AudioTextExtractor(nn.Module):
    """`pretrained=False` builds encoders from their config only (weights come from an export)."""

    def __init__(self, cfg, num_classes: int, pretrained: bool = True, frozen_dims: dict | None = None):
        """`frozen_dims`: {modality: width} of the frozen encoders' vectors (frozen.py), if any."""
        super().__init__()
        validate_head_options(cfg.head, cfg.head_options)  # before the encoders take their time to load
        modalities = head_modalities(cfg.head)
        frozen_dims = frozen_dims or {}
        self.text_encoder = build_text_encoder(cfg.text, pretrained, frozen_dims.get("t")) if "t" in modalities else None
        self.audio_encoder = build_audio_encoder(cfg.audio, pretrained, frozen_dims.get("a")) if "a" in modalities else None
        self.use_physio = cfg.use_physio
        va_option = {} if cfg.predict_va is None else {"predict_va": cfg.predict_va}
        self.head = build_head(
            cfg.head,
            text_dim=self.text_encoder.output_dim if self.text_encoder else 0,
            audio_dim=self.audio_encoder.output_dim if self.audio_encoder else 0,
            physio_dim=PHYSIO_DIM if cfg.use_physio else 0,
            num_classes=num_classes,
            **va_option,
            **cfg.head_options,
        )
        self.train()  # from_pretrained returns HF models in eval mode; frozen encoders stay in eval

    @property
    def batch_padding_invariant(self) -> bool:
        """False when the audio encoder gives other features for an utterance padded in a batch
        (group-norm wav2vec2, see hf_audio.py): evaluate it only in equal-length batches."""
        return getattr(self.audio_encoder, "batch_padding_invariant", True)

    @property
    def tokenizer(self):
        return getattr(self.text_encoder, "tokenizer", None)

    def encode(self, batch: dict) -> EncodedBatch:
        encoded = EncodedBatch()
        if self.text_encoder is not None:
            if is_frozen(self.text_encoder):
                text = self.text_encoder(batch["text_features"])
            else:
                text = self.text_encoder(batch["input_ids"], batch["token_mask"])
            encoded.text_seq, encoded.text_mask, encoded.text_pooled = text
        if self.audio_encoder is not None:
            if is_frozen(self.audio_encoder):
                audio = self.audio_encoder(batch["audio_features"])
            else:
                audio = self.audio_encoder(batch["audio"], batch["audio_mask"])
            encoded.audio_seq, encoded.audio_mask, encoded.audio_pooled = audio
        if self.use_physio:
            encoded.physio = batch["physio"]
        return encoded

    def forward(self, batch: dict) -> tuple[HeadOutput, EncodedBatch]:
        encoded = self.encode(batch)
        return self.head(encoded), encoded

    def frozen_encoders(self) -> dict:
        """{modality: encoder} of the encoders that read frozen vectors."""
        pairs = (("t", self.text_encoder), ("a", self.audio_encoder))
        return {modality: encoder for modality, encoder in pairs if encoder is not None and is_frozen(encoder)}

    def encoder_parameters(self):
        for encoder in (self.text_encoder, self.audio_encoder):
            if encoder is not None:
                yield from encoder.parameters()


def is_frozen(encoder) -> bool:
    return getattr(encoder, "frozen_features", False)
