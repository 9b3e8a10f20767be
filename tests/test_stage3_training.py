"""Stage-3 optimisation logic: learning-rate schedule, early stopping, modality `all`, resume
with a per-step schedule."""

import math

import pytest
import torch
from cgnn_fixtures import make_dialogues, stage3_config, write_pickle

from cgnn import train as cgnn_train
from cgnn.config import OptimConfig, Stage3Config, Stage3TrainerConfig
from cgnn.conversation_pickle import concrete_modality
from cgnn.train import _Progress, build_scheduler, should_stop, train
from erc_core.config import ConfigError, load_config

torch.set_num_threads(1)


def learning_rates(optim, epochs, steps_per_epoch):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=optim.lr)
    scheduler = build_scheduler(optimizer, optim, epochs * steps_per_epoch)
    rates = []
    for _ in range(epochs * steps_per_epoch):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("kind", ["cosine", "linear", "constant"])
def test_warmup_then_decay_per_optimizer_step(kind):
    rates = learning_rates(OptimConfig(lr=0.5, warmup=0.2, scheduler=kind), epochs=10, steps_per_epoch=5)
    # 50 steps, 10 of warmup
    for step in range(10):                                # linear warmup from lr / 10 to lr
        assert rates[step] == pytest.approx(0.5 * (step + 1) / 10)
    for step in range(10, 50):
        done = (step - 10) / 40
        expected = {"cosine": 0.5 * (1 + math.cos(math.pi * done)), "linear": 1 - done, "constant": 1}[kind]
        assert rates[step] == pytest.approx(0.5 * expected)


def test_plateau_keeps_the_cogmen_scheduler():
    optim = OptimConfig(scheduler="plateau", scheduler_patience=3, scheduler_factor=0.5)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = build_scheduler(optimizer, optim, total_steps=4)
    assert isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    with pytest.raises(ConfigError, match="optim.scheduler: Invalid value 'step'"):
        load_config(Stage3Config, None, ["optim.scheduler=step"])


def test_early_stopping_never_stops_in_the_first_part_of_the_budget():
    trainer = Stage3TrainerConfig(max_epochs=40, early_stopping_patience=5, early_stopping_start=0.5)
    stuck_since_epoch_1 = dict(best_f1=0.1, best_epoch=1, best_state=None, history=[])
    assert not should_stop(trainer, _Progress(epoch=19, **stuck_since_epoch_1))
    assert should_stop(trainer, _Progress(epoch=20, **stuck_since_epoch_1))
    improving = dict(best_f1=0.5, best_state=None, history=[])
    assert not should_stop(trainer, _Progress(epoch=30, best_epoch=26, **improving))
    assert should_stop(trainer, _Progress(epoch=31, best_epoch=26, **improving))
    never = Stage3TrainerConfig(max_epochs=40, early_stopping_patience=0)
    assert not should_stop(never, _Progress(epoch=39, **stuck_since_epoch_1))


def test_modality_all_takes_every_one_letter_feature():
    assert concrete_modality("all", {"t": 384}) == "t"
    assert concrete_modality("all", {"a": 100, "t": 768, "v": 512}) == "atv"
    assert concrete_modality("all", {"t": 768, "a": 1024, "fused": 1792, "p": 16}) == "tap"
    assert concrete_modality("all", {"fused": 128}) == "fused"
    assert concrete_modality("at", {"a": 1, "t": 1, "v": 1}) == "at"
    with pytest.raises(ValueError, match="no one-letter features"):
        concrete_modality("all", {"text": 3, "audio": 4})


def test_defaults_train_on_a_text_only_pickle(tmp_path):
    data = tmp_path / "text_only.pkl"
    write_pickle(data, make_dialogues(count=16, dims={"t": 7}, seed=2))
    summary = train(stage3_config(data, tmp_path / "run", "data.modality=all", "trainer.max_epochs=8", "optim.lr=1e-2",
                                  "optim.scheduler=cosine"))
    assert summary["modality"] == "t"
    losses = [row["train_loss"] for row in summary["history"]]
    assert losses[-1] < 0.7 * losses[0]


def test_resume_after_an_interruption_reproduces_the_straight_run(tmp_path, monkeypatch):
    data = tmp_path / "conv.pkl"
    write_pickle(data, count=8, seed=5)
    straight = train(stage3_config(data, tmp_path / "straight", "trainer.deterministic=true"))

    original = cgnn_train._train_one_epoch

    def interrupted(run, progress, epoch):
        if epoch == 3:
            raise KeyboardInterrupt
        return original(run, progress, epoch)

    monkeypatch.setattr(cgnn_train, "_train_one_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(stage3_config(data, tmp_path / "resumed", "trainer.deterministic=true"))
    monkeypatch.setattr(cgnn_train, "_train_one_epoch", original)
    resumed = train(stage3_config(data, tmp_path / "resumed", "trainer.deterministic=true", "resume=true"))
    torch.use_deterministic_algorithms(False)
    assert [row["lr"] for row in straight["history"]] == [row["lr"] for row in resumed["history"]]
    assert resumed["history"] == straight["history"]
    assert (tmp_path / "straight" / "model.safetensors").read_bytes() == \
        (tmp_path / "resumed" / "model.safetensors").read_bytes()


@pytest.mark.parametrize("name", ["default", "cogmen", "demo", "kemdy19"])
def test_every_stage3_config_trains_an_epoch(tmp_path, name):
    from pathlib import Path

    dialogues = make_dialogues(count=6, dims={"t": 14}, seed=1)
    for dialogue in dialogues:  # COGMEN's fixed map needs IEMOCAP's speaker names
        dialogue["speakers"] = ["MF"[i % 2] for i in range(len(dialogue["speakers"]))]
    write_pickle(tmp_path / "conv.pkl", dialogues)
    path = Path(__file__).resolve().parents[1] / "configs" / "stage3" / f"{name}.yaml"
    config = load_config(Stage3Config, path, [f"data.path={tmp_path / 'conv.pkl'}", f"run_dir={tmp_path / 'run'}",
                                              "trainer.max_epochs=1", "tracking.comet=false", "data.modality=all"])
    summary = train(config)
    assert summary["modality"] == "t" and summary["epochs_run"] == 1
