"""Turning schedules and conflicts into text for people and JSON for scripts.

The JSON documents are a stable interface (documented in the README, "JSON
output"): fields are only ever added, and `calsync` carries the format version.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import click

from calsync.core.model import Busy, Conflict, InputWarning, Level, Occurrence, Schedule
from calsync.core.units import format_duration

FORMAT = 1
MARK = {Level.ERROR: "E", Level.WARN: "W"}
COLOUR = {Level.ERROR: "red", Level.WARN: "yellow"}


# --- JSON -------------------------------------------------------------------------


def occurrence_json(o: Occurrence) -> dict[str, Any]:
    from calsync.core.load import session_rpe  # the load model: only for what shows it

    s = o.session
    return {
        "key": o.key,
        "uid": o.uid,
        "date": o.date.isoformat(),
        "start": o.start.isoformat(),
        "end": o.end.isoformat(),
        "session": s.name,
        "kind": s.kind.value,
        "title": s.title,
        "duration_minutes": int(s.duration.total_seconds() // 60),
        "load": s.load.value,
        "focus": s.focus_text,
        "focus_groups": list(s.focus),
        "rpe": session_rpe(s),
        "notes": s.notes,
        "location": s.location,
        "reminder_minutes": s.reminder,
        "week": o.week,
        "phase": o.phase,
        "window": o.window,
    }


def busy_json(b: Busy) -> dict[str, Any]:
    return {"title": b.title, "start": b.start.isoformat(), "end": b.end.isoformat()}


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "rule": c.rule,
        "level": c.level.value,
        "date": c.date.isoformat(),
        "message": c.message,
        "hint": c.hint,
        "sessions": [
            {
                "key": o.key,
                "title": o.session.title,
                "start": o.start.isoformat(),
                "end": o.end.isoformat(),
            }
            for o in c.sessions
        ],
        "busy": [busy_json(b) for b in c.busy],
    }


def input_warning_json(w: InputWarning) -> dict[str, Any]:
    return {"file": w.path, "line": w.line, "message": w.message}


def summary(schedule: Schedule) -> dict[str, int]:
    levels = [c.level for c in schedule.conflicts]
    return {
        "sessions": len(schedule.occurrences),
        "errors": levels.count(Level.ERROR),
        "warnings": levels.count(Level.WARN),
    }


def schedule_json(schedule: Schedule, sessions: bool) -> dict[str, Any]:
    from calsync.cli.load_report import load_json

    plan = schedule.plan
    doc: dict[str, Any] = {
        "calsync": FORMAT,
        "plan": {
            "id": plan.id,
            "title": plan.title,
            "timezone": plan.timezone,
            "goal": plan.goal.value,
        },
        "from": schedule.start.isoformat(),
        "to": (schedule.end - timedelta(days=1)).isoformat(),
        "summary": summary(schedule),
    }
    if sessions:
        doc["sessions"] = [occurrence_json(o) for o in schedule.occurrences]
    doc["conflicts"] = [conflict_json(c) for c in schedule.conflicts]
    doc["load"] = load_json(schedule)
    doc["input_warnings"] = [input_warning_json(w) for w in schedule.warnings]
    return doc


# --- text -------------------------------------------------------------------------


INDENT = 6  # where a wrapped line and a hint start: under the date, past the level
_DAY = re.compile(r"\b(?:[A-Z][a-z]{2} )?\d{4}-\d{2}-\d{2}\b")


def conflict_lines(conflicts: Iterable[Conflict], width: int | None = None) -> list[str]:
    """Each conflict (a weekly repeat once, for all its weeks) and its hint, in lines
    wrapped to `width` (None: not wrapped)."""
    lines = []
    for dates, c in _repeats(conflicts):
        when = f"{c.date:%a %Y-%m-%d}" if len(dates) == 1 else _every(dates)
        message = c.message if len(dates) == 1 else _undated(c.message)
        head = f"{c.level.value:<5} {when}  {c.rule:<16} {message}"
        lines += _wrapped(head, width, " " * INDENT, c.level)
        if c.hint:
            lines += _wrapped(" " * INDENT + f"hint: {c.hint}", width, " " * (INDENT + 6))
    return lines


def _repeats(conflicts: Iterable[Conflict]) -> list[tuple[list[date], Conflict]]:
    """Conflicts that say the same thing on the same weekday, together, where the first is."""
    groups: list[tuple[list[date], Conflict]] = []
    seen: dict[tuple[object, ...], int] = {}
    for c in conflicts:
        key = (c.level, c.rule, c.date.weekday(), _undated(c.message), c.hint)
        if key in seen:
            groups[seen[key]][0].append(c.date)
        else:
            seen[key] = len(groups)
            groups.append(([c.date], c))
    return groups


def _every(dates: list[date]) -> str:
    """`every Fri from 4 Dec to 18 Dec 2026`, or `on 27 Fridays from 4 Dec 2026 to ...`."""
    first, end = dates[0], dates[-1]
    if (end - first).days == 7 * (len(dates) - 1):
        return f"every {first:%a} from {first.day} {first:%b} to {end.day} {end:%b %Y}"
    return f"on {len(dates)} {first:%A}s from {first.day} {first:%b %Y} to {end.day} {end:%b %Y}"


def _undated(message: str) -> str:
    return _DAY.sub("that day", message.replace("the week of ", "the week starting "))


def _wrapped(text: str, width: int | None, indent: str, level: Level | None = None) -> list[str]:
    lines = [text]
    if width:
        lines = textwrap.wrap(
            text,
            width=max(width, 40),
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [text]
    if level is not None:
        styled = click.style(f"{level.value:<5}", fg=COLOUR.get(level), bold=True)
        lines[0] = styled + lines[0][5:]
    return lines


def plural(count: int, noun: str) -> str:
    """`1 session`, `2 sessions`, `0 sessions`."""
    return f"{count} {noun}{'s' * (count != 1)}"


def input_warning_lines(warnings: Iterable[InputWarning]) -> list[str]:
    """One line each, for stderr: what calsync assumed reading a busy file."""
    label = click.style("warning", fg=COLOUR[Level.WARN], bold=True)
    return [f"calsync: {label}: {w}" for w in warnings]


def totals_line(schedule: Schedule) -> str:
    counts = summary(schedule)
    last = schedule.end - timedelta(days=1)
    return (
        f"{plural(counts['sessions'], 'session')} from {schedule.start:%a %Y-%m-%d} to {last:%a %Y-%m-%d}: "
        f"{counts['errors']} error{'s' * (counts['errors'] != 1)}, "
        f"{counts['warnings']} warning{'s' * (counts['warnings'] != 1)}"
    )


def week_grid(schedule: Schedule, width: int | None = None) -> list[str]:
    """One block per week, one line per session, days as rows: what a person scans."""
    from calsync.cli.load_report import schedule_weeks, week_summary

    by_day: dict[date, list[Occurrence]] = {}
    for o in schedule.occurrences:
        by_day.setdefault(o.date, []).append(o)
    loads = {w.monday: w for w in schedule_weeks(schedule)}
    lines: list[str] = []
    day = schedule.start
    while day < schedule.end:
        week_end = min(day + timedelta(days=7 - day.weekday()), schedule.end)
        block = _week_block(schedule, day, week_end, by_day, width)
        load = loads.get(day - timedelta(days=day.weekday()))
        summary = ["  " + line for line in week_summary(load)] if load else []
        lines += block[:-1] + summary + block[-1:]  # the summary ends the week, before its blank
        day = week_end
    return lines


def _week_block(
    schedule: Schedule,
    start: date,
    end: date,
    by_day: dict[date, list[Occurrence]],
    width: int | None = None,
) -> list[str]:
    plan = schedule.plan
    week = (start - plan.starts).days // 7 + 1
    sample = next((o for d in by_day if start <= d < end for o in by_day[d]), None)
    phase = f" ({sample.phase})" if sample and sample.phase else ""
    heading = (
        f"Week {week}{phase}: {start:%a %d %b} - {end - timedelta(days=1):%a %d %b %Y}"
        if start >= plan.starts
        else f"{start:%a %d %b} - {end - timedelta(days=1):%a %d %b %Y}: before the plan starts"
    )
    lines = [click.style(heading, bold=True)]
    conflicts = [c for c in schedule.conflicts if start <= c.date < end]
    day = start
    while day < end:
        sessions = by_day.get(day, [])
        label = f"{day:%a %d}"
        if not sessions:
            lines.append(f"  {label}  " + click.style("rest", dim=True))
        for i, o in enumerate(sessions):
            lines.append(f"  {label if i == 0 else '':<6}  {_session_cell(o, schedule.conflicts)}")
        day += timedelta(days=1)
    if conflicts:
        wrap = width - 2 if width else None
        lines += ["  " + line for line in conflict_lines(conflicts, wrap)]
    lines.append("")
    return lines


def _session_cell(o: Occurrence, conflicts: Sequence[Conflict]) -> str:
    s = o.session
    levels = {c.level for c in conflicts if o.key in c.keys}
    worst = Level.ERROR if Level.ERROR in levels else (Level.WARN if levels else None)
    mark = click.style(MARK[worst], fg=COLOUR[worst], bold=True) if worst else " "
    detail = f"{s.kind.value}, {s.load.value}, {format_duration(s.duration)}"
    placed = f" [{o.window}]" if o.window else ""
    return f"{o.start:%H:%M}-{o.end:%H:%M} {mark} {s.title}  ({detail}){placed}"
