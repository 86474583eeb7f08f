"""Where things are in a refresh config's text, so that every problem names a line.

tomllib gives a line only for syntax errors, so for a bad value the line is found by
scanning the text for `key =` inside the right `[[target]]` block: best effort, and
the key is always named so the message stays useful when the scan misses."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from calsync.core.problems import InvalidValue, Problem

T = TypeVar("T")


def syntax_problem(source: str, text: str, err: tomllib.TOMLDecodeError) -> Problem:
    # tomllib puts the place in the message: "Invalid value (at line 3, column 8)"
    # or "... (at end of document)"; Python 3.14 adds attributes, 3.11 has only this.
    message = str(err)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if found:
        reason = message[: found.start()]
        return Problem(
            source, int(found.group(1)), "", f"invalid TOML: {reason} (column {found.group(2)})"
        )
    reason = re.sub(r"\s*\(at end of document\)\s*$", "", message)
    last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return Problem(source, last, "", f"invalid TOML: {reason} (at the end of the file)")


class ConfigText:
    """The config's lines and the problems found so far, each with its line."""

    def __init__(self, source: Path, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def _block(self, index: int | None) -> tuple[int, int]:
        """The line span (0-based, end exclusive) of the top level or of target `index`."""
        headers = [
            n for n, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*target\s*\]\]", line)
        ]
        if index is None:
            return 0, headers[0] if headers else len(self.lines)
        if index >= len(headers):
            return 0, len(self.lines)
        start = headers[index]
        end = next(
            (n for n in range(start + 1, len(self.lines)) if re.match(r"\s*\[", self.lines[n])),
            len(self.lines),
        )
        return start, end

    def line_of(self, index: int | None, key: str | None) -> int:
        start, end = self._block(index)
        if key is not None:
            name = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
            pattern = re.compile(rf"\s*{name}\s*=")
            for n in range(start, end):
                if pattern.match(self.lines[n]):
                    return n + 1
            # A top-level key may also be a table header: [key] or [[key]].
            header = re.compile(rf"\s*\[\[?\s*{name}\s*\]")
            for n, line in enumerate(self.lines):
                if index is None and header.match(line):
                    return n + 1
        return start + 1 if index is not None else 1

    def fail(self, index: int | None, key: str | None, message: str) -> None:
        where = "" if index is None else f"target[{index + 1}]"
        path = ".".join(part for part in (where, key or "") if part)
        self.problems.append(Problem(str(self.source), self.line_of(index, key), path, message))

    def value(
        self,
        index: int | None,
        table: dict[str, Any],
        key: str,
        convert: Callable[[Any], T],
        required: bool = False,
    ) -> T | None:
        """`table[key]` checked by `convert`; None (and a problem) when missing or wrong."""
        if key not in table:
            if required:
                self.fail(index, key, "is required but missing")
            return None
        try:
            return convert(table[key])
        except InvalidValue as err:
            self.fail(index, key, str(err))
            return None
