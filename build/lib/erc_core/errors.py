"""What a user's mistake looks like: one line naming the file (or option) and what was expected.

Every error a user can cause with a file or an option is a `UserError` (or one of the standard
file errors, which carry their file name). Commands turn them into `error: ...` and exit code 2
(`erc_core.cli.run_command`); anything else is a bug and keeps its traceback."""

import errno
import pickle


class UserError(ValueError):
    """A bad input file or option. The message names the file or key and what was expected.

    A ValueError, so code that validated with ValueError before keeps catching it."""


def user_message(error: BaseException) -> str | None:
    """The one-line message for a user's mistake, or None when `error` is not one."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        where = error.filename or "the output folder"
        return f"{where}: no space left on device; free some space and run again"
    if isinstance(error, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                          FileExistsError)):
        return f"{error.filename}: {error.strerror}" if error.filename else str(error)
    if isinstance(error, (UserError, pickle.UnpicklingError)):
        return str(error)
    if isinstance(error, ValueError):
        # Validation inside this project raises ValueError with a message written for users;
        # the ones that lack a file name are fixed at their source as they are found.
        return str(error)
    return None
