"""Every argument of the stage-3 commands without a config schema (kemdy-import,
kemdy-embedding-map, kemdy-stage3-eval) has a help text, and each one with a default says it."""

import argparse

import pytest

from cgnn import embedding_map
from cgnn import eval as cgnn_eval
from cgnn.importers import command as import_command


def expanded_help(parser, action) -> str:
    return " ".join((action.help % {**vars(action), "prog": parser.prog}).split())


@pytest.mark.parametrize("build_parser", [import_command.build_parser, embedding_map.build_parser,
                                          cgnn_eval.build_parser])
def test_every_argument_has_help_and_states_its_default(build_parser):
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"{parser.prog} {name}: no help text"
        if action.default not in (None, False):
            assert f"default: {action.default}" in expanded_help(parser, action), f"{parser.prog} {name}"


def test_the_positional_arguments_of_kemdy_import_say_what_they_are():
    help_text = " ".join(import_command.build_parser().format_help().split())
    assert "input the foreign feature pickle" in help_text
    assert "output the conversation pickle to write" in help_text
