"""An interrupted stage-1 run resumes from last.ckpt: it starts at the saved step with the saved
weights, finishes the planned epochs, and keeps the metric history of the first attempt."""

import json

import lightning.pytorch as pl
import pytest
import torch

import feature_extractor.training.train as train_module
from feature_extractor.corpus import read_index
from feature_extractor.training.resume_check import check_resume_checkpoint
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides


class SimulatedCrash(RuntimeError):
    pass


class CrashAtStep(pl.Callback):
    def __init__(self, step):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.module = pl_module
        if trainer.global_step == self.step:
            raise SimulatedCrash(f"simulated crash at step {self.step}")


class RecordStart(pl.Callback):
    def __init__(self):
        self.first_step = None
        self.first_epoch = None
        self.weights = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.first_step is None:
            self.first_step, self.first_epoch = trainer.global_step, trainer.current_epoch
            self.weights = {k: v.detach().clone() for k, v in pl_module.model.state_dict().items()}


ORIGINAL_BUILD_TRAINER = train_module.build_trainer


def run_with_extra_callback(monkeypatch, callback, overrides):
    def build_with_callback(cfg, run_dir, callbacks):
        return ORIGINAL_BUILD_TRAINER(cfg, run_dir, [*callbacks, callback])

    monkeypatch.setattr(train_module, "build_trainer", build_with_callback)
    return train_module.train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"), *overrides])


def test_interrupted_run_resumes_from_the_saved_step(tmp_path_factory, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    corpus = tiny_corpus(tmp_path_factory)
    n_train = int((read_index(corpus["index"])["split"] == "train").sum())
    steps_per_epoch = -(-n_train // 8)
    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, corpus["index"], "trainer.max_epochs=2")

    crash_step = steps_per_epoch + 1  # inside the second epoch, after epoch 1's last.ckpt
    crash = CrashAtStep(crash_step)
    with pytest.raises(SimulatedCrash):
        run_with_extra_callback(monkeypatch, crash, overrides)
    check_resume_checkpoint(run_dir / "checkpoints/last.ckpt", crash.module)  # the check before fit accepts it
    saved = torch.load(run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert saved["global_step"] == steps_per_epoch and saved["epoch"] == 0
    assert "test" not in json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))

    recorder = RecordStart()
    summary = run_with_extra_callback(monkeypatch, recorder, [*overrides, "resume=true"])
    assert (recorder.first_step, recorder.first_epoch) == (steps_per_epoch, 1)
    for name, tensor in recorder.weights.items():  # training restarted from the saved weights
        assert torch.equal(tensor, saved["state_dict"][f"model.{name}"]), name
    final = torch.load(run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert final["global_step"] == 2 * steps_per_epoch
    history = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["dev_history"]
    assert [entry["epoch"] for entry in history] == [1, 2]  # epoch 1 came from the first attempt
    assert [entry["global_step"] for entry in history] == [steps_per_epoch, 2 * steps_per_epoch]
    assert summary["test"]["n"] == int((read_index(corpus["index"])["split"] == "test").sum())


class CrashInValidation(pl.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_validation_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise SimulatedCrash(f"simulated crash while validating epoch {self.epoch}")


def test_a_run_killed_while_validating_after_a_step_checkpoint_still_evaluates_that_epoch(
        tmp_path_factory, tmp_path, monkeypatch):
    """A step checkpoint on an epoch's last batch would record the epoch as trained; a crash in the
    validation that follows must not leave that epoch without a dev evaluation after resuming."""
    torch.set_num_threads(1)
    corpus = tiny_corpus(tmp_path_factory)
    n_train = int((read_index(corpus["index"])["split"] == "train").sum())
    steps_per_epoch = -(-n_train // 8)
    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, corpus["index"], "trainer.max_epochs=2",
                               f"trainer.checkpoint_every_n_steps={steps_per_epoch}")
    with pytest.raises(SimulatedCrash):
        run_with_extra_callback(monkeypatch, CrashInValidation(epoch=1), overrides)
    run_with_extra_callback(monkeypatch, RecordStart(), [*overrides, "resume=true"])
    history = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["dev_history"]
    assert [entry["epoch"] for entry in history] == [1, 2]
