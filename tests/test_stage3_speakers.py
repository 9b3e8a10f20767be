"""Speaker counts. The default `same_other` relations only ask whether two utterances share a
speaker, so a shipped model (trained on two-speaker dialogues) predicts a conversation of any
number of speakers; `speaker_pair` has weights per speaker index and refuses a dialogue with more
speakers than it was built for, naming the dialogue."""

from pathlib import Path

import numpy as np
import pytest
import torch

from cgnn.checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from cgnn.conversation_pickle import read_conversations
from cgnn.model import ContextualGNN, ModelConfig
from cgnn.predict_core import predict_dialogue

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "model_checkpoints" / "demo_stage3_at"


def party(dialogue, speakers: int) -> dict:
    """A demo test dialogue's features, spoken in turn by `speakers` people."""
    n = len(dialogue["segment_ids"])
    return {"dialogue_id": "party", "segment_ids": [f"party_{i:03d}" for i in range(n)],
            "speakers": [f"person{i % speakers}" for i in range(n)], "features": dialogue["features"]}


def test_a_shipped_model_predicts_a_conversation_of_more_speakers_than_it_was_trained_on():
    checkpoint = load_checkpoint(SHIPPED)
    assert checkpoint.model_config.relations == "same_other" and checkpoint.num_speakers == 2
    dialogue = max(read_conversations(REPO / "data" / "demo_features.pkl").in_split("test"),
                   key=lambda d: len(d["segment_ids"]))
    by_count = {count: predict_dialogue(checkpoint, party(dialogue, count)) for count in (2, 3, 5)}
    for probabilities in by_count.values():
        assert probabilities.shape == (len(dialogue["segment_ids"]), len(checkpoint.label_names))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # who spoke with whom reaches the graph: the third speaker changes the relations, so the output
    assert not np.allclose(by_count[2], by_count[3])


def test_speaker_pair_refuses_more_speakers_than_it_has_weights_for(tmp_path):
    config = ModelConfig(hidden=8, encoder_heads=2, encoder_feedforward=16, relations="speaker_pair")
    model = ContextualGNN(config, input_dim=4, num_classes=3, num_speakers=2)
    save_checkpoint(tmp_path, model, modality="a", feature_dims={"a": 4}, label_names=["x", "y", "z"],
                    num_speakers=2, train_config={}, metrics={}, data={})
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint.speaker_limit == 2
    record = {"dialogue_id": "trio", "segment_ids": ["u0", "u1", "u2"], "speakers": ["p", "q", "r"],
              "features": {"a": np.zeros((3, 4), np.float32)}}
    with pytest.raises(CheckpointMismatchError, match="dialogue 'trio' has 3 speakers; the model handles at most 2"):
        predict_dialogue(checkpoint, record)
    record["speakers"] = ["p", "q", "p"]
    assert predict_dialogue(checkpoint, record).shape == (3, 3)
