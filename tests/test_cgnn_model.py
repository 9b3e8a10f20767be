import dataclasses

import pytest
import torch
from cgnn_fixtures import make_dialogues

from cgnn.batching import collate, prepare_dialogues
from cgnn.checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from cgnn.graph import num_relations
from cgnn.model import ContextualGNN, ModelConfig
from cgnn.predict_core import logits_by_dialogue

torch.set_num_threads(1)
SMALL = ModelConfig(hidden=16, encoder_heads=2, encoder_feedforward=32, wp=2, wf=1, fusion="early")  # one model on "at"


def prepared(count=5, speakers=3, lengths=(2, 12), seed=0):
    dialogues = make_dialogues(count=count, speakers=speakers, lengths=lengths, seed=seed)
    return prepare_dialogues(dialogues, "at", speakers, SMALL.wp, SMALL.wf)


def build(config=SMALL, speakers=3, seed=0):
    torch.manual_seed(seed)
    return ContextualGNN(config, input_dim=11, num_classes=3, num_speakers=speakers).eval()


@pytest.mark.parametrize("changes", [
    dict(encoder="transformer"), dict(encoder="lstm"), dict(encoder="gru"),
    dict(positional=True, position_scale=1.0, relations="speaker_pair"),
    dict(encoder="gru", positional=True, input_norm="layer"),
    dict(project_first=False, encoder_heads=1, input_norm="none"),
    dict(concat_sequence=True, gnn_heads=2, rgcn_bases=2)])
def test_padding_never_changes_a_dialogue_prediction(changes):
    model = build(dataclasses.replace(SMALL, **changes))
    model.train()
    with torch.no_grad():  # non-trivial running statistics for the input batch norm
        model(collate(prepared(seed=5)))
    model.eval()
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
        assert model.gnn.rgcn.num_relations == 4
        pairs = ContextualGNN(dataclasses.replace(SMALL, relations="speaker_pair"), 11, 3, speakers)
        assert pairs.gnn.rgcn.num_relations == num_relations("speaker_pair", speakers) == 2 * speakers * speakers
    config = dataclasses.replace(SMALL, concat_sequence=True, gnn_heads=2, rgcn_bases=2)
    model = build(config)
    items = prepared()
    assert model(collate(items)).shape == (sum(i.length for i in items), 3)
    assert model.classifier.hidden.in_features == 16 + 2 * 16


@pytest.mark.parametrize("relations", ["same_other", "speaker_pair"])
def test_speakers_change_the_output_through_the_relations(relations):
    model = build(dataclasses.replace(SMALL, relations=relations))
    batch = collate(prepared(count=1, lengths=(6, 6)))
    with torch.no_grad():
        normal = model(batch)
        batch.speaker_index = torch.zeros_like(batch.speaker_index)
        one_speaker = model(batch)
    assert not torch.allclose(normal, one_speaker)


def test_a_batch_prepared_with_another_speaker_map_is_refused():
    model = build(dataclasses.replace(SMALL, speaker_map=["spk1", "spk0", "spk2"]))
    dialogues = make_dialogues(count=2, speakers=3)
    with torch.no_grad():
        model(collate(prepare_dialogues(dialogues, "at", 3, 2, 1, speaker_map=["spk1", "spk0", "spk2"])))
        with pytest.raises(ValueError, match=r"speaker_map \[\], but the model uses \['spk1'"):
            model(collate(prepare_dialogues(dialogues, "at", 3, 2, 1)))


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_input_norm_makes_the_feature_scale_irrelevant(norm):
    dialogues = make_dialogues(count=4, speakers=3, lengths=(4, 9))
    outputs = []
    for scale in (1.0, 300.0):
        scaled = [{**d, "features": {k: v * scale for k, v in d["features"].items()}} for d in dialogues]
        model = build(dataclasses.replace(SMALL, input_norm=norm))
        batch = collate(prepare_dialogues(scaled, "at", 3, SMALL.wp, SMALL.wf))
        with torch.no_grad():
            model.train()
            model(batch)  # momentum=None: the running statistics become this batch's
            outputs.append(model.eval()(batch))
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-4, rtol=1e-4)


def test_positions_start_small_and_are_learned():
    model = build(dataclasses.replace(SMALL, positional=True))
    assert model.sequence.position_scale.item() == pytest.approx(SMALL.position_scale)
    assert model.sequence.position_scale.requires_grad
    assert build().sequence.position_scale is None  # the default: no positions


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


def test_checkpoint_round_trip_keeps_a_fixed_speaker_map(tmp_path):
    config = dataclasses.replace(SMALL, speaker_map=["M", "F"], relations="speaker_pair")
    save_checkpoint(tmp_path, build(config, speakers=2), modality="at", feature_dims={"a": 6, "t": 5},
                    label_names=["x", "y", "z"], num_speakers=2, train_config={}, metrics={}, data={})
    assert load_checkpoint(tmp_path).model_config.speaker_map == ["M", "F"]


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


def test_packed_transformer_layer_equals_torch_encoder_layer():
    from cgnn.sequence_encoder import TransformerLayer

    torch.manual_seed(0)
    reference = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    ours = TransformerLayer(8, 2, 16, dropout=0.0, attention_dropout=0.0).eval()
    attention = reference.self_attn
    ours.load_state_dict({
        "attention.qkv.weight": attention.in_proj_weight, "attention.qkv.bias": attention.in_proj_bias,
        "attention.out.weight": attention.out_proj.weight, "attention.out.bias": attention.out_proj.bias,
        "feedforward.0.weight": reference.linear1.weight, "feedforward.0.bias": reference.linear1.bias,
        "feedforward.3.weight": reference.linear2.weight, "feedforward.3.bias": reference.linear2.bias,
        "norm1.weight": reference.norm1.weight, "norm1.bias": reference.norm1.bias,
        "norm2.weight": reference.norm2.weight, "norm2.bias": reference.norm2.bias})
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    padded = torch.randn(2, 5, 8)
    with torch.no_grad():
        expected = reference(padded, src_key_padding_mask=~mask)[mask]
        torch.testing.assert_close(ours(padded[mask], mask), expected, atol=1e-5, rtol=1e-5)


def test_cpu_dropout_keeps_torch_dropout_semantics():
    from cgnn.sequence_encoder import Dropout

    torch.manual_seed(0)
    x = torch.ones(400, 500, requires_grad=True)
    layer = Dropout(0.3)
    out = layer(x)
    kept = out != 0
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / 0.7))
    assert kept.float().mean().item() == pytest.approx(0.7, abs=0.005)
    out.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.7)  # gradient flows through kept units only
    assert torch.equal(layer.eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert not Dropout(1.0).train()(x).any()
