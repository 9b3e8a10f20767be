"""`--help` of every console command (pyproject.toml [project.scripts]) imports neither torch nor
Lightning nor transformers, which cost seconds before a word is printed (benchmarks/help_latency.py
times it), and lists the `--verbose` / `--debug` flags docs/usage.md promises for every command.
Each command runs in a fresh process, as a user starts it."""

import json
import subprocess
import sys
import tomllib

import pytest

from tests.stage12_fixtures import repo_root

HEAVY = ("torch", "lightning", "transformers", "torch_geometric", "librosa")
SCRIPTS = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]["scripts"]
PROBE = """
import contextlib, importlib, io, json, sys
module, _, name = sys.argv[1].partition(":")
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = getattr(importlib.import_module(module), name)(["--help"])
print(json.dumps({"code": code, "help": out.getvalue(), "heavy": [m for m in sys.argv[2:] if m in sys.modules]}))
"""


def help_of(name: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, SCRIPTS[name], *HEAVY], cwd=repo_root(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def helps():
    cache = {}
    return lambda name: cache.setdefault(name, help_of(name))


def test_every_command_starts_in_the_light_launcher():
    assert all(entry.startswith("erc_core.commands:") for entry in SCRIPTS.values()), SCRIPTS


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_imports_no_heavy_package(name, helps):
    result = helps(name)
    assert result["code"] == 0 and "usage:" in result["help"]
    assert result["heavy"] == [], f"{name} --help imported {result['heavy']}"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_lists_verbose_and_debug(name, helps):
    text = helps(name)["help"]
    assert "--verbose" in text and "--debug" in text, name


@pytest.mark.parametrize("launcher, module", [("stage1_train", "feature_extractor.training.train"),
                                              ("experiment", "erc_experiments.runner"),
                                              ("synthetic_corpus", "feature_extractor.synthetic.command"),
                                              ("stage3_train", "cgnn.train"),
                                              ("stage3_eval", "cgnn.eval"),
                                              ("import_pickle", "cgnn.importers.command"),
                                              ("extract", "feature_extractor.extraction.extract"),
                                              ("predict", "feature_extractor.extraction.predict")])
def test_the_quick_help_is_the_commands_own_help(launcher, module, capsys, monkeypatch):
    import importlib

    from erc_core import commands

    monkeypatch.setattr(sys, "argv", ["kemdy-x"])
    assert getattr(commands, launcher)(["--help"]) == 0
    quick = capsys.readouterr().out
    assert importlib.import_module(module).main(["--help"]) == 0
    assert capsys.readouterr().out == quick


@pytest.mark.parametrize("argv, asks", [(["--help"], True), (["-h"], True), (["--he"], True), (["key=--help"], False),
                                        (["--", "--help"], False), (["--config", "x.yaml"], False)])
def test_what_counts_as_asking_for_help(argv, asks):
    from erc_core.commands import asks_for_help

    assert asks_for_help(argv) is asks
