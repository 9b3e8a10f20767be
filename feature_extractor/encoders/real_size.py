"""Folders with the exact published architectures of the default encoders, for dry runs at real size
without a download: load them with `pretrained=False` (random init from config.json).

    configs/encoders/wav2vec2-xls-r-300m   config + feature extractor (w11wo/wav2vec2-xls-r-300m-korean's shape)
    configs/encoders/wav2vec2-base         config + feature extractor (group-norm front end)
    configs/encoders/klue-roberta-base     config; the tokenizer is made here (below)

klue/roberta-base ships a 32,000-piece WordPiece vocabulary that is not in the repository; the
tokenizer made here keeps its special-token ids ([CLS] 0, [PAD] 1, [SEP] 2, [UNK] 3, [MASK] 4) and
learns the other pieces from the given transcripts (tiny_preset.train_wordpiece), so token counts
are those of a corpus-fitted WordPiece, close to but not klue's own.
"""

import shutil
from pathlib import Path

from transformers import PreTrainedTokenizerFast

from erc_core import shipped_configs
from feature_extractor.encoders.tiny_preset import train_wordpiece

KLUE_SPECIAL_TOKENS = ["[CLS]", "[PAD]", "[SEP]", "[UNK]", "[MASK]"]
KLUE_VOCAB_SIZE = 32000
KLUE_MAX_TOKENS = 512
REAL_SIZE_ENCODERS = ("wav2vec2-xls-r-300m", "wav2vec2-base", "klue-roberta-base")


def real_size_folder(name: str, out_dir, texts=None) -> str:
    """Copy configs/encoders/<name> to `out_dir`; a text encoder also gets a tokenizer learned from
    `texts`. Returns the folder, ready for AutoConfig / AutoFeatureExtractor / AutoTokenizer."""
    source = config_root() / name
    if not source.is_dir():
        raise ValueError(f"no real-size encoder config {name!r}; available: {', '.join(REAL_SIZE_ENCODERS)}")
    out_dir = Path(out_dir)
    shutil.copytree(source, out_dir, dirs_exist_ok=True)
    if not (source / "preprocessor_config.json").is_file():
        if not texts:
            raise ValueError(f"{name}: a text encoder needs transcripts to learn its tokenizer from")
        klue_style_tokenizer(texts).save_pretrained(out_dir)
    return str(out_dir)


def config_root() -> Path:
    """configs/encoders of the shipped configs: the checkout's, or erc_core/configs/encoders of an
    installed package (erc_core/shipped_configs.py)."""
    return shipped_configs.shipped_root() / "encoders"


def klue_style_tokenizer(texts) -> PreTrainedTokenizerFast:
    wordpiece = train_wordpiece([str(text) for text in texts], KLUE_VOCAB_SIZE, special_tokens=KLUE_SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(
        tokenizer_object=wordpiece, cls_token="[CLS]", pad_token="[PAD]", sep_token="[SEP]", unk_token="[UNK]",
        mask_token="[MASK]", bos_token="[CLS]", eos_token="[SEP]", model_max_length=KLUE_MAX_TOKENS,
    )
