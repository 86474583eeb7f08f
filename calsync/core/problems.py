"""Problems in an input file: each names the file, the line and what was expected.

The plan loader reports them (calsync/core/loader.py), and so does the TOML
configuration of `calsync refresh` (calsync/cli/config.py), so the command line
prints both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from calsync.errors import PlanError  # a BadInput listing every problem

__all__ = ["InvalidValue", "PlanError", "Problem", "decode_text"]


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.source}:{self.line}: {where}{self.message}"


class InvalidValue(Exception):
    """One value is wrong; the reader records it and goes on with the rest."""


def decode_text(data: bytes | str, source: str) -> str:
    """UTF-8 text, or a PlanError naming the line of the first byte that is not."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise PlanError([Problem(source, line, "", "expected UTF-8 text")]) from None
