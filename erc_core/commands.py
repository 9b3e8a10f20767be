"""The console commands (pyproject.toml [project.scripts] points at the names below).

Each command names the module that runs it as a string and imports it only when it runs, so

- `--help` is answered from light modules (the config schema, or an argparse parser built
  without torch), in well under two seconds, never after importing torch or Lightning;
- a missing optional package ends as one line saying what to install, not a traceback.

This is the one place in erc_core that names stage modules, as pyproject.toml does."""

import ast
import dataclasses
import importlib
import importlib.util
import sys
from pathlib import Path

OUR_PACKAGES = ("feature_extractor", "erc_core", "cgnn", "erc_experiments")
HELP_FLAGS = ("-h", "--help")


@dataclasses.dataclass(frozen=True)
class Command:
    entry: str              # "module:function", the function takes argv
    help: object = None     # () -> argparse parser for --help, importing no heavy module; None = the entry's own
    extra: str | None = None  # the pip extra that brings the packages this command needs

    def __call__(self, argv=None) -> int:
        argv = list(sys.argv[1:] if argv is None else argv)
        if self.help is not None and asks_for_help(argv):
            from erc_core.cli import run_command

            return run_command(lambda _: self.help().print_help(), argv)
        try:
            entry = _attribute(self.entry)
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] in OUR_PACKAGES:
                raise
            install = f"pip install 'kemdy-erc[{self.extra}]'" if self.extra else "pip install kemdy-erc"
            print(f"error: this command needs {error.name}, which is not installed ({install})", file=sys.stderr)
            return 2
        return entry(argv)


def asks_for_help(argv) -> bool:
    """-h, --help or an abbreviation argparse accepts (--he), before a `--`."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    return any(word in HELP_FLAGS or (len(word) >= 3 and "--help".startswith(word)) for word in words)


def config_help(schema: str, command_module: str):
    """--help of a config command: the schema ("module:Class") and the command module's docstring,
    read from its source without importing it."""
    def build():
        from erc_core.cli import config_parser

        return config_parser(_attribute(schema), module_docstring(command_module))
    return build


def parser_help(factory: str):
    """--help from a parser factory ("module:function") in a module that imports no heavy package."""
    return lambda: _attribute(factory)()


def module_docstring(name: str) -> str | None:
    origin = importlib.util.find_spec(name).origin
    return ast.get_docstring(ast.parse(Path(origin).read_text(encoding="utf-8")), clean=False)


def _attribute(reference: str):
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


# -- the commands (docs/usage.md lists them) ------------------------------------------------------------
synthetic_corpus = Command("feature_extractor.synthetic.command:main",
                           parser_help("feature_extractor.synthetic.command:build_parser"), extra="stages12")
index = Command("feature_extractor.corpus.index_command:main", extra="stages12")
corpus_report = Command("feature_extractor.corpus.report_command:main", extra="stages12")
stage1_train = Command("feature_extractor.training.train:main",
                       config_help("feature_extractor.training.config:Stage1Config",
                                   "feature_extractor.training.train"), extra="stages12")
extract = Command("feature_extractor.extraction.extract:main",
                  parser_help("feature_extractor.extraction.arguments:extract_parser"), extra="stages12")
predict = Command("feature_extractor.extraction.predict:main",
                  parser_help("feature_extractor.extraction.arguments:predict_parser"), extra="stages12")
import_pickle = Command("cgnn.importers.command:main", parser_help("cgnn.arguments:import_parser"))
stage3_train = Command("cgnn.train:main", config_help("cgnn.config:Stage3Config", "cgnn.train"))
stage3_eval = Command("cgnn.eval:main", parser_help("cgnn.arguments:eval_parser"))
embedding_map = Command("cgnn.embedding_map:main")
experiment = Command("erc_experiments.runner:main",
                     config_help("erc_experiments.config:RunnerConfig", "erc_experiments.runner"))
