"""Late fusion (cgnn/late_fusion.py): one GNN per modality, each trained on its own loss, mixed
with weights chosen on dev, so a modality that does not help dev gets no say."""

import numpy as np
import pytest
import torch
from cgnn_fixtures import make_dialogues, stage3_config, write_pickle

from cgnn.batching import prepare_dialogues
from cgnn.checkpoint import load_checkpoint
from cgnn.late_fusion import LateFusionGNN, choose_fusion_weights, simplex_grid
from cgnn.model import ContextualGNN, ModelConfig, build_model
from cgnn.predict_core import logits_by_dialogue
from cgnn.train import train

torch.set_num_threads(1)
SMALL = ModelConfig(hidden=16, encoder_heads=2, encoder_feedforward=32, wp=2, wf=1, fusion="late")


def test_the_grid_covers_the_simplex_with_even_weights_first():
    grid = simplex_grid(2)
    assert len(grid) == 11 and np.allclose(grid.sum(axis=1), 1)
    assert np.allclose(grid[0], [0.5, 0.5]) and any(np.allclose(w, [1, 0]) for w in grid)
    assert len(simplex_grid(3)) == 66 and len(simplex_grid(4)) == 35


def test_one_modality_is_the_plain_model_several_get_a_branch_each():
    assert isinstance(build_model(SMALL, [11], 3, 2), ContextualGNN)
    fused = build_model(SMALL, [6, 5], 3, 2)
    assert isinstance(fused, LateFusionGNN) and [b.sequence.project.in_features for b in fused.branches] == [6, 5]
    assert isinstance(build_model(ModelConfig(fusion="early"), [6, 5], 3, 2), ContextualGNN)


class FixedLogits(torch.nn.Module):
    """A stand-in branch: the gold class (informative) or random logits (uninformative)."""

    def __init__(self, informative):
        super().__init__()
        self.informative = informative

    def forward(self, batch):
        gold = batch.labels.clamp(min=0)
        if self.informative:
            return torch.nn.functional.one_hot(gold, 3).float() * 2
        return torch.randn(len(gold), 3, generator=torch.Generator().manual_seed(0)) * 5


def test_dev_chooses_the_informative_modality():
    model = LateFusionGNN(SMALL, [6, 5], 3, 2, branch=lambda width: FixedLogits(width == 5))
    items = prepare_dialogues(make_dialogues(count=6), "at", 2, SMALL.wp, SMALL.wf)
    weights = choose_fusion_weights(model, items, 4, "cpu")
    assert weights[1] > 0.8 and model.fusion_weights.tolist() == pytest.approx(weights)
    predicted = torch.cat(logits_by_dialogue(model, items, 4, "cpu")).argmax(-1)
    assert torch.equal(predicted, torch.cat([item.labels for item in items]))


def test_a_noise_modality_gets_little_weight_and_the_checkpoint_predicts_as_trained(tmp_path):
    dialogues = make_dialogues(count=24, dims={"a": 6, "t": 5}, noise=0.3)
    rng = np.random.default_rng(1)
    for dialogue in dialogues:  # `a` carries nothing about the label
        dialogue["features"]["a"] = rng.normal(size=dialogue["features"]["a"].shape).astype(np.float32)
    data = write_pickle(tmp_path / "noise.pkl", dialogues=dialogues)
    summary = train(stage3_config(data.source, tmp_path / "run", "model.fusion=late", "trainer.max_epochs=8",
                                  "baseline=false"))
    checkpoint = load_checkpoint(tmp_path / "run")
    weights = checkpoint.model.fusion_weights.tolist()
    assert isinstance(checkpoint.model, LateFusionGNN) and weights[1] >= 0.5, weights
    items = checkpoint.prepare(data.in_split("dev"))
    predicted = torch.cat(logits_by_dialogue(checkpoint.model, items, 4, "cpu")).argmax(-1).numpy()
    gold = np.concatenate([d["labels"] for d in data.in_split("dev")])
    assert summary["dev"]["accuracy"] == pytest.approx(float((predicted == gold).mean()))
