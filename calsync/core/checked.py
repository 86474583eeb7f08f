"""What a check found right, in one line: the conflicts say what is wrong, this says
what was measured and held (`calsync validate`). Pure."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from calsync.core.model import Level, Occurrence, Schedule
from calsync.core.units import format_duration


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def held(schedule: Schedule) -> str:
    """`checked: every same-day gap at least 8h45m; strength first on all 4 double days; ...`

    Only rules that are on and report no conflict in the range are named, each with
    what was measured, so the line never claims what the conflicts contradict.
    """
    settings = {s.id: s for s in schedule.plan.rules}
    broken = {c.rule for c in schedule.conflicts}
    days: dict[date, list[Occurrence]] = defaultdict(list)
    for o in schedule.occurrences:
        days[o.date].append(o)
    doubles = [sorted(d, key=lambda o: o.start_utc) for d in days.values() if len(d) > 1]

    def on(rule: str) -> bool:
        return settings[rule].level is not Level.OFF and rule not in broken

    parts = []
    if on("gap") and doubles:
        gaps = [b.start_utc - a.end_utc for d in doubles for a, b in zip(d, d[1:], strict=False)]
        parts.append(f"every same-day gap at least {format_duration(min(gaps))}")
    if on("order"):
        first, then = settings["order"].param("first"), settings["order"].param("then")
        both = [
            d
            for d in days.values()
            if any(o.session.kind in first for o in d) and any(o.session.kind in then for o in d)  # type: ignore[operator]
        ]
        if both:
            kind = "/".join(str(k) for k in first)  # type: ignore[attr-defined]
            parts.append(f"{kind} first on all {_plural(len(both), 'double day')}")
    if on("max-per-day") and days:
        parts.append(f"at most {_plural(max(len(d) for d in days.values()), 'session')} a day")
    if on("rest-days"):
        rests = []
        monday = schedule.start + timedelta(days=(7 - schedule.start.weekday()) % 7)
        while monday + timedelta(days=7) <= schedule.end:
            week = [monday + timedelta(days=i) for i in range(7)]
            rests.append(sum(1 for d in week if not days.get(d)))
            monday += timedelta(days=7)
        if rests:
            parts.append(f"at least {_plural(min(rests), 'rest day')} a week")
    if on("hard-then-easy") and days:
        parts.append("no two hard days in a row")
    return "checked: " + "; ".join(parts) if parts else ""
