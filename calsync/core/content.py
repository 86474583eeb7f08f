"""What a session looks like as a calendar event, the same for every target.

The .ics writer, the Google backend and the CalDAV backend all render a
session through `event_content`, so a session has one title, one description
and one fingerprint wherever it lands, and a user can move from one target to
another without duplicates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from calsync.core.model import Conflict, Kind, Level, Occurrence
from calsync.core.units import format_duration

ICON = {
    Kind.STRENGTH: "🏋",
    Kind.RIDE: "🚴",
    Kind.RUN: "🏃",
    Kind.SWIM: "🏊",
    Kind.MOBILITY: "🧘",
    Kind.OTHER: "•",
}
WARNING = "⚠"


@dataclass(frozen=True)
class EventContent:
    """Everything calsync writes into one event, and the fingerprint of it."""

    uid: str
    key: str
    plan: str
    summary: str
    description: str
    start: datetime
    end: datetime
    timezone: str
    location: str | None
    categories: tuple[str, ...]
    reminder: int | None

    @cached_property  # asked for by the writer, the stamps and the memo: hashed once
    def fingerprint(self) -> str:
        return fingerprint(
            self.summary, self.description, self.start, self.end, self.location, self.reminder
        )


def fingerprint(
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    location: str | None,
    reminder: int | None,
) -> str:
    """A short hash of what a user can see and edit; backends rebuild it from the remote event."""
    fields = [
        summary.strip(),
        description.replace("\r\n", "\n").strip(),
        start.astimezone(UTC).isoformat(),
        end.astimezone(UTC).isoformat(),
        (location or "").strip(),
        reminder,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:20]


def warning_lines(conflicts: Iterable[Conflict]) -> list[str]:
    """One line per conflict. The hint stays in the terminal and the JSON: it is checked
    against the whole week and names other days, so in the event it would change (and
    cost a write) whenever a neighbouring day does."""
    return [
        f"{WARNING} {c.level.value} {c.rule}: {c.message}"
        for c in conflicts
        if c.level is not Level.OFF
    ]


def event_content(
    occurrence: Occurrence, conflicts: Iterable[Conflict] = (), annotate: bool = True
) -> EventContent:
    s = occurrence.session
    warnings = warning_lines(conflicts) if annotate else []
    body = [
        *warnings,
        *([""] if warnings else []),
        *([s.notes] if s.notes else []),
        f"{s.kind.value.capitalize()}, {s.load.value}, {format_duration(s.duration)}"
        + (f", focus {s.focus_text}" if s.focus else ""),
        f"Plan week {occurrence.week}" + (f", {occurrence.phase}" if occurrence.phase else ""),
        f"From the calsync plan '{occurrence.plan}'.",
    ]
    return EventContent(
        uid=occurrence.uid,
        key=occurrence.key,
        plan=occurrence.plan,
        summary=f"{ICON[s.kind]} {s.title}",
        description="\n".join(body),
        start=occurrence.start,
        end=occurrence.end,
        timezone=str(occurrence.start.tzinfo),
        location=s.location,
        categories=(s.kind.value, s.load.value),
        reminder=s.reminder,
    )
