"""Turning schedules and conflicts into text for people and JSON for scripts.

The JSON documents are a stable interface (documented in the README, "JSON
output"): fields are only ever added, and `calsync` carries the format version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import click

from .load import session_rpe
from .load_report import load_json, schedule_weeks, week_summary
from .model import Busy, Conflict, InputWarning, Level, Occurrence, Schedule
from .units import format_duration

FORMAT = 1
MARK = {Level.ERROR: "E", Level.WARN: "W"}
COLOUR = {Level.ERROR: "red", Level.WARN: "yellow"}


# --- JSON -------------------------------------------------------------------------


def occurrence_json(o: Occurrence) -> dict[str, Any]:
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


def conflict_lines(conflicts: Iterable[Conflict]) -> list[str]:
    lines = []
    for c in conflicts:
        level = click.style(f"{c.level.value:<5}", fg=COLOUR.get(c.level), bold=True)
        lines.append(f"{level} {c.date:%a %Y-%m-%d}  {c.rule:<16} {c.message}")
        if c.hint:
            lines.append(f"{'':<34}hint: {c.hint}")
    return lines


def input_warning_lines(warnings: Iterable[InputWarning]) -> list[str]:
    """One line each, for stderr: what calsync assumed reading a busy file."""
    label = click.style("warning", fg=COLOUR[Level.WARN], bold=True)
    return [f"calsync: {label}: {w}" for w in warnings]


def totals_line(schedule: Schedule) -> str:
    counts = summary(schedule)
    last = schedule.end - timedelta(days=1)
    return (
        f"{counts['sessions']} sessions from {schedule.start:%a %Y-%m-%d} to {last:%a %Y-%m-%d}: "
        f"{counts['errors']} error{'s' * (counts['errors'] != 1)}, "
        f"{counts['warnings']} warning{'s' * (counts['warnings'] != 1)}"
    )


def week_grid(schedule: Schedule) -> list[str]:
    """One block per week, one line per session, days as rows: what a person scans."""
    by_day: dict[date, list[Occurrence]] = {}
    for o in schedule.occurrences:
        by_day.setdefault(o.date, []).append(o)
    loads = {w.monday: w for w in schedule_weeks(schedule)}
    lines: list[str] = []
    day = schedule.start
    while day < schedule.end:
        week_end = min(day + timedelta(days=7 - day.weekday()), schedule.end)
        block = _week_block(schedule, day, week_end, by_day)
        load = loads.get(day - timedelta(days=day.weekday()))
        summary = ["  " + line for line in week_summary(load)] if load else []
        lines += block[:-1] + summary + block[-1:]  # the summary ends the week, before its blank
        day = week_end
    return lines


def _week_block(
    schedule: Schedule, start: date, end: date, by_day: dict[date, list[Occurrence]]
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
        lines += ["  " + line for line in conflict_lines(conflicts)]
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
