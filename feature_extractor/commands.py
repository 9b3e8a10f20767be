"""Console commands of stages 1 and 2 (pyproject.toml [project.scripts]).

These need the optional `stages12` packages (transformers, Lightning, the audio stack); a bare
`pip install kemdy-erc` has only stage 3's. Each command imports its module here, inside the
call, so a missing package ends as one line saying what to install instead of a traceback."""

import importlib
import sys

INSTALL_HINT = "pip install 'kemdy-erc[stages12]'"


def _run(module: str) -> int:
    try:
        entry = importlib.import_module(module).main
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in ("feature_extractor", "erc_core", "cgnn"):
            raise
        print(f"error: this command needs the stage-1/2 packages; {error.name} is not installed ({INSTALL_HINT})",
              file=sys.stderr)
        return 2
    return entry()


def synthetic_corpus() -> int:
    return _run("feature_extractor.synthetic.command")


def index() -> int:
    return _run("feature_extractor.corpus.index_command")


def corpus_report() -> int:
    return _run("feature_extractor.corpus.report_command")


def stage1_train() -> int:
    return _run("feature_extractor.training.train")


def extract() -> int:
    return _run("feature_extractor.extraction.extract")


def predict() -> int:
    return _run("feature_extractor.extraction.predict")
