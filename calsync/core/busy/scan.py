"""The structure of an .ics file: its calendars, their top-level components and lines.

`icalendar` reports no line numbers and gives up on broken nesting; this scan
finds every component with the line of each of its properties, so that one
broken component costs only itself, and every warning can name its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from calsync.core.model import InputWarning
from calsync.errors import BusyFileError

# A component as icalendar reads it. Its values are typed as a union of some thirty
# property classes; what each one holds is checked where it is read, so it is Any here.
Component = Any
# Warnings shown per file; the rest are counted in one last warning.
MAX_WARNINGS = 20

# --- structural scan ----------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[A-Za-z0-9-]+")
NOT_ICALENDAR = "expected an iCalendar file (BEGIN:VCALENDAR)"
_TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"})


@dataclass
class Span:
    """Where one component sits in the file, to put line numbers on warnings."""

    name: str
    begin: int
    properties: dict[str, int]  # first line of each direct property


@dataclass
class Chunk:
    """One top-level component of a calendar (a VEVENT, a VTIMEZONE, ...)."""

    span: Span
    lines: list[str]
    problem: str | None = None


@dataclass
class Block:
    """One BEGIN:VCALENDAR ... END:VCALENDAR."""

    span: Span
    header: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


def unfold(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, logical line), joining folded continuation lines."""
    pending: tuple[int, str] | None = None
    for index, raw in enumerate(_NEWLINE.split(text), start=1):
        if raw[:1] in (" ", "\t") and pending is not None:
            pending = (pending[0], pending[1] + raw[1:])
        elif raw:
            if pending is not None:
                yield pending
            pending = (index, raw)
        # blank lines are skipped, as icalendar does (folding continues over them)
    if pending is not None:
        yield pending


def split_line(line: str) -> tuple[str, str | None]:
    """The upper-cased property name and the value (None: the line has no colon)."""
    match = _NAME.match(line)
    name = match[0].upper() if match else ""
    # The value starts at the first colon outside a quoted parameter value.
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return name, line[index + 1 :]
    return name, None


def check_header(text: str, source: str) -> None:
    """Say "not iCalendar" for an empty file, a JPEG or a vCard."""
    for number, logical in unfold(text):
        if logical.strip().upper() != "BEGIN:VCALENDAR":
            if "\x00" in text[:1024]:
                raise BusyFileError(source, f"binary data; {NOT_ICALENDAR}")
            raise BusyFileError(source, NOT_ICALENDAR, number)
        return
    raise BusyFileError(source, f"empty file; {NOT_ICALENDAR}")


class Scanner:
    """Cuts a file into calendars and their top-level components, leniently."""

    def __init__(self, warn: Warn) -> None:
        self.warn = warn
        self.blocks: list[Block] = []
        self.block: Block | None = None
        self.chunk: Chunk | None = None
        self.stack: list[Span] = []
        self.outside_warned = False

    def scan(self, text: str) -> list[Block]:
        for number, line in unfold(text):
            self.line(number, line)
        if self.chunk is not None:
            self.chunk.problem = self.chunk.problem or "the file ends before its END"
            self.finish_chunk()
        if self.block is not None:
            self.warn("BEGIN:VCALENDAR is never closed: the file may be cut short", self.block.span)
        return self.blocks

    def line(self, number: int, line: str) -> None:
        name, value = split_line(line)
        what = (value or "").strip().upper()
        if self.block is None:
            if name == "BEGIN" and what == "VCALENDAR":
                self.block = Block(Span("VCALENDAR", number, {}))
                self.blocks.append(self.block)
            elif not self.outside_warned:
                self.outside_warned = True
                self.warn("content outside BEGIN:VCALENDAR and END:VCALENDAR ignored", number)
            return
        if value is None or not name:
            self.warn(f"not an iCalendar content line, ignored: {line[:60]!r}", number)
            return
        if self.chunk is None:
            self.top_level(number, line, name, what)
        else:
            self.inside(number, line, name, what)

    def top_level(self, number: int, line: str, name: str, what: str) -> None:
        assert self.block is not None
        if name == "BEGIN" and what != "VCALENDAR":
            span = Span(what, number, {})
            self.chunk = Chunk(span, [line])
            self.stack = [span]
        elif name == "END" and what == "VCALENDAR":
            self.block = None
        elif name in ("BEGIN", "END"):
            self.warn(f"{line.strip()} out of place, ignored", number)
        else:
            self.block.header.append(line)
            self.block.span.properties.setdefault(name, number)

    def inside(self, number: int, line: str, name: str, what: str) -> None:
        chunk = self.chunk
        assert chunk is not None
        if name == "END" and what == "VCALENDAR":
            chunk.problem = chunk.problem or f"BEGIN:{chunk.span.name} is never closed"
            self.finish_chunk()
            self.block = None
            return
        if name == "BEGIN" and what in _TOP_LEVEL:
            # These never nest: the component before was never closed.
            chunk.problem = chunk.problem or f"BEGIN:{chunk.span.name} is never closed"
            self.finish_chunk()
            self.top_level(number, line, name, what)
            return
        chunk.lines.append(line)
        if name == "BEGIN":
            self.stack.append(Span(what, number, {}))
        elif name == "END":
            names = [span.name for span in self.stack]
            if what != names[-1]:
                inner = self.stack[-1]
                problem = f"END:{what} does not close BEGIN:{inner.name} (line {inner.begin})"
                chunk.problem = chunk.problem or problem
            # Close up to the component this END names, or the innermost one.
            depth = len(names) - 1 - names[::-1].index(what) if what in names else len(names) - 1
            del self.stack[depth:]
            if not self.stack:
                self.finish_chunk()
        elif len(self.stack) == 1:
            chunk.span.properties.setdefault(name, number)

    def finish_chunk(self) -> None:
        assert self.block is not None and self.chunk is not None
        self.block.chunks.append(self.chunk)
        self.chunk = None
        self.stack = []


class Warn:
    """Collects the warnings of one file, at most MAX_WARNINGS of them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[InputWarning] = []
        self.more = 0

    def __call__(self, message: str, where: Span | int | None = None, prop: str = "") -> None:
        if isinstance(where, Span):
            where = where.properties.get(prop, where.begin)
        if len(self.found) < MAX_WARNINGS:
            self.found.append(InputWarning(self.source, where, message))
        else:
            self.more += 1

    def all(self) -> tuple[InputWarning, ...]:
        if self.more:
            more = f"{self.more} more warning{'s' * (self.more != 1)} like these not shown"
            return (*self.found, InputWarning(self.source, None, more))
        return tuple(self.found)


class Skip(Exception):
    """This event cannot be used; the rest of the calendar can."""

    def __init__(self, message: str, prop: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.prop = prop


def decode(text: bytes | str) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark (Exchange)
        return text.decode("utf-16", errors="replace")
    # RFC 5545 text is UTF-8. Stray bytes (legacy Windows exports) only ever
    # damage titles, so they are replaced rather than rejecting the file.
    return text.decode("utf-8-sig", errors="replace")


def reason(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def title_of(event: Component) -> str:
    return str(event.get("SUMMARY", "")).strip() or "busy"


def described(chunk: Chunk, component: Component | None = None) -> str:
    if chunk.span.name == "VEVENT":
        return f"event {title_of(component)!r}" if component is not None else "an event"
    if chunk.span.name == "VTIMEZONE" and component is not None:
        return f"time zone {str(component.get('TZID', '?'))!r}"
    return chunk.span.name


def values_of(component: Component, prop: str) -> list[Any]:
    values = component.get(prop)
    if values is None:
        return []
    return values if isinstance(values, list) else [values]
