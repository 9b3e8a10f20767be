"""Dialogue context in the text input: the utterances around the target, as `speaker: text`.

One rule for stage 1, stage 2 and predict (they all build their text input here and in
`encode_with_context`): the `before` previous and `after` following utterances of the same
dialogue, in the order of the table given (the index's `turn` order), taken from that table
before any utterance is set aside, so an utterance with unreadable audio still gives context.
With a window, the target is written `speaker: text` too, so the model can tell who speaks."""

import weakref
from dataclasses import dataclass

import pandas as pd

CONTEXT_BEFORE = "context_before"
CONTEXT_AFTER = "context_after"


@dataclass(frozen=True)
class ContextWindow:
    before: int = 0
    after: int = 0

    def __post_init__(self):
        if self.before < 0 or self.after < 0:
            raise ValueError(f"context window before={self.before}, after={self.after}: expected counts >= 0")

    @property
    def enabled(self) -> bool:
        return self.before > 0 or self.after > 0

    @classmethod
    def of_export(cls, export) -> "ContextWindow":
        """The window a stage-1 export (export.Stage1Export) was trained with."""
        return cls(export.inputs.context_before, export.inputs.context_after)


def with_dialogue_context(table: pd.DataFrame, window: ContextWindow) -> pd.DataFrame:
    """`table` with `context_before` / `context_after` (tuples of `speaker: text`, nearest last /
    nearest first) and, with a window, the target's `text` as `speaker: text`. Without a window
    the table is returned unchanged."""
    if not window.enabled:
        return table
    table = table.copy()
    spoken = (table["speaker"].astype(str) + ": " + table["text"].astype(str)).tolist()
    turns = table["turn"].to_numpy()
    before, after = [()] * len(table), [()] * len(table)
    for positions in table.groupby("dialogue_id", sort=False).indices.values():
        ordered = sorted(positions, key=lambda p: turns[p])
        for k, position in enumerate(ordered):
            before[position] = tuple(spoken[p] for p in ordered[max(0, k - window.before):k])
            after[position] = tuple(spoken[p] for p in ordered[k + 1:k + 1 + window.after])
    table[CONTEXT_BEFORE], table[CONTEXT_AFTER] = before, after
    table["text"] = spoken
    return table


def encode_with_context(tokenizer, target: str, before, after, max_tokens: int) -> list[int]:
    """Token ids of `before... [SEP] target [SEP] after...` within `max_tokens`, special tokens
    included. The target is kept whole when it fits (else cut at its end); the context fills what
    is left, the utterances farthest from the target cut first."""
    sep = [tokenizer.sep_token_id]
    pair = bool(before or after)
    template = special_token_template(tokenizer)
    budget = max_tokens - template.count(pair) - (1 if before and after else 0)
    target_ids = _ids(tokenizer, target)[:max(budget, 1)]
    before_ids, after_ids = _joined(tokenizer, before, sep), _joined(tokenizer, after, sep)
    room = max(budget - len(target_ids), 0)
    after_take = min(len(after_ids), room // 2 if before_ids else room)
    before_take = min(len(before_ids), room - after_take)
    after_take = min(len(after_ids), room - before_take)
    before_ids, after_ids = before_ids[len(before_ids) - before_take:], after_ids[:after_take]
    if not pair:
        return template.single(target_ids)
    if not before:
        return template.pair(target_ids, after_ids)
    return template.pair(before_ids, target_ids + (sep + after_ids if after else []))


@dataclass(frozen=True)
class SpecialTokenTemplate:
    """Where a tokenizer puts its special tokens around one text and around a pair.

    Read off the tokenizer's own output for probe texts, because fast tokenizers (transformers 5)
    no longer expose `build_inputs_with_special_tokens` and we assemble ids cut to a budget."""

    single_prefix: tuple
    single_suffix: tuple
    pair_prefix: tuple
    pair_middle: tuple
    pair_suffix: tuple

    def count(self, pair: bool) -> int:
        parts = (self.pair_prefix, self.pair_middle, self.pair_suffix) if pair else (self.single_prefix, self.single_suffix)
        return sum(map(len, parts))

    def single(self, ids: list[int]) -> list[int]:
        return [*self.single_prefix, *ids, *self.single_suffix]

    def pair(self, first: list[int], second: list[int]) -> list[int]:
        return [*self.pair_prefix, *first, *self.pair_middle, *second, *self.pair_suffix]


_TEMPLATES = weakref.WeakKeyDictionary()  # tokenizer -> its template, read once


def special_token_template(tokenizer) -> SpecialTokenTemplate:
    if tokenizer not in _TEMPLATES:
        probe_a, probe_b = _ids(tokenizer, "a"), _ids(tokenizer, "b")
        single = tokenizer("a")["input_ids"]
        pair = tokenizer("a", "b")["input_ids"]
        a_at = _find(single, probe_a, 0)
        first_at = _find(pair, probe_a, 0)
        second_at = _find(pair, probe_b, first_at + len(probe_a))
        _TEMPLATES[tokenizer] = SpecialTokenTemplate(
            tuple(single[:a_at]), tuple(single[a_at + len(probe_a):]), tuple(pair[:first_at]),
            tuple(pair[first_at + len(probe_a):second_at]), tuple(pair[second_at + len(probe_b):]),
        )
    return _TEMPLATES[tokenizer]


def _find(ids: list[int], part: list[int], start: int) -> int:
    for position in range(start, len(ids) - len(part) + 1):
        if ids[position:position + len(part)] == part:
            return position
    raise ValueError(f"the tokenizer's output {ids} does not contain its own ids {part} of a probe text")


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _joined(tokenizer, utterances, sep: list[int]) -> list[int]:
    ids = []
    for k, utterance in enumerate(utterances):
        ids += (sep if k else []) + _ids(tokenizer, utterance)
    return ids
