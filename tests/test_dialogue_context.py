"""Dialogue context in the text input: which utterances, in which order, and how they are cut."""

import pandas as pd
import pytest
from transformers import PreTrainedTokenizerFast

from feature_extractor.encoders.tiny_preset import train_wordpiece
from feature_extractor.inputs.collate import Collator
from feature_extractor.inputs.dialogue_context import ContextWindow, encode_with_context, with_dialogue_context

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()


@pytest.fixture(scope="module")
def tokenizer():
    texts = [" ".join(WORDS), "A: B: C: target words here"]
    wordpiece = train_wordpiece(texts, vocab_size=200)
    return PreTrainedTokenizerFast(tokenizer_object=wordpiece, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _table() -> pd.DataFrame:
    # file order is not turn order, and two dialogues interleave
    return pd.DataFrame({
        "dialogue_id": ["d1", "d2", "d1", "d1", "d2", "d1"],
        "turn": [2, 0, 0, 3, 1, 1],
        "speaker": ["A", "C", "A", "B", "C", "B"],
        "text": ["two", "x0", "zero", "three", "x1", "one"],
    })


def test_context_is_the_previous_and_following_utterances_of_the_same_dialogue_in_turn_order():
    table = with_dialogue_context(_table(), ContextWindow(before=2, after=1))
    by_text = table.set_index(_table()["text"])
    assert by_text.loc["three", "context_before"] == ("B: one", "A: two")
    assert by_text.loc["three", "context_after"] == ()
    assert by_text.loc["zero", "context_before"] == () and by_text.loc["zero", "context_after"] == ("B: one",)
    assert by_text.loc["x1", "context_before"] == ("C: x0",)
    assert by_text.loc["one", "text"] == "B: one"


def test_no_window_leaves_the_table_as_it_was():
    assert with_dialogue_context(_table(), ContextWindow()).equals(_table())


def test_negative_window_is_refused():
    with pytest.raises(ValueError, match="before=-1"):
        ContextWindow(before=-1)


def test_without_context_the_ids_are_the_tokenizers_own(tokenizer):
    text = " ".join(WORDS)
    expected = tokenizer(text, truncation=True, max_length=8)["input_ids"]
    assert encode_with_context(tokenizer, text, (), (), max_tokens=8) == expected


def test_the_target_is_kept_and_the_farthest_context_is_cut_first(tokenizer):
    before = tuple(f"A: {word}" for word in WORDS)
    target = "B: target words here"
    ids = encode_with_context(tokenizer, target, before, (), max_tokens=20)
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    assert len(ids) == 20
    assert ids[-len(target_ids) - 1:-1] == target_ids  # [CLS] context [SEP] target [SEP]
    context_kept = ids[1:len(ids) - len(target_ids) - 2]
    full_context = tokenizer(" [SEP] ".join(before), add_special_tokens=False)["input_ids"]
    assert context_kept == full_context[-len(context_kept):]  # the nearest utterances survive


def test_following_context_is_cut_at_its_far_end(tokenizer):
    after = tuple(f"A: {word}" for word in WORDS)
    ids = encode_with_context(tokenizer, "B: target", ("C: here",), after, max_tokens=24)
    decoded = tokenizer.decode(ids)
    assert len(ids) == 24
    assert "here" in decoded and "target" in decoded and "alpha" in decoded and "sigma" not in decoded


def test_collator_pads_context_inputs_within_the_budget(tokenizer):
    items = [
        {"index": 0, "segment_id": "s0", "label": 0, "text": "B: target", "context_before": ("A: alpha beta",),
         "context_after": ()},
        {"index": 1, "segment_id": "s1", "label": 1, "text": "A: alpha", "context_before": (), "context_after": ()},
    ]
    batch = Collator(tokenizer, max_tokens=12)(items)
    assert batch["input_ids"].shape[0] == 2 and batch["input_ids"].shape[1] <= 12
    assert batch["token_mask"].sum(dim=1).tolist() == [
        len(encode_with_context(tokenizer, item["text"], item["context_before"], (), 12)) for item in items]
