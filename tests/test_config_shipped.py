"""The configs ship with the package and work from any folder: `--config demo` (a named config),
`configs/stage3/demo.yaml` from outside the checkout, the experiment configs' own references; a
relative path in a config is read from the current folder, and a missing one names its key.
pyproject.toml installs every package and every file of configs/."""

import tomllib
from pathlib import Path

import pytest
import yaml

from cgnn import train as stage3_train
from cgnn.config import Stage3Config
from erc_core.config import ConfigError, load_config
from erc_core.errors import UserError
from erc_core.shipped_configs import resolve_config, shipped_root
from erc_experiments.config import RunnerConfig
from feature_extractor.training.config import Stage1Config
from tests.stage12_fixtures import repo_root

DEMO_PICKLE = repo_root() / "data" / "demo_features.pkl"


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A current folder outside the checkout."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def shipped(folder: str, name: str) -> dict:
    return yaml.safe_load((repo_root() / "configs" / folder / f"{name}.yaml").read_text())


@pytest.mark.parametrize("schema, folder", [(Stage3Config, "stage3"), (Stage1Config, "stage1")])
def test_a_named_config_loads_from_any_folder(elsewhere, schema, folder):
    config = load_config(schema, "demo")
    assert config.run_dir == shipped(folder, "demo")["run_dir"]
    assert load_config(schema, f"{folder}/demo").seed == config.seed


def test_a_checkout_path_works_outside_the_checkout(elsewhere):
    assert resolve_config("configs/stage3/demo.yaml") == shipped_root() / "stage3" / "demo.yaml"
    config = load_config(Stage3Config, "configs/stage3/demo.yaml")
    assert config.data.batch_size == shipped("stage3", "demo")["data"]["batch_size"]


def test_an_experiment_config_and_the_stage_configs_it_names_load_outside_the_checkout(elsewhere):
    runner = load_config(RunnerConfig, "configs/experiments/demo_seeds.yaml")
    assert load_config(Stage1Config, runner.stage1.file).model.text.name == "tiny"
    for ref in runner.configs.values():
        assert load_config(Stage3Config, ref.file, ref.overrides).data.modality == "at"


def test_a_file_here_wins_over_the_shipped_one_of_that_name(elsewhere):
    mine = elsewhere / "configs" / "stage3" / "demo.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("seed: 7\n")
    assert load_config(Stage3Config, "configs/stage3/demo.yaml").seed == 7


def test_an_unknown_name_lists_the_named_configs(elsewhere):
    with pytest.raises(UserError, match=r"--config demoo: no such file, and no shipped config of that name in "
                                        r"stage3/ \(named configs: cogmen, default, demo, kemdy19"):
        load_config(Stage3Config, "demoo")
    with pytest.raises(ConfigError, match="mine.yaml: config file not found"):
        load_config(Stage3Config, "mine.yaml")


def test_a_missing_relative_data_path_names_the_key_and_the_current_folder(elsewhere, capsys):
    assert stage3_train.main(["--config", "demo", "run_dir=run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.path=data/demo_features.pkl: no such file (relative paths are read from "
                          f"the current folder, {elsewhere}")
    assert err.count("\n") == 1 and not (elsewhere / "run").exists()


def test_a_missing_index_folder_names_the_key_and_the_current_folder(elsewhere, capsys):
    from feature_extractor.training import train as stage1

    assert stage1.main(["--config", "demo", "run_dir=run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.index=demo_work/index: no such folder (relative paths are read from the "
                          f"current folder, {elsewhere})")
    assert not (elsewhere / "run").exists()


def test_stage3_trains_from_another_folder_with_a_named_config(elsewhere):
    if not DEMO_PICKLE.is_file():
        pytest.skip("the shipped demo pickle is not in this checkout")
    code = stage3_train.main(["--config", "demo", f"data.path={DEMO_PICKLE}", "run_dir=run", "trainer.max_epochs=1",
                              "tracking.comet=false", "trainer.progress_bar=false"])
    assert code == 0 and (elsewhere / "run" / "model.safetensors").is_file()


def test_help_states_the_path_rule(capsys):
    assert stage3_train.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "`--config demo`" in text
    assert "Relative paths, in a config file or on the command line, are read from the current folder" in text


# -- what pyproject.toml installs -------------------------------------------------------------------------


def setuptools_table() -> dict:
    return tomllib.loads((repo_root() / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_of_the_tree_is_installed():
    listed = set(setuptools_table()["packages"])
    for top in ("erc_core", "cgnn", "feature_extractor", "erc_experiments"):
        for init in (repo_root() / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(repo_root()).parts)
            assert package in listed, f"{package} is missing from [tool.setuptools] packages in pyproject.toml"


def test_every_shipped_config_file_is_package_data():
    table = setuptools_table()
    assert table["package-dir"]["erc_core.configs"] == "configs"
    root = repo_root() / "configs"
    for path in (p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        package = "erc_core.configs." + relative.parts[0]
        patterns = table["package-data"].get(package, [])
        inside = Path(*relative.parts[1:])
        assert package in table["packages"] and any(inside.match(pattern) for pattern in patterns), \
            f"configs/{relative} would not be installed (pyproject.toml package-data of {package})"
