"""Collation: a list of dataset items -> one padded batch of tensors with boolean masks.

Batch keys: `index` [B] (dataset rows), `segment_ids` (list), `labels` [B], optional `soft_labels`
[B, K], `va` [B, 2], `physio` [B, P], frozen encoders' vectors `text_features` / `audio_features`
[B, D]; text: `input_ids`, `token_mask` [B, L]; audio: `audio`
[B, T] (waveform) or [B, F, D] (acoustic frames) with `audio_mask` [B, T|F] (True = real).
Items that carry dialogue context (`context_before` / `context_after`, see dialogue_context.py)
are tokenized with it.
"""

import numpy as np
import torch

from feature_extractor.inputs.dialogue_context import CONTEXT_AFTER, CONTEXT_BEFORE, encode_with_context


class Collator:
    def __init__(self, tokenizer=None, max_tokens: int = 128):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    def __call__(self, items: list[dict]) -> dict:
        batch = {
            "index": torch.tensor([item["index"] for item in items], dtype=torch.long),
            "segment_ids": [item["segment_id"] for item in items],
            "labels": torch.tensor([item["label"] for item in items], dtype=torch.long),
        }
        for key, out in (("soft", "soft_labels"), ("va", "va"), ("physio", "physio"),
                         ("text_features", "text_features"), ("audio_features", "audio_features")):
            if key in items[0]:
                batch[out] = torch.from_numpy(np.stack([item[key] for item in items]).astype(np.float32))
        if "text" in items[0] and CONTEXT_BEFORE in items[0]:
            batch.update(self._tokenize_with_context(items))
        elif "text" in items[0]:
            batch.update(self._tokenize([item["text"] for item in items]))
        if "audio" in items[0]:
            batch["audio"], batch["audio_mask"] = pad_sequences([item["audio"] for item in items])
        return batch

    def _tokenize(self, texts: list[str]) -> dict:
        if self.tokenizer is None:
            raise ValueError("batch has text but the collator was built without a tokenizer")
        encoded = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        return {"input_ids": encoded["input_ids"], "token_mask": encoded["attention_mask"].bool()}

    def _tokenize_with_context(self, items: list[dict]) -> dict:
        if self.tokenizer is None:
            raise ValueError("batch has text but the collator was built without a tokenizer")
        ids = [encode_with_context(self.tokenizer, item["text"], item[CONTEXT_BEFORE], item[CONTEXT_AFTER],
                                   self.max_tokens) for item in items]
        encoded = self.tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt")
        return {"input_ids": encoded["input_ids"], "token_mask": encoded["attention_mask"].bool()}


def pad_sequences(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad arrays [L_i, ...] with zeros to [B, max L, ...]; mask [B, max L] True on real rows."""
    lengths = [len(array) for array in arrays]
    longest = max(lengths)
    padded = np.zeros((len(arrays), longest, *arrays[0].shape[1:]), dtype=np.float32)
    for row, array in enumerate(arrays):
        padded[row, : len(array)] = array
    mask = np.arange(longest)[None, :] < np.asarray(lengths)[:, None]
    return torch.from_numpy(padded), torch.from_numpy(mask)
