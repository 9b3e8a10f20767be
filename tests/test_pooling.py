"""Padding must never reach a pooled vector: an utterance encoded alone and inside a padded batch
gives the same result, for text, wav2vec2 audio and the acoustic encoder."""

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2FeatureExtractor

from feature_extractor.encoders.acoustic import FEATURE_NAMES, AcousticEncoder
from feature_extractor.encoders.hf_audio import HFAudioEncoder, normalize_waveforms
from feature_extractor.encoders.hf_text import HFTextEncoder
from feature_extractor.encoders.pooling import lengths_to_mask, pool
from feature_extractor.encoders.tiny_preset import build_tiny_preset
from feature_extractor.inputs.collate import pad_sequences

TEXTS = ["오늘 정말 기분이 좋아요", "왜 그렇게 화가 났어?", "그래 알았어", "무서워서 잠이 안 와"] * 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    return build_tiny_preset(TEXTS, tmp_path_factory.mktemp("tiny"), seed=0)


def test_masked_mean_and_cls_by_hand():
    seq = torch.tensor([[[1.0], [3.0], [100.0]], [[2.0], [4.0], [6.0]]])
    mask = lengths_to_mask(torch.tensor([2, 3]), 3)
    assert mask.tolist() == [[True, True, False], [True, True, True]]
    assert pool(seq, mask, "mean").flatten().tolist() == [2.0, 4.0]
    assert pool(seq, mask, "cls").flatten().tolist() == [1.0, 2.0]


def test_text_pooling_ignores_padding(tiny):
    encoder = HFTextEncoder(tiny["text"]).eval()
    tokenizer = encoder.tokenizer
    texts = ["오늘 정말 기분이 좋아요 그래 알았어", "네"]
    with torch.no_grad():
        batch = tokenizer(texts, padding="max_length", max_length=24, return_tensors="pt")
        together = encoder(batch["input_ids"], batch["attention_mask"].bool())
        for row, text in enumerate(texts):
            alone_ids = tokenizer([text], return_tensors="pt")
            alone = encoder(alone_ids["input_ids"], alone_ids["attention_mask"].bool())
            assert together.mask[row].sum() == alone_ids["input_ids"].shape[1] < 24
            torch.testing.assert_close(together.pooled[row], alone.pooled[0], atol=1e-5, rtol=1e-4)


def test_audio_pooling_ignores_padding_and_counts_real_frames(tiny):
    encoder = HFAudioEncoder(tiny["audio"]).eval()
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (8000, 20000, 12345)]
    padded, mask = pad_sequences(waves)
    with torch.no_grad():
        together = encoder(padded, mask)
        for row, wave in enumerate(waves):
            alone = encoder(torch.from_numpy(wave)[None], torch.ones(1, len(wave), dtype=torch.bool))
            # wav2vec2 front end: 400-sample receptive field, 320-sample hop
            frames = (len(wave) - 400) // 320 + 1
            assert int(together.mask[row].sum()) == alone.seq.shape[1] == frames
            torch.testing.assert_close(together.pooled[row], alone.pooled[0], atol=1e-4, rtol=1e-3)


def test_waveform_normalisation_matches_the_hf_feature_extractor():
    rng = np.random.default_rng(1)
    waves = [rng.standard_normal(n).astype(np.float32) * s + m for n, s, m in ((500, 0.2, 0.1), (900, 1.5, -0.3))]
    reference = Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True)(
        waves, sampling_rate=16000, padding=True, return_tensors="np"
    )
    padded, mask = pad_sequences(waves)
    ours = normalize_waveforms(padded, mask)
    np.testing.assert_allclose(ours.numpy(), reference["input_values"], atol=1e-5)


def test_acoustic_pooling_ignores_padding():
    torch.manual_seed(0)
    encoder = AcousticEncoder(hidden=16, layers=2).eval()
    rng = np.random.default_rng(2)
    frames = [rng.standard_normal((n, len(FEATURE_NAMES))).astype(np.float32) for n in (7, 30, 12)]
    padded, mask = pad_sequences(frames)
    with torch.no_grad():
        together = encoder(padded, mask)
        for row, item in enumerate(frames):
            alone = encoder(torch.from_numpy(item)[None], torch.ones(1, len(item), dtype=torch.bool))
            torch.testing.assert_close(together.pooled[row], alone.pooled[0], atol=1e-5, rtol=1e-4)


def test_a_plain_mean_over_padding_would_differ(tiny):
    """The invariance tests above can fail: averaging padded frames changes the vector."""
    encoder = HFAudioEncoder(tiny["audio"]).eval()
    waves = [np.ones(8000, dtype=np.float32) * 0.1, np.linspace(-1, 1, 20000).astype(np.float32)]
    padded, mask = pad_sequences(waves)
    with torch.no_grad():
        out = encoder(padded, mask)
    naive = out.seq[0].mean(dim=0)
    assert not torch.allclose(naive, out.pooled[0], atol=1e-3)


def test_masked_frame_averaging_by_hand():
    from feature_extractor.encoders.acoustic import masked_average_frames

    x = torch.tensor([[[1.0], [3.0], [5.0], [7.0], [9.0]], [[2.0], [4.0], [99.0], [99.0], [99.0]]])
    mask = lengths_to_mask(torch.tensor([5, 2]), 5)
    averaged, out_mask = masked_average_frames(x, mask, stride=2)
    # row 0: (1+3)/2, (5+7)/2, 9 alone; row 1: (2+4)/2, then only padding
    assert averaged[0].flatten().tolist() == [2.0, 6.0, 9.0]
    assert averaged[1, 0].item() == 3.0
    assert out_mask.tolist() == [[True, True, True], [True, False, False]]


def test_freezing_options(tiny):
    cnn_frozen = HFAudioEncoder(tiny["audio"], freeze_feature_encoder=True)
    cnn = [p.requires_grad for p in cnn_frozen.model.feature_extractor.parameters()]
    rest = [p.requires_grad for n, p in cnn_frozen.model.named_parameters() if not n.startswith("feature_extractor.")]
    assert cnn and not any(cnn) and all(rest)
    frozen = HFTextEncoder(tiny["text"], freeze=True).train()
    assert not any(p.requires_grad for p in frozen.parameters())
    assert not frozen.model.training  # dropout stays off in a frozen encoder
    trainable = HFTextEncoder(tiny["text"]).train()
    assert trainable.model.training and all(p.requires_grad for p in trainable.parameters())
