"""The errors the command line turns into exit statuses; light, so importing them is free."""

from __future__ import annotations

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFLICTS, EXIT_LOCKED = 0, 1, 2, 3, 75


class Failure(Exception):
    """A failure outside the user's input (network, disk, a server): exit 1."""

    exit_code = 1


class BadInput(Exception):
    """Input the user can fix (a file, an option value): exit 2."""

    exit_code = 2


class BusyFileError(BadInput):
    """A busy calendar could not be read; says which file, where and why."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        # Passing every field to Exception keeps the error picklable
        # (pytest-xdist, multiprocessing) since unpickling calls cls(*args).
        super().__init__(path, message, line)
        self.path = path
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"
