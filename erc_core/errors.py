"""What a user's mistake looks like: one line naming the file (or option) and what was expected.

Every error a user can cause with a file or an option is a `UserError` (or one of the standard
file errors, which carry their file name). Commands turn them into `error: ...` and exit code 2
(`erc_core.cli.run_command`); anything else is a bug and keeps its traceback."""

import errno
import pickle
import re

# numpy's `tofile` / `np.save` report a short write (a full disk) without an errno
SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class UserError(ValueError):
    """A bad input file or option. The message names the file or key and what was expected.

    A ValueError, so code that validated with ValueError before keeps catching it."""


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC / EDQUOT, numpy's short write, or torch.save's failed write ("unexpected pos")."""
    if isinstance(error, OSError):
        return error.errno in DISK_FULL or (error.errno is None and bool(SHORT_WRITE.search(str(error))))
    text = str(error)
    return isinstance(error, RuntimeError) and ("unexpected pos" in text or "file write failed" in text)


def user_message(error: BaseException) -> str | None:
    """The one-line message for a user's mistake, or None when `error` is not one."""
    if is_disk_full(error):
        where = getattr(error, "filename", None) or "the output folder"
        return f"{where}: no space left on device; free some space and run again"
    if isinstance(error, OSError) and error.errno == errno.EROFS:
        where = error.filename or "the output folder"
        return f"{where}: read-only file system; write the output to a folder you can write to"
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
