"""The tiny offline preset: small random-init encoders that load like hub models.

Builds, for one seed and one corpus:
  <out>/text   RobertaModel (hidden 64, 2 layers) + a WordPiece tokenizer (tokenizers library)
               whose vocabulary is learned from the TRAIN split's transcripts, saved with save_pretrained
  <out>/audio  Wav2Vec2Model (conv dims 32, hidden 64, 2 layers, layer-norm front end) + its
               Wav2Vec2FeatureExtractor, saved with save_pretrained
  <out>/preset.json  what was built (sizes, seed, a fingerprint of the training transcripts)

The folders are then given to the very same `from_pretrained` calls as hub ids, so tests and the
demo exercise the real loading path without a network.

    python -m feature_extractor.encoders.tiny_preset --index INDEX_DIR --out DIR [--seed 0]
"""

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2Model,
)

from erc_core.errors import UserError
from erc_core.files import current_umask, staging_folder, write_json
from feature_extractor.inputs.audio_io import SAMPLE_RATE
from feature_extractor.training.config import TinyPresetConfig

PRESET_VERSION = 1
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_POSITIONS = 512
POSITION_CONV_GROUPS = 4


def build_tiny_preset(train_texts, out_dir, seed: int = 0, cfg: TinyPresetConfig = TinyPresetConfig()) -> dict:
    """Build (or reuse, when an identical one exists) the tiny preset; return {'text': dir, 'audio': dir}."""
    _check_sizes(cfg)
    texts = [str(text) for text in train_texts if isinstance(text, str) and text.strip()]
    if not texts:
        raise ValueError("tiny preset: no non-empty train transcripts to train the tokenizer on")
    out_dir = Path(out_dir)
    manifest = _manifest(texts, seed, cfg)
    if _existing_manifest(out_dir) == manifest:
        return _folders(out_dir)
    staging = staging_folder(out_dir)
    try:
        _build_text(texts, staging / "text", seed, cfg)
        _build_audio(staging / "audio", seed, cfg)
        write_json(staging / "preset.json", manifest)
        _give_umask_modes(staging)
        _swap_in(staging, out_dir, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _folders(out_dir)


def _check_sizes(cfg: TinyPresetConfig) -> None:
    if cfg.heads < 1 or cfg.hidden % cfg.heads:
        raise UserError(f"tiny_preset.hidden={cfg.hidden} must be a multiple of tiny_preset.heads={cfg.heads} (>= 1)")
    if cfg.hidden % POSITION_CONV_GROUPS:
        raise UserError(f"tiny_preset.hidden={cfg.hidden} must be a multiple of {POSITION_CONV_GROUPS} "
                        "(the groups of the tiny wav2vec2's positional convolution)")


def _manifest(texts, seed, cfg) -> dict:
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    sizes = {key: getattr(cfg, key) for key in ("hidden", "layers", "heads", "conv_dim", "vocab_size")}
    return {"version": PRESET_VERSION, "seed": seed, "sizes": sizes, "train_texts_sha256": digest, "n_texts": len(texts)}


def _existing_manifest(out_dir: Path):
    path = out_dir / "preset.json"
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def _folders(out_dir: Path) -> dict:
    return {"text": str(out_dir / "text"), "audio": str(out_dir / "audio")}


def _give_umask_modes(folder: Path) -> None:
    """safetensors writes model.safetensors through a private temp file (0600); give every file the
    mode a plain open() gets under the user's umask, as every other output has."""
    mode = 0o666 & ~current_umask()
    for path in folder.rglob("*"):
        if path.is_file():
            os.chmod(path, mode)


def _swap_in(staging: Path, out_dir: Path, manifest: dict) -> None:
    """Replace `out_dir` by the finished staging folder; a half-built preset is never visible."""
    if out_dir.exists():
        if _existing_manifest(out_dir) == manifest:  # another process finished the same build first
            return
        retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
        os.replace(out_dir, retired / "preset")
        shutil.rmtree(retired, ignore_errors=True)
    os.replace(staging, out_dir)


def train_wordpiece(texts, vocab_size: int, special_tokens=SPECIAL_TOKENS) -> Tokenizer:
    """A WordPiece tokenizer (tokenizers library) whose vocabulary is learned from `texts`; the
    special tokens (which must include [UNK], [CLS], [SEP]) take the first ids in the given order.

    The library's WordPieceTrainer breaks count ties in hash order, so its vocabulary changes from
    run to run; `learn_wordpiece_vocab` picks the same pieces every time for the same texts."""
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    # NFC only: stripping accents (NFD) would take Hangul syllables apart.
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    words = Counter(
        word for text in texts for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text))
    )
    pieces = learn_wordpiece_vocab(words, vocab_size - len(special_tokens))
    tokenizer.model = models.WordPiece(
        vocab={token: i for i, token in enumerate(list(special_tokens) + pieces)}, unk_token="[UNK]", max_input_chars_per_word=100
    )
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return tokenizer


def learn_wordpiece_vocab(word_counts: Counter, size: int) -> list[str]:
    """Every character (word-initial `c` and continuing `##c`), then the most frequent word
    prefixes (`stem`) and suffixes (`##ending`) up to `size` pieces. Ties go by length, then text,
    so the result depends on the counts only. Greedy longest-match WordPiece then splits a word
    into a frequent stem plus frequent endings, falling back to characters."""
    alphabet = set()
    candidates = Counter()
    for word, count in word_counts.items():
        alphabet.add(word[0])
        alphabet.update(f"##{char}" for char in word[1:])
        for cut in range(2, len(word) + 1):
            candidates[word[:cut]] += count
        for cut in range(1, len(word) - 1):
            candidates[f"##{word[cut:]}"] += count
    ranked = sorted((piece for piece in candidates if piece not in alphabet), key=lambda p: (-candidates[p], -len(p), p))
    pieces = sorted(alphabet)
    return pieces + ranked[: max(0, size - len(pieces))]


def _build_text(texts, folder: Path, seed: int, cfg: TinyPresetConfig) -> None:
    wordpiece = train_wordpiece(texts, cfg.vocab_size)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=wordpiece,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_POSITIONS - 2,
    )
    config = RobertaConfig(
        vocab_size=wordpiece.get_vocab_size(),
        hidden_size=cfg.hidden,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        intermediate_size=2 * cfg.hidden,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    torch.manual_seed(seed)
    RobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _build_audio(folder: Path, seed: int, cfg: TinyPresetConfig) -> None:
    config = Wav2Vec2Config(
        hidden_size=cfg.hidden,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        intermediate_size=2 * cfg.hidden,
        conv_dim=(cfg.conv_dim,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),  # the wav2vec2 front end: 320 samples (20 ms) per frame
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        feat_extract_norm="layer",  # as XLS-R: attention-mask aware, so padding-invariant
        do_stable_layer_norm=True,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=POSITION_CONV_GROUPS,
        mask_time_prob=0.0,
        layerdrop=0.0,
    )
    preprocessor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    torch.manual_seed(seed + 1)
    Wav2Vec2Model(config).save_pretrained(folder)
    preprocessor.save_pretrained(folder)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="folder with index.csv (the train split's transcripts are used)")
    parser.add_argument("--out", required=True, help="output folder (text/, audio/, preset.json)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from feature_extractor.corpus import read_index

    table = read_index(args.index)
    folders = build_tiny_preset(table.loc[table["split"] == "train", "text"], args.out, seed=args.seed)
    print(json.dumps(folders, indent=2))


if __name__ == "__main__":
    main()
