"""Configs: typed validation of every key, the right place blamed, did-you-mean, --help and
--print-config, one vocabulary for both training stages."""

import dataclasses
from typing import Literal, Optional

import pytest
import yaml

from cgnn import train as stage3_train
from cgnn.config import Stage3Config
from erc_core.config import ConfigError, describe_keys, load_config, option
from feature_extractor.training.config import Stage1Config


@dataclasses.dataclass
class Inner:
    hidden: int = option(100, help="width")
    positional: bool = option(True, help="positions on/off")
    encoder: Literal["transformer", "lstm"] = option("transformer", help="kind")
    names: list = option(factory=lambda: ["a"], help="names")


@dataclasses.dataclass
class Outer:
    epochs: int = option(5, help="epochs")
    lr: float = option(1e-4, help="learning rate")
    head_lr: Optional[float] = option(None, help="head learning rate")
    model: Inner = option(factory=Inner, help="")


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 7\nlr: 1e-3\nmodel:\n  hidden: 32\n")
    cfg = load_config(Outer, path, ["lr=0.5", "model.names=[t, a]", "head_lr=2"])
    assert cfg.epochs == 7 and cfg.lr == 0.5 and cfg.head_lr == 2.0 and isinstance(cfg.head_lr, float)
    assert cfg.model.hidden == 32 and cfg.model.names == ["t", "a"]
    assert load_config(Outer, path).lr == 0.001  # YAML's 1e-3 (no dot) is a float here


@pytest.mark.parametrize("override, message", [
    ("model.positional=flase", "model.positional: Value 'flase' is not a valid bool"),
    ("epochs=2.5", "epochs: Value '2.5' of type 'float' could not be converted to Integer"),
    ("epochs=[1,2]", "epochs: Value '[1, 2]'"),
    ("lr=fast", "lr: Value 'fast' of type 'str' could not be converted to Float"),
    ("model.encoder=lstmm", "model.encoder: Invalid value 'lstmm', expected one of"),
])
def test_wrong_types_and_choices_are_refused_naming_the_override(override, message):
    with pytest.raises(ConfigError) as error:
        load_config(Outer, None, [override])
    assert str(error.value).startswith(f"command line {override!r}: ")
    assert message in str(error.value)


def test_a_typo_gets_a_did_you_mean_and_blames_the_command_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 7\n")
    with pytest.raises(ConfigError, match=r"^command line 'model.hiden=3': unknown key model.hiden; did you mean model.hidden\?"):
        load_config(Outer, path, ["model.hiden=3"])


def test_a_mistake_in_the_yaml_file_blames_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 7\nmodel:\n  positional: flase\n")
    with pytest.raises(ConfigError, match=rf"^{path}: model.positional: Value 'flase'"):
        load_config(Outer, path, ["epochs=3"])
    path.write_text("epcohs: 7\n")
    with pytest.raises(ConfigError, match=rf"^{path}: unknown key epcohs; did you mean epochs\?"):
        load_config(Outer, path)
    path.write_text("epochs: [7\n")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid YAML"):
        load_config(Outer, path)
    with pytest.raises(ConfigError, match="missing.yaml: config file not found"):
        load_config(Outer, tmp_path / "missing.yaml")


def test_an_override_without_equals_sign_is_explained():
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(Outer, None, ["epochs"])


def test_describe_keys_lists_every_leaf_with_type_and_default():
    rows = {key: (kind, default, text) for key, kind, default, text in describe_keys(Outer)}
    assert rows["model.positional"] == ("bool", True, "positions on/off")
    assert rows["model.encoder"][0] == "transformer|lstm"
    assert rows["head_lr"][:2] == ("float or null", None)
    assert set(rows) == {"epochs", "lr", "head_lr", "model.hidden", "model.positional", "model.encoder", "model.names"}


def test_help_lists_every_stage3_key(capsys):
    assert stage3_train.main(["--help"]) == 0
    text = capsys.readouterr().out
    for key, kind, *_ in describe_keys(Stage3Config):
        assert f"  {key} " in text, key
    assert "trainer.max_epochs" in text and "default 55" in text


def test_print_config_prints_the_resolved_yaml(capsys, tmp_path):
    assert stage3_train.main(["--print-config", "trainer.max_epochs=3", f"run_dir={tmp_path}"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["trainer"]["max_epochs"] == 3 and printed["run_dir"] == str(tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was trained


def test_a_bad_value_ends_as_one_error_line_and_exit_code_2(capsys):
    assert stage3_train.main(["model.positional=flase"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: command line 'model.positional=flase'") and err.count("\n") == 1


def test_both_stages_speak_one_vocabulary():
    shared = {"run_dir", "seed", "resume", "overwrite", "trainer.max_epochs", "trainer.accelerator",
              "trainer.devices", "trainer.early_stopping_patience", "trainer.gradient_clip_val",
              "trainer.progress_bar", "trainer.deterministic", "trainer.cpu_threads", "optim.lr",
              "optim.weight_decay", "tracking.comet", "tracking.project", "data.batch_size"}
    for schema in (Stage1Config, Stage3Config):
        keys = {key for key, *_ in describe_keys(schema)}
        assert shared <= keys, (schema.__name__, sorted(shared - keys))
