"""The real-size encoder configs (configs/encoders/) against published facts, and the text encoder's
position limit against what the model itself accepts."""

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoTokenizer,
    BertConfig,
    BertModel,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
)

from feature_extractor.encoders import build_text_encoder
from feature_extractor.encoders.hf_audio import wants_attention_mask
from feature_extractor.encoders.hf_text import HFTextEncoder
from feature_extractor.encoders.real_size import real_size_folder
from feature_extractor.encoders.tiny_preset import train_wordpiece
from feature_extractor.training.config import TextEncoderConfig

TEXTS = ["오늘 정말 기분이 좋아요", "왜 그렇게 화가 났어?", "그래 알았어", "무서워서 잠이 안 와"] * 5

# Parameter counts as published (model cards / papers): wav2vec 2.0 BASE 95 M, XLS-R 300 M
# (the LARGE architecture, 317 M with its pre-training heads), KLUE-RoBERTa-base 111 M.
PUBLISHED_MILLIONS = {"wav2vec2-base": 95, "wav2vec2-xls-r-300m": 317, "klue-roberta-base": 111}


def parameters_in_millions(folder: str) -> float:
    with torch.device("meta"):  # shapes only: nothing is allocated
        model = AutoModel.from_config(AutoConfig.from_pretrained(folder))
    return sum(p.numel() for p in model.parameters()) / 1e6


@pytest.mark.parametrize("name", sorted(PUBLISHED_MILLIONS))
def test_parameter_count_is_the_published_one(tmp_path, name):
    folder = real_size_folder(name, tmp_path / name, TEXTS)
    assert parameters_in_millions(folder) == pytest.approx(PUBLISHED_MILLIONS[name], rel=0.02)


@pytest.mark.parametrize("name, mask", [("wav2vec2-xls-r-300m", True), ("wav2vec2-base", False)])
def test_real_size_audio_configs_follow_the_mask_rule_silently(tmp_path, name, mask, recwarn):
    folder = real_size_folder(name, tmp_path / name)
    assert wants_attention_mask(AutoConfig.from_pretrained(folder), AutoFeatureExtractor.from_pretrained(folder)) is mask
    assert not [warning for warning in recwarn if "feat_extract_norm" in str(warning.message)]


def test_klue_shaped_folder_tokenizes_with_klue_special_ids(tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(real_size_folder("klue-roberta-base", tmp_path / "klue", TEXTS))
    assert [tokenizer.cls_token_id, tokenizer.pad_token_id, tokenizer.sep_token_id, tokenizer.unk_token_id] == [0, 1, 2, 3]
    ids = tokenizer(["그래 알았어"])["input_ids"][0]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids


def tiny_text_folder(folder, kind: str, positions: int) -> str:
    """A 1-layer BERT or RoBERTa with `positions` position embeddings and a WordPiece tokenizer."""
    special = ["[CLS]", "[PAD]", "[SEP]", "[UNK]", "[MASK]"]
    wordpiece = train_wordpiece(TEXTS, 200, special_tokens=special)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=wordpiece, cls_token="[CLS]", pad_token="[PAD]", sep_token="[SEP]",
                                        unk_token="[UNK]", mask_token="[MASK]")
    shapes = dict(vocab_size=wordpiece.get_vocab_size(), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=32, max_position_embeddings=positions, pad_token_id=1)
    model = BertModel(BertConfig(**shapes)) if kind == "bert" else RobertaModel(RobertaConfig(**shapes))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def runs_with(encoder: HFTextEncoder, n_tokens: int) -> bool:
    ids = torch.full((1, n_tokens), 10)
    try:
        with torch.no_grad():
            encoder(ids, torch.ones(1, n_tokens, dtype=torch.bool))
    except (IndexError, RuntimeError):
        return False
    return True


@pytest.mark.parametrize("kind, positions, expected", [("bert", 16, 16), ("roberta", 18, 16)])
def test_position_limit_is_what_the_model_accepts(tmp_path, kind, positions, expected):
    encoder = HFTextEncoder(tiny_text_folder(tmp_path / kind, kind, positions)).eval()
    assert encoder.max_tokens_limit == expected
    assert runs_with(encoder, expected) and not runs_with(encoder, expected + 1)


def test_max_tokens_beyond_the_position_table_is_refused_when_built(tmp_path):
    folder = tiny_text_folder(tmp_path / "roberta", "roberta", 18)
    assert build_text_encoder(TextEncoderConfig(name=folder, max_tokens=16)).max_tokens_limit == 16
    with pytest.raises(ValueError, match="max_tokens=17.*at most 16"):
        build_text_encoder(TextEncoderConfig(name=folder, max_tokens=17))
