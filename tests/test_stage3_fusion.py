"""How modalities enter stage 3 (cgnn/modality_fusion.py): each modality normalised on its own
with the same norm, whole modalities dropped in training, and checkpoints without these keys
loading as they were trained."""

import dataclasses
import json

import pytest
import torch
from cgnn_fixtures import make_dialogues

from cgnn.batching import collate, prepare_dialogues
from cgnn.checkpoint import load_checkpoint, save_checkpoint
from cgnn.model import ContextualGNN, ModelConfig
from cgnn.modality_fusion import ModalityDropout, ModalityNorm
from erc_core.config import from_dict

torch.set_num_threads(1)
SMALL = ModelConfig(hidden=16, encoder_heads=2, encoder_feedforward=32, wp=2, wf=1, input_norm="modality")
WIDTHS = [6, 2]  # a wide and a narrow modality


def test_one_modality_is_exactly_the_layer_norm():
    x = torch.randn(7, 9) * 5 + 3
    torch.testing.assert_close(ModalityNorm([9])(x), torch.nn.functional.layer_norm(x, (9,)))


def test_every_modality_gets_the_same_norm_whatever_its_width_and_scale():
    torch.manual_seed(0)
    x = torch.cat([torch.randn(20, 6) * 1000, torch.randn(20, 2) + torch.tensor([5.0, -5.0])], dim=1)
    out = ModalityNorm(WIDTHS)(x)
    wide, narrow = out[:, :6].norm(dim=1), out[:, 6:].norm(dim=1)
    torch.testing.assert_close(wide, torch.full_like(wide, 2.0), atol=1e-2, rtol=0)  # sqrt(D / M) = sqrt(8 / 2)
    torch.testing.assert_close(narrow, torch.full_like(narrow, 2.0), atol=1e-2, rtol=0)
    concat = torch.nn.functional.layer_norm(x, (8,))
    assert concat[:, 6:].norm(dim=1).mean() < 0.25 * concat[:, :6].norm(dim=1).mean()  # one LayerNorm: the loud one wins


def test_rescaling_one_modality_does_not_change_the_model_output():
    dialogues = make_dialogues(count=4, speakers=2, lengths=(3, 8), dims={"a": 6, "t": 2})
    outputs = []
    for scale in (1.0, 500.0):
        scaled = [{**d, "features": {"a": d["features"]["a"] * scale, "t": d["features"]["t"]}} for d in dialogues]
        torch.manual_seed(0)
        model = ContextualGNN(SMALL, input_dim=8, num_classes=3, num_speakers=2, widths=WIDTHS).eval()
        with torch.no_grad():
            outputs.append(model(collate(prepare_dialogues(scaled, "at", 2, SMALL.wp, SMALL.wf))))
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-4, rtol=1e-4)


def test_modality_dropout_drops_whole_modalities_never_all_and_keeps_the_scale():
    torch.manual_seed(0)
    dropout = ModalityDropout(WIDTHS, p=0.4).train()
    x = torch.ones(4000, 8)
    out = dropout(x)
    wide_kept, narrow_kept = out[:, 0] > 0, out[:, 6] > 0
    assert torch.all(out[:, :6] == out[:, :1]) and torch.all(out[:, 6:] == out[:, 6:7])  # whole blocks
    assert torch.all(wide_kept | narrow_kept)                                            # never both dropped
    both = wide_kept & narrow_kept
    assert torch.all(out[both] == 1.0) and torch.all(out[~both].max(dim=1).values == 2.0)  # M / kept
    # a modality is dropped when its draw says so and the other one's does not: 0.4 * 0.6
    assert (~wide_kept).float().mean().item() == pytest.approx(0.24, abs=0.03)
    assert torch.equal(dropout.eval()(x), x)
    assert torch.equal(ModalityDropout([8], p=0.9).train()(x), x)                      # one modality: untouched


def test_a_checkpoint_without_the_new_keys_loads_as_it_was_trained(tmp_path):
    old_keys = {k: v for k, v in dataclasses.asdict(SMALL).items() if k not in ("modality_dropout", "fusion")}
    old_keys["input_norm"] = "layer"
    config = from_dict(ModelConfig, old_keys)
    assert config.modality_dropout == 0.0 and config.input_norm == "layer"
    torch.manual_seed(0)
    model = ContextualGNN(config, input_dim=8, num_classes=3, num_speakers=2, widths=WIDTHS).eval()
    save_checkpoint(tmp_path, model, modality="at", feature_dims={"a": 6, "t": 2}, label_names=["x", "y", "z"],
                    num_speakers=2, train_config={}, metrics={}, data={})
    stored = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    stored["model"] = old_keys                                      # as a checkpoint written before the keys
    (tmp_path / "config.json").write_text(json.dumps(stored), encoding="utf-8")
    loaded = load_checkpoint(tmp_path)
    assert loaded.model_config.fusion == "early" and not hasattr(loaded.model, "branches")
    assert isinstance(loaded.model.sequence.norm, torch.nn.LayerNorm)
    assert loaded.model.sequence.modality_dropout.widths == WIDTHS
