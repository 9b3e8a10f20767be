"""DDP (Lightning's default, find_unused_parameters=False) needs every trainable parameter to get
a gradient in every training step. A wav2vec2 folder with LayerDrop (XLS-R's pre-training config
has 0.1) skips whole layers at random in training, so the encoder turns it off."""

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

from feature_extractor.encoders.hf_audio import HFAudioEncoder


def layerdrop_folder(folder, layerdrop: float) -> str:
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, conv_dim=(16,) * 7,
        feat_extract_norm="layer", do_stable_layer_norm=True, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4, mask_time_prob=0.0, layerdrop=layerdrop,
    )
    torch.manual_seed(0)
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)
    return str(folder)


def steps_leaving_parameters_without_gradient(encoder: HFAudioEncoder, steps: int = 6) -> list[int]:
    wave = torch.from_numpy((0.1 * np.random.default_rng(0).standard_normal((2, 8000))).astype(np.float32))
    mask = torch.ones_like(wave, dtype=torch.bool)
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    bad_steps = []
    torch.manual_seed(1)
    for step in range(steps):
        encoder.zero_grad(set_to_none=True)
        encoder(wave, mask).pooled.sum().backward()
        if any(p.grad is None for p in trainable):
            bad_steps.append(step)
    return bad_steps


def test_every_trainable_parameter_gets_a_gradient_in_every_step_despite_folder_layerdrop(tmp_path):
    encoder = HFAudioEncoder(layerdrop_folder(tmp_path / "ld", 0.5)).train()
    assert steps_leaving_parameters_without_gradient(encoder) == []
    assert encoder.model.config.layerdrop == 0.0


def test_layerdrop_asked_for_explicitly_does_skip_layers(tmp_path):
    """The check above can fail: with LayerDrop kept, some steps leave layers without gradients."""
    encoder = HFAudioEncoder(layerdrop_folder(tmp_path / "ld", 0.5), layerdrop=0.5).train()
    assert steps_leaving_parameters_without_gradient(encoder) != []
