"""wav2vec2-family speech encoder from the HF hub or a local folder (AutoModel + AutoFeatureExtractor).

Input: padded 16 kHz waveforms [B, T] and a sample mask [B, T] (True on real samples).
Output: frame sequence [B, F, D], frame mask [B, F] computed from the real sample counts with the
model's own `_get_feat_extract_output_lengths`, and the masked mean over real frames.

Attention mask: Hugging Face's rule follows the model, not the preprocessor file. A layer-norm
feature encoder (`feat_extract_norm: layer`: large / XLS-R / lv60) was trained with the mask and
needs it for batched input; a group-norm one (`group`: wav2vec2-base) was trained on zero-padded
input without it and must not get it. A group-norm front end normalises each channel over the
whole padded length, so its output depends on batch padding with or without a mask
(`batch_padding_invariant` is False): stage 2 batches such models only with equal-length
utterances (batching.py).
"""

import warnings

import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

from feature_extractor.encoders.encoding import ModalityEncoding
from feature_extractor.encoders.freezable import FreezableEncoder
from feature_extractor.encoders.pooling import lengths_to_mask, pool
from feature_extractor.inputs.audio_io import SAMPLE_RATE


class HFAudioEncoder(FreezableEncoder):
    """`pretrained=False` builds the architecture from the folder's config only (random init);
    used when the weights come from a stage-1 export anyway.

    `layerdrop` replaces the folder's LayerDrop (0.1 in the XLS-R pre-training config): a layer
    skipped in a training step leaves its parameters without gradients, which DDP (Lightning's
    default `find_unused_parameters=False`) rejects on the next step. 0 is also the default of
    HF's CTC fine-tuning example."""

    def __init__(
        self,
        name_or_path: str,
        layer: int = -1,
        freeze: bool = False,
        freeze_feature_encoder: bool = True,
        gradient_checkpointing: bool = False,
        pretrained: bool = True,
        layerdrop: float = 0.0,
    ):
        super().__init__()
        self.preprocessor = AutoFeatureExtractor.from_pretrained(name_or_path)
        rate = getattr(self.preprocessor, "sampling_rate", SAMPLE_RATE)
        if rate != SAMPLE_RATE:
            raise ValueError(f"audio encoder {name_or_path}: expects {rate} Hz input; this pipeline feeds {SAMPLE_RATE} Hz")
        config = AutoConfig.from_pretrained(name_or_path)
        if hasattr(config, "layerdrop"):
            config.layerdrop = layerdrop
        if pretrained:
            self.model = AutoModel.from_pretrained(name_or_path, config=config)
        else:
            self.model = AutoModel.from_config(config)
        if not hasattr(self.model, "_get_feat_extract_output_lengths"):
            raise ValueError(f"audio encoder {name_or_path}: {type(self.model).__name__} is not a wav2vec2-family model")
        self.layer = layer
        self.pass_attention_mask = wants_attention_mask(self.model.config, self.preprocessor, name_or_path)
        self.batch_padding_invariant = self.pass_attention_mask
        self.do_normalize = bool(getattr(self.preprocessor, "do_normalize", True))
        self.configure_training(freeze, gradient_checkpointing)
        if freeze_feature_encoder and not freeze:
            self.model.freeze_feature_encoder()
        config = self.model.config
        uses_adapter = getattr(config, "add_adapter", False) and layer == -1
        self.output_dim = config.output_hidden_size if uses_adapter else config.hidden_size


    def forward(self, waves: torch.Tensor, sample_mask: torch.Tensor) -> ModalityEncoding:
        with self.gradients():
            return self._encode(waves, sample_mask)

    def _encode(self, waves, sample_mask):
        if self.do_normalize:
            waves = normalize_waveforms(waves, sample_mask)
        want_layer = self.layer != -1
        outputs = self.model(
            waves,
            attention_mask=sample_mask.long() if self.pass_attention_mask else None,
            output_hidden_states=want_layer,
        )
        seq = outputs.hidden_states[self.layer] if want_layer else outputs.last_hidden_state
        frame_lengths = self.model._get_feat_extract_output_lengths(
            sample_mask.sum(dim=1), add_adapter=None if not want_layer else False
        )
        mask = lengths_to_mask(frame_lengths.clamp_min(1), seq.shape[1])
        return ModalityEncoding(seq=seq, mask=mask, pooled=pool(seq, mask, "mean"))


def wants_attention_mask(config, preprocessor, source: str = "audio encoder") -> bool:
    """True for a layer-norm feature encoder, False for a group-norm one (the model config decides);
    a model without `feat_extract_norm` follows its preprocessor. Warns when the preprocessor's
    `return_attention_mask` says otherwise (a missing key reads as the library default, False)."""
    said = getattr(preprocessor, "return_attention_mask", None)
    norm = getattr(config, "feat_extract_norm", None)
    if norm not in ("layer", "group"):
        return True if said is None else bool(said)
    wanted = norm == "layer"
    if said is not None and bool(said) != wanted:
        warnings.warn(
            f"{source}: the preprocessor says return_attention_mask={bool(said)}, but the model's "
            f"feat_extract_norm={norm!r} decides: the attention mask is {'passed' if wanted else 'not passed'}",
            stacklevel=3,
        )
    return wanted


def normalize_waveforms(waves: torch.Tensor, sample_mask: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Zero mean, unit variance over each row's real samples; padding stays 0.

    Same rule as Wav2Vec2FeatureExtractor(do_normalize=True) with an attention mask, done on the
    device so collation stays a plain pad."""
    weights = sample_mask.to(waves.dtype)
    count = weights.sum(dim=1, keepdim=True).clamp_min(1.0)
    mean = (waves * weights).sum(dim=1, keepdim=True) / count
    var = (((waves - mean) * weights) ** 2).sum(dim=1, keepdim=True) / count
    return (waves - mean) / torch.sqrt(var + eps) * weights
