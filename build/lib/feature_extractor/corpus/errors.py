"""The one error type of the corpus readers: it names the file, the row and what was expected."""

from pathlib import Path

from erc_core.errors import UserError


class CorpusError(UserError):
    """A raw corpus file (or the options asked of it) cannot be read as the format says.

    `file` is the path concerned (None for option errors), `row` the 1-based line number in that
    file (None when the whole file is at fault) and `expected` a short description of what the
    reader expected there."""

    def __init__(self, message: str, file=None, row: int | None = None, expected: str | None = None):
        self.file = None if file is None else str(file)
        self.row = row
        self.expected = expected
        super().__init__(self._compose(message))

    def _compose(self, message: str) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.row is None else f"{self.file}, line {self.row}"
            where += ": "
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"{where}{message}{tail}"


def display_path(path, root=None) -> str:
    """`path` relative to `root` when it lies under it, else as given (for messages and reports)."""
    path = Path(path)
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)
