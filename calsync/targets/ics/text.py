"""An event's iCalendar text, written line by line as icalendar writes it.

icalendar builds the same bytes through objects at several times the cost; a
property test (tests/test_ics_scanner.py) holds the two byte-identical on random
contents, so icalendar remains the reference while this is the writer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm

from calsync.core.content import EventContent
from calsync.core.instants import as_written

_UTC = ZoneInfo("UTC")


def event_text(content: EventContent, dtstamp: datetime, sequence: int) -> bytes:
    """One VEVENT (with its VALARM), CRLF lines folded at 75 octets."""
    lines = [
        "SUMMARY:" + escaped(content.summary),
        "DTSTART" + when(as_written(content.start)),
        "DTEND" + when(as_written(content.end)),
        "DTSTAMP" + when(dtstamp),
        "UID:" + escaped(content.uid),
        f"SEQUENCE:{sequence}",
        "CATEGORIES:" + ",".join(escaped(c) for c in content.categories),
        "DESCRIPTION:" + escaped(content.description),
        *(["LOCATION:" + escaped(content.location)] if content.location else []),
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "X-CALSYNC-HASH:" + escaped(content.fingerprint),
        "X-CALSYNC-KEY:" + escaped(content.key),
        "X-CALSYNC-PLAN:" + escaped(content.plan),
    ]
    if content.reminder is not None:
        summary = escaped(content.summary)
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{summary}"]
        lines += [trigger(content.reminder), "END:VALARM"]
    body = "".join(fold(line) + "\r\n" for line in lines)
    return f"BEGIN:VEVENT\r\n{body}END:VEVENT\r\n".encode()


def zones_of(content: EventContent) -> set[str]:
    """The TZIDs the event's text names (none for a time written in UTC)."""
    written = (as_written(content.start), as_written(content.end))
    return {str(value.tzinfo) for value in written if value.tzinfo not in (UTC, _UTC)}


def escaped(text: str) -> str:
    """A TEXT value as RFC 5545 3.3.11 escapes it (and as icalendar writes it: without
    one leading byte-order mark)."""
    return (
        text.removeprefix("\ufeff")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def when(value: datetime) -> str:
    """A DATE-TIME property's parameters and value: UTC as `...Z`, else with its TZID."""
    if value.tzinfo in (UTC, _UTC):
        return value.strftime(":%Y%m%dT%H%M%SZ")
    return f";TZID={value.tzinfo}:{value:%Y%m%dT%H%M%S}"


@lru_cache(maxsize=64)
def trigger(minutes: int) -> str:
    alarm = Alarm()
    alarm.add("TRIGGER", timedelta(minutes=-minutes))
    return str(alarm.content_line("TRIGGER", alarm["TRIGGER"]))


def fold(line: str) -> str:
    """A content line folded at 75 octets, never after a lone backslash (as icalendar does)."""
    if len(line) < 75 // 4 or len(line.encode()) < 75:
        return line
    return _fold_ascii(line) if line.isascii() else _fold_chars(line)


def _fold_chars(line: str) -> str:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= 75:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, size = [carried], len(carried.encode())
            else:
                parts.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _fold_ascii(line: str) -> str:
    """`fold` for a line of one-octet characters: the same cuts, taken by slicing."""
    parts: list[str] = []
    start = 0
    while len(line) - start > 74:
        end = start + 74
        if line[end - 1] in "\\^":
            end -= 1  # the escape goes on with what it escapes
        parts.append(line[start:end])
        start = end
    parts.append(line[start:])
    return "\r\n ".join(parts)
