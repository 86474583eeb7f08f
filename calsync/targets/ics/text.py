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
    return {str(value.tzinfo) for value in written if not in_utc(value)}


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


def in_utc(value: datetime) -> bool:
    """Written as a UTC time (`...Z`), not with a TZID."""
    return value.tzinfo in (UTC, _UTC)


def when(value: datetime) -> str:
    """A DATE-TIME property's parameters and value: UTC as `...Z`, else with its TZID."""
    if in_utc(value):
        return value.strftime(":%Y%m%dT%H%M%SZ")
    return f";TZID={value.tzinfo}:{value:%Y%m%dT%H%M%S}"


@lru_cache(maxsize=64)
def trigger(minutes: int) -> str:
    alarm = Alarm()
    alarm.add("TRIGGER", timedelta(minutes=-minutes))
    return str(alarm.content_line("TRIGGER", alarm["TRIGGER"]))


def fold(line: str) -> str:
    """A content line folded at 75 octets, never inside a character and never after a lone
    backslash (as icalendar does): each part is the most whole characters that fit in 74
    octets, the continuation's leading space not counted."""
    if len(line) < 75 // 4:
        return line
    data = line.encode()
    if len(data) < 75:
        return line
    parts: list[bytes] = []
    start = 0
    while len(data) - start > 74:
        end = start + 74
        while data[end] & 0xC0 == 0x80:  # inside a character: cut before it
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1  # the escape goes on with what it escapes
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode()
