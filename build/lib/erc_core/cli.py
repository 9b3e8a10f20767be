"""What every command of the toolkit shares: how it reads its config, how it fails, how loud it is.

    def main(argv=None) -> int:
        return run_command(_main, argv)              # error: lines, exit 2, --debug for traces

    def _main(argv):
        cfg, args = parse_config_command(Stage3Config, "Stage 3: ...", argv)

A user's mistake ends as one `error: ...` line on stderr and exit code 2 (see `erc_core.errors`);
`--debug` shows the traceback instead. `--verbose` lets library chatter through."""

import argparse
import logging
import os
import sys
import warnings

from erc_core.config import keys_help, load_config, to_yaml
from erc_core.errors import user_message

USER_ERROR_EXIT = 2


def run_command(body, argv=None) -> int:
    """Run `body(argv)`; user mistakes become one `error:` line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        result = body(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - classified right below
        message = user_message(error)
        if message is None or debug:
            raise
        print(f"error: {message}", file=sys.stderr)
        return USER_ERROR_EXIT
    return result if isinstance(result, int) else 0


def add_common_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--verbose", action="store_true", help="let library warnings and chatter through")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def config_parser(schema, description: str) -> argparse.ArgumentParser:
    """`--config FILE`, `--print-config`, `--verbose`, `--debug` and `key=value` overrides; `--help`
    lists every config key with its type and default."""
    parser = argparse.ArgumentParser(description=description, epilog=keys_help(schema),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML config file; key=value overrides win over it")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as YAML and exit")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. trainer.max_epochs=3")
    return add_common_flags(parser)


def parse_config_command(schema, description: str, argv):
    """(config, parsed args), or None after `--print-config` has printed the config."""
    args = config_parser(schema, description).parse_args(argv)
    config = load_config(schema, args.config, args.overrides)
    if args.print_config:
        print(to_yaml(config), end="")
        return None, args
    quiet_libraries(args.verbose)
    return config, args


def quiet_libraries(verbose: bool = False) -> None:
    """Library tips, deprecation notices and info logs off, unless `verbose`."""
    if verbose:
        os.environ["COMET_LOGGING_CONSOLE"] = "INFO"
        if "transformers" in sys.modules:
            sys.modules["transformers"].utils.logging.enable_progress_bar()
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "comet_ml",
                 "transformers", "torch_geometric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module=r"lightning(\.|$)")
    warnings.filterwarnings("ignore", module=r"pytorch_lightning(\.|$)")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
