"""What every command of the toolkit shares: how it reads its config, how it fails, how loud it is.

    def main(argv=None) -> int:
        return run_command(_main, argv)              # error: lines, exit 2, --debug for traces

    def _main(argv):
        cfg, args = parse_config_command(Stage3Config, "Stage 3: ...", argv)

A user's mistake ends as one `error: ...` line on stderr and exit code 2 (see `erc_core.errors`);
`--debug` shows the traceback instead. `--verbose` lets library chatter through. A standard output
that cannot be written (a full disk, a closed pipe) ends the same way, never as Python's
"Exception ignored" at exit."""

import argparse
import errno
import logging
import os
import sys
import warnings

from erc_core.config import keys_help, load_config, to_yaml
from erc_core.errors import user_message
from erc_core.progress import EVERY_S, MODES

USER_ERROR_EXIT = 2
BROKEN_PIPE_EXIT = 141  # what a shell reports for a command killed by SIGPIPE
PATH_RULE = """--config: a YAML file, or the name of a config shipped with the toolkit (`--config demo`; the
files are the checkout's configs/ folder, installed with the package). Relative paths, in a
config file or on the command line, are read from the current folder; the shipped configs name
the checkout's demo files (data/..., demo_work/...), so elsewhere set those keys on the command line."""


def run_command(body, argv=None) -> int:
    """Run `body(argv)`; user mistakes become one `error:` line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    stdout, sys.stdout = sys.stdout, _NamedStdout(sys.stdout)
    try:
        result = body(argv)
        sys.stdout.flush()
    except SystemExit as done:  # argparse's --help and usage errors
        code = done.code if isinstance(done.code, int) else USER_ERROR_EXIT if done.code else 0
        return _flushed(code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except StandardOutputError as error:
        return _stdout_failed(error.__cause__)
    except Exception as error:  # noqa: BLE001 - classified right below
        message = user_message(error)
        if message is None or debug:
            raise
        print(f"error: {message}", file=sys.stderr)
        return USER_ERROR_EXIT
    finally:
        sys.stdout = stdout
    return result if isinstance(result, int) else 0


class StandardOutputError(OSError):
    """A write to standard output failed (its cause is the OSError)."""


class _NamedStdout:
    """sys.stdout whose failed writes say they were writes to standard output."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as error:
            raise StandardOutputError(error.errno, error.strerror) from error

    def flush(self):
        try:
            self._stream.flush()
        except OSError as error:
            raise StandardOutputError(error.errno, error.strerror) from error

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _flushed(code: int) -> int:
    try:
        sys.stdout.flush()
    except StandardOutputError as error:
        return _stdout_failed(error.__cause__)
    return code


def _stdout_failed(error: OSError) -> int:
    """Point stdout at /dev/null (so Python's own flush at exit has nothing left to fail on) and
    say what happened in one line."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    if error.errno == errno.EPIPE:
        return BROKEN_PIPE_EXIT
    print(f"error: standard output: {error.strerror or error}; the output was cut off", file=sys.stderr)
    return USER_ERROR_EXIT


def add_common_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--verbose", action="store_true", help="let library warnings and chatter through")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def add_progress_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`--progress auto|bar|lines|off`, `--no-progress` (= off) and `--progress-every SECONDS`
    (erc_core/progress.py); `erc_core.progress.progress_mode(args.progress)` resolves auto."""
    parser.add_argument("--progress", choices=MODES, default="auto",
                        help="auto: bars on a terminal, a line every --progress-every seconds in a log file "
                        "(stderr not a terminal); bar, lines or off to choose (default: %(default)s)")
    parser.add_argument("--no-progress", dest="progress", action="store_const", const="off",
                        help="the same as --progress off")
    parser.add_argument("--progress-every", type=positive(float, 0), default=EVERY_S, metavar="SECONDS",
                        help="seconds between progress lines; 0 = a line after every item (default: %(default)s)")
    return parser


def positive(kind=int, minimum=1):
    """An argparse type: a number of `kind` that is at least `minimum` (`positive(float, 0)`: >= 0)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a value >= {minimum}, got {text}")
        return value
    return parse


def config_parser(schema, description: str) -> argparse.ArgumentParser:
    """`--config FILE|NAME`, `--print-config`, `--verbose`, `--debug` and `key=value` overrides;
    `--help` lists every config key with its type and default, and the path rule."""
    parser = argparse.ArgumentParser(description=description, epilog=f"{PATH_RULE}\n\n{keys_help(schema)}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML config file or shipped config name; key=value overrides win over it")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as YAML and exit")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. trainer.max_epochs=3")
    return add_common_flags(parser)


def parse_config_command(schema, description: str, argv):
    """(config, parsed args), or None after `--print-config` has printed the config. Before a run
    the schema's `check_inputs()` (when it has one) checks the files and models it names."""
    args = config_parser(schema, description).parse_args(argv)
    config = load_config(schema, args.config, args.overrides)
    if args.print_config:
        print(to_yaml(config), end="")
        return None, args
    if hasattr(config, "check_inputs"):
        config.check_inputs()
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
