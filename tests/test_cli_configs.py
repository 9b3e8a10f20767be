"""Config schemas and shipped configs as a command sees them: stage 3's model keys declare their
ranges next to each option (one error line naming the key, before anything is written), the
experiment runner's named configs work from any folder, and the real-size encoder configs are found
where the shipped configs are (a pip install has them as erc_core/configs)."""

import shutil

import pytest

from cgnn import train as stage3_train
from cgnn.config import ModelConfig, Stage3Config
from erc_core import shipped_configs
from erc_core.config import ConfigError, describe_keys, load_config


@pytest.mark.parametrize("override, expected", [
    ("model.hidden=0", "model.hidden: expected an integer >= 1, got 0"),
    ("model.encoder_layers=0", "model.encoder_layers: expected an integer >= 1, got 0"),
    ("model.encoder_heads=-1", "model.encoder_heads: expected an integer >= 0, got -1"),
    ("model.encoder_feedforward=0", "model.encoder_feedforward: expected an integer >= 1, got 0"),
    ("model.dropout=1.0", "model.dropout: expected a number in [0, 1), got 1.0"),
    ("model.dropout=-0.1", "model.dropout: expected a number in [0, 1), got -0.1"),
    ("model.attention_dropout=1.5", "model.attention_dropout: expected a number in [0, 1), got 1.5"),
    ("model.wp=-2", "model.wp: expected an integer >= -1, got -2"),
    ("model.wf=-5", "model.wf: expected an integer >= -1, got -5"),
    ("model.gnn_heads=0", "model.gnn_heads: expected an integer >= 1, got 0"),
    ("model.rgcn_bases=-1", "model.rgcn_bases: expected an integer >= 0, got -1"),
    ("model.num_speakers=-1", "model.num_speakers: expected an integer >= 0, got -1"),
])
def test_a_model_value_out_of_range_names_the_key(override, expected):
    with pytest.raises(ConfigError) as error:
        load_config(Stage3Config, None, [override])
    assert str(error.value) == f"command line {override!r}: {expected}"


def test_the_boundaries_of_the_model_ranges_hold_and_help_states_them():
    config = load_config(Stage3Config, None, ["model.wp=-1", "model.wf=0", "model.dropout=0", "model.encoder_heads=0",
                                              "model.hidden=1", "model.attention_dropout=0.99"])
    assert (config.model.wp, config.model.dropout, config.model.encoder_heads) == (-1, 0.0, 0)
    rows = {key: text for key, _, _, text in describe_keys(Stage3Config)}
    assert rows["model.dropout"].endswith("(allowed: a number in [0, 1))")
    assert rows["model.wp"].endswith("(allowed: an integer >= -1)")


def test_the_model_schema_is_one_class_in_the_torch_free_config_module():
    from cgnn import model

    assert model.ModelConfig is ModelConfig and ModelConfig.__module__ == "cgnn.config"


def test_a_bad_model_value_of_the_command_is_one_error_line_and_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert stage3_train.main([f"run_dir={run_dir}", "model.dropout=1.5"]) == 2
    assert capsys.readouterr().err == ("error: command line 'model.dropout=1.5': model.dropout: expected a number "
                                       "in [0, 1), got 1.5\n")
    assert not run_dir.exists()


def test_kemdy_experiment_finds_its_named_config_from_any_folder(tmp_path, monkeypatch, capsys):
    from erc_core import commands

    monkeypatch.chdir(tmp_path)
    assert commands.experiment(["--config", "demo_seeds", "--print-config"]) == 0
    assert "run_dir: runs/experiments/demo_seeds" in capsys.readouterr().out.splitlines()


def test_the_real_size_encoder_configs_are_read_from_the_shipped_configs(tmp_path, monkeypatch):
    from feature_extractor.encoders.real_size import real_size_folder

    installed = tmp_path / "site-packages" / "erc_core" / "configs"  # what a pip install holds
    encoder = installed / "encoders" / "wav2vec2-base"
    shutil.copytree(shipped_configs.shipped_root() / "encoders" / "wav2vec2-base", encoder)
    (encoder / "installed.txt").write_text("the installed copy\n")
    monkeypatch.setattr(shipped_configs, "shipped_root", lambda: installed)
    folder = real_size_folder("wav2vec2-base", tmp_path / "out")
    assert (tmp_path / "out" / "installed.txt").is_file() and folder == str(tmp_path / "out")
