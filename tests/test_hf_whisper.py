"""The transformers Whisper encoder as a stage-1 audio encoder (model.audio.kind=hf with a Whisper
folder): its computation equals transformers' WhisperEncoder on the 30-s window, its cost follows
the batch's length, and it trains, exports and extracts like the wav2vec2 encoders. A small random
Whisper is built in the test (nothing downloaded)."""

import numpy as np
import pytest
import torch
from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

from cgnn.conversation_pickle import read_conversations
from feature_extractor.encoders.hf_whisper import HFWhisperEncoder
from feature_extractor.extraction.extract import extract_from_args
from feature_extractor.training.train import train_from_args
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides

WIDTH = 16


@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_whisper")
    config = WhisperConfig(d_model=WIDTH, encoder_layers=2, encoder_attention_heads=2, decoder_layers=1,
                           decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=64,
                           max_target_positions=16, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                           decoder_start_token_id=1)
    torch.manual_seed(0)
    WhisperModel(config).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=config.num_mel_bins).save_pretrained(folder)
    return folder


def speech_like(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * 200 * t) * (1 + np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def test_the_30s_window_gives_transformers_whisper_encoder_output(whisper_folder):
    wave = speech_like(2.0)
    reference = WhisperModel.from_pretrained(whisper_folder).get_encoder().eval()
    mel = WhisperFeatureExtractor.from_pretrained(whisper_folder)(wave, sampling_rate=16000,
                                                                  return_tensors="pt").input_features
    encoder = HFWhisperEncoder(str(whisper_folder)).eval()
    padded = torch.zeros(1, 30 * 16000)
    padded[0, : len(wave)] = torch.from_numpy(wave)
    mask = torch.zeros(1, 30 * 16000, dtype=torch.bool)
    mask[0, : len(wave)] = True
    with torch.no_grad():
        ours_mel, _ = encoder.log_mel(padded, mask)
        torch.testing.assert_close(ours_mel, mel, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(encoder.encode_mel(mel), reference(mel).last_hidden_state, atol=1e-5, rtol=1e-5)


def test_the_cost_follows_the_batch_length_and_the_mask_the_utterance(whisper_folder):
    encoder = HFWhisperEncoder(str(whisper_folder)).eval()
    waves = torch.zeros(2, 3 * 16000)
    waves[0] = torch.from_numpy(speech_like(3.0))
    waves[1, :16000] = torch.from_numpy(speech_like(1.0))
    mask = waves != 0
    mask[1, :16000] = True
    with torch.no_grad():
        out = encoder(waves, mask)
    assert out.seq.shape == (2, 150, WIDTH)  # 3 s at 50 frames per second, not 1,500 frames
    assert out.mask.sum(dim=1).tolist() == [150, 50]


def test_stage1_trains_exports_and_stage2_extracts_with_a_whisper_folder(whisper_folder, tmp_path_factory, tmp_path):
    corpus = tiny_corpus(tmp_path_factory)
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, corpus["index"], "model.head=audio_only", f"model.audio.name={whisper_folder}",
                               "model.text.context_before=0")
    summary = train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"), *overrides])
    assert summary["best_dev"]["weighted_f1"] >= 0
    assert (run_dir / "export" / "audio_encoder" / "preprocessor_config.json").is_file()
    out = tmp_path / "features.pkl"
    extract_from_args(["--checkpoint", str(run_dir), "--index", str(corpus["index"]), "--out", str(out),
                       "--num-workers", "0", "--no-progress", "--allow-train-overlap"])
    data = read_conversations(out)
    assert data.feature_dims["a"] == WIDTH
