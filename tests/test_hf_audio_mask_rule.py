"""The attention-mask rule follows the model config (`feat_extract_norm`), not the preprocessor
file, and group-norm models are extracted without batch padding.

Reference for each claim: the utterance encoded alone (no padding at all), or the arguments the
HF model actually received."""

import json
import warnings

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

from feature_extractor.encoders.hf_audio import HFAudioEncoder
from feature_extractor.extraction.extract import DistributedContext, extract_features
from feature_extractor.extractor import AudioTextExtractor
from feature_extractor.inputs.collate import Collator, pad_sequences
from feature_extractor.training.config import ModelConfig

SHORT, LONG = 9000, 24000  # samples: the short utterance gets 15,000 samples of padding in a batch


def save_tiny_wav2vec2(folder, norm: str, preprocessor_mask=None, seed: int = 0):
    """A 2-layer wav2vec2 with a `norm` ("layer" | "group") front end; `preprocessor_mask` None
    leaves `return_attention_mask` out of preprocessor_config.json, as some hub folders do."""
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        feat_extract_norm=norm, do_stable_layer_norm=norm == "layer",
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4, mask_time_prob=0.0, layerdrop=0.0,
    )
    torch.manual_seed(seed)
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=bool(preprocessor_mask)).save_pretrained(folder)
    if preprocessor_mask is None:
        path = folder / "preprocessor_config.json"
        settings = json.loads(path.read_text())
        del settings["return_attention_mask"]
        path.write_text(json.dumps(settings))
    return str(folder)


def waves(*lengths, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


def alone_and_batched(encoder, short, long):
    """Pooled vector of `short` encoded alone, and inside a batch padded to `long`."""
    padded, mask = pad_sequences([short, long])
    with torch.no_grad():
        alone = encoder(torch.from_numpy(short)[None], torch.ones(1, len(short), dtype=torch.bool)).pooled[0]
        batched = encoder(padded, mask).pooled[0]
    return alone, batched


def received_masks(encoder, wave):
    """The `attention_mask` arguments the HF model was called with."""
    seen = []
    forward = encoder.model.forward

    def spy(*args, **kwargs):
        seen.append(kwargs.get("attention_mask"))
        return forward(*args, **kwargs)

    encoder.model.forward = spy
    with torch.no_grad():
        encoder(torch.from_numpy(wave)[None], torch.ones(1, len(wave), dtype=torch.bool))
    return seen


@pytest.mark.parametrize("preprocessor_mask", [None, False], ids=["key missing", "key false"])
def test_layer_norm_model_gets_the_mask_whatever_the_preprocessor_says(tmp_path, preprocessor_mask):
    folder = save_tiny_wav2vec2(tmp_path / "layer", "layer", preprocessor_mask)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = HFAudioEncoder(folder).eval()
    alone, batched = alone_and_batched(encoder, *waves(SHORT, LONG))
    torch.testing.assert_close(batched, alone, atol=1e-4, rtol=1e-3)
    [mask] = received_masks(encoder, waves(SHORT)[0])
    assert mask is not None and bool(mask.all())
    assert any("feat_extract_norm='layer'" in str(warning.message) for warning in caught)


def test_group_norm_model_gets_no_mask_even_when_the_preprocessor_asks(tmp_path):
    folder = save_tiny_wav2vec2(tmp_path / "group", "group", preprocessor_mask=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = HFAudioEncoder(folder).eval()
    assert received_masks(encoder, waves(SHORT)[0]) == [None]
    assert any("feat_extract_norm='group'" in str(warning.message) for warning in caught)


@pytest.mark.parametrize("norm", ["layer", "group"])
def test_agreeing_preprocessor_gives_no_warning(tmp_path, norm):
    folder = save_tiny_wav2vec2(tmp_path / norm, norm, preprocessor_mask=norm == "layer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HFAudioEncoder(folder)


def test_group_norm_output_really_depends_on_batch_padding(tmp_path):
    """Why the sampler must keep such models unpadded: the test below could fail without it."""
    encoder = HFAudioEncoder(save_tiny_wav2vec2(tmp_path / "group", "group", preprocessor_mask=False)).eval()
    alone, batched = alone_and_batched(encoder, *waves(SHORT, LONG))
    assert (batched - alone).abs().max() > 1e-2


class WaveDataset:
    """The slice of UtteranceDataset that extraction reads: items with audio, and their lengths."""

    def __init__(self, arrays):
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays)

    def lengths(self):
        return np.array([len(array) for array in self.arrays])

    def __getitem__(self, i):
        return {"index": i, "segment_id": f"s{i}", "label": 0, "audio": self.arrays[i]}


def test_group_norm_extraction_equals_each_utterance_alone(tmp_path):
    cfg = ModelConfig(head="audio_only")
    cfg.audio.name = save_tiny_wav2vec2(tmp_path / "group", "group", preprocessor_mask=False)
    model = AudioTextExtractor(cfg, num_classes=7).eval()
    dataset = WaveDataset(waves(SHORT, LONG, SHORT, 16000, LONG))
    collator = Collator()
    features = extract_features(model, dataset, collator, 4, 0, torch.device("cpu"), DistributedContext())
    for i in range(len(dataset)):
        with torch.inference_mode():
            _, alone = model(collator([dataset[i]]))
        np.testing.assert_allclose(features[f"s{i}"]["a"], alone.audio_pooled[0].numpy(), atol=1e-5, rtol=1e-4)
