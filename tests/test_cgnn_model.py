import dataclasses

import pytest
import torch

from cgnn.batching import collate, prepare_dialogues
from cgnn.checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from cgnn.graph import num_relations
from cgnn.model import ContextualGNN, ModelConfig
from cgnn.predict_core import logits_by_dialogue
from cgnn_fixtures import make_dialogues

torch.set_num_threads(1)
SMALL = ModelConfig(hidden=16, encoder_heads=2, encoder_feedforward=32, wp=2, wf=1)


def prepared(count=5, speakers=3, lengths=(2, 12), seed=0):
    dialogues = make_dialogues(count=count, speakers=speakers, lengths=lengths, seed=seed)
    return prepare_dialogues(dialogues, "at", speakers, SMALL.wp, SMALL.wf)


def build(config=SMALL, speakers=3, seed=0):
    torch.manual_seed(seed)
    return ContextualGNN(config, input_dim=11, num_classes=3, num_speakers=speakers).eval()


@pytest.mark.parametrize("encoder", ["transformer", "lstm", "gru"])
def test_padding_never_changes_a_dialogue_prediction(encoder):
    model = build(dataclasses.replace(SMALL, encoder=encoder))
    items = prepared(lengths=(2, 12))
    shortest = min(items, key=lambda item: item.length)
    assert shortest.length < max(item.length for item in items)  # it is padded in the batch
    with torch.no_grad():
        alone = model(collate([shortest]))
        for order in (items, items[::-1]):
            batched = model(collate(order))
            start = sum(item.length for item in order[: order.index(shortest)])
            torch.testing.assert_close(batched[start: start + shortest.length], alone, atol=1e-5, rtol=1e-5)


def test_output_shapes_and_relation_count():
    for speakers in (1, 2, 9):
        model = ContextualGNN(SMALL, 11, 3, speakers)
        assert model.gnn.rgcn.num_relations == num_relations(speakers) == 2 * speakers * speakers
    config = dataclasses.replace(SMALL, concat_sequence=True, gnn_heads=2, rgcn_bases=2)
    model = build(config)
    items = prepared()
    assert model(collate(items)).shape == (sum(i.length for i in items), 3)
    assert model.classifier.hidden.in_features == 16 + 2 * 16


def test_relation_types_change_the_output():
    model = build()
    items = prepared(count=1, lengths=(6, 6))
    batch = collate(items)
    with torch.no_grad():
        normal = model(batch)
        batch.edge_type = torch.zeros_like(batch.edge_type)
        one_relation = model(batch)
    assert not torch.allclose(normal, one_relation)


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model = build()
    items = prepared()
    expected = torch.cat(logits_by_dialogue(model, items, 2, "cpu"))
    save_checkpoint(tmp_path, model, modality="at", feature_dims={"a": 6, "t": 5},
                    label_names=["neutral", "happy", "angry"], num_speakers=3, train_config={},
                    metrics={}, data={})
    loaded = load_checkpoint(tmp_path)
    assert loaded.modality == "at" and loaded.num_speakers == 3 and loaded.model_config == SMALL
    assert torch.equal(torch.cat(logits_by_dialogue(loaded.model, items, 2, "cpu")), expected)


def test_weights_from_another_save_are_detected(tmp_path):
    kwargs = dict(modality="at", feature_dims={"a": 6, "t": 5}, label_names=["x", "y", "z"],
                  num_speakers=3, train_config={}, metrics={}, data={})
    save_checkpoint(tmp_path / "one", build(seed=1), **kwargs)
    save_checkpoint(tmp_path / "two", build(seed=2), **kwargs)
    (tmp_path / "one" / "model.safetensors").write_bytes((tmp_path / "two" / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointMismatchError, match="not from the same save"):
        load_checkpoint(tmp_path / "one")


def test_cgnn_never_imports_the_audio_text_stack():
    import ast
    from pathlib import Path

    forbidden = {"transformers", "librosa", "soundfile", "soxr", "feature_extractor", "lightning",
                 "pytorch_lightning", "tokenizers"}
    package = Path(__file__).resolve().parents[1] / "cgnn"
    found = []
    for file in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [(file.name, n) for n in names if n.split(".")[0] in forbidden]
    assert len(list(package.rglob("*.py"))) > 10 and found == []
