"""Value ranges declared next to each option (`option(..., check=...)`) are checked when a config is
loaded: the message names the key, what was expected, the value, and the file or override that set
it. A request for a device the machine lacks is one line naming the key, before any training."""

import pytest
import yaml

from cgnn import train as stage3_train
from cgnn.config import Stage3Config
from erc_core import device
from erc_core.checks import at_least, between
from erc_core.config import ConfigError, describe_keys, load_config
from erc_core.errors import UserError
from feature_extractor.training.config import Stage1Config


@pytest.mark.parametrize("schema, override, expected", [
    (Stage1Config, "optim.lr=-0.001", "optim.lr: expected a number > 0, got -0.001"),
    (Stage1Config, "optim.lr=0", "optim.lr: expected a number > 0, got 0.0"),
    (Stage1Config, "data.batch_size=0", "data.batch_size: expected an integer >= 1, got 0"),
    (Stage1Config, "trainer.max_epochs=0", "trainer.max_epochs: expected an integer >= 1, got 0"),
    (Stage1Config, "trainer.max_epochs=-1", "trainer.max_epochs: expected an integer >= 1, got -1"),
    (Stage1Config, "trainer.precision=17", "trainer.precision: expected one of auto, transformer-engine"),
    (Stage1Config, "trainer.accelerator=tpu", "trainer.accelerator: expected one of auto, cpu, cuda, gpu, mps"),
    (Stage1Config, "optim.warmup_ratio=1.0", "optim.warmup_ratio: expected a number in [0, 1), got 1.0"),
    (Stage1Config, "model.audio.layerdrop=1.5", "model.audio.layerdrop: expected a number in [0, 1)"),
    (Stage1Config, "model.audio.whisper_window=31s", "model.audio.whisper_window: expected clip or whole seconds"),
    (Stage1Config, "model.audio.whisper_window=10", "model.audio.whisper_window: expected clip or whole seconds"),
    (Stage1Config, "model.audio.whisper_window=0s", "model.audio.whisper_window: expected clip or whole seconds"),
    (Stage3Config, "optim.warmup=-0.5", "optim.warmup: expected a number in [0, 1), got -0.5"),
    (Stage3Config, "optim.lr=-1.0", "optim.lr: expected a number > 0, got -1.0"),
    (Stage3Config, "data.batch_size=0", "data.batch_size: expected an integer >= 1, got 0"),
    (Stage3Config, "trainer.max_epochs=-1", "trainer.max_epochs: expected an integer >= 1, got -1"),
    (Stage3Config, "optim.scheduler_factor=1", "optim.scheduler_factor: expected a number in (0, 1), got 1.0"),
    (Stage3Config, "trainer.early_stopping_start=nan", "trainer.early_stopping_start: expected a number in [0, 1]"),
])
def test_a_value_out_of_range_names_the_override_and_the_key(schema, override, expected):
    with pytest.raises(ConfigError) as error:
        load_config(schema, None, [override])
    assert str(error.value).startswith(f"command line {override!r}: {expected}")


def test_the_file_that_set_a_bad_value_is_blamed_unless_an_override_replaced_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"optim": {"lr": -0.5}, "trainer": {"max_epochs": 2}}))
    with pytest.raises(ConfigError, match=rf"^{path}: optim.lr: expected a number > 0, got -0.5$"):
        load_config(Stage3Config, path)
    assert load_config(Stage3Config, path, ["optim.lr=0.01"]).optim.lr == 0.01
    with pytest.raises(ConfigError, match=r"^command line 'trainer=\{max_epochs: 0\}': trainer.max_epochs"):
        load_config(Stage3Config, path, ["optim.lr=0.01", "trainer={max_epochs: 0}"])


def test_an_unset_optional_is_not_checked_and_boundaries_hold():
    config = load_config(Stage1Config, None, ["data.max_train_samples=null", "optim.warmup_ratio=0",
                                              "trainer.cpu_threads=1"])
    assert config.data.max_train_samples is None and config.optim.warmup_ratio == 0.0
    assert at_least(1).problem(1) is None and between(0, 1, high_open=True).problem(1) is not None
    for window in ("clip", "1s", "10s", "30s"):
        assert load_config(Stage1Config, None, [f"model.audio.whisper_window={window}"]).model.audio.whisper_window == window


def test_help_states_each_declared_range():
    rows = {key: text for key, _, _, text in describe_keys(Stage3Config)}
    assert rows["optim.warmup"].endswith("(allowed: a number in [0, 1))")
    assert rows["data.batch_size"].endswith("(allowed: an integer >= 1)")


def test_a_range_error_of_a_command_is_one_error_line(capsys):
    assert stage3_train.main(["optim.warmup=-0.5"]) == 2
    err = capsys.readouterr().err
    assert err == "error: command line 'optim.warmup=-0.5': optim.warmup: expected a number in [0, 1), got -0.5\n"


def no_gpu(monkeypatch):
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("accelerator", ["gpu", "cuda"])
def test_a_gpu_request_on_a_machine_without_one_names_the_key(accelerator, monkeypatch):
    no_gpu(monkeypatch)
    with pytest.raises(UserError, match=rf"^trainer.accelerator={accelerator}: this machine has no CUDA GPU"):
        device.single_device(accelerator, "auto")
    with pytest.raises(UserError, match=r"^trainer.devices=\[1\]: this machine has no CUDA GPU"):
        device.single_device("auto", [1])


def test_stage1_refuses_a_gpu_request_before_lightning_sees_it(monkeypatch, tmp_path):
    from feature_extractor.training.trainer import build_trainer

    no_gpu(monkeypatch)
    cfg = load_config(Stage1Config, None, ["trainer.accelerator=gpu", "tracking.comet=false"])
    with pytest.raises(UserError, match=r"^trainer.accelerator=gpu: this machine has no CUDA GPU \(use cpu or auto\)$"):
        build_trainer(cfg, tmp_path, [])
