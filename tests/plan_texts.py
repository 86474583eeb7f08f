"""Plan texts and schedules several test files share: the rider template made an
every-week plan, and a plan's text expanded as an export would (with the instants
of a first export and of a later one)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from calsync.core.expand import expand
from calsync.core.loader import parse_plan
from calsync.core.model import Schedule

RIDER = Path(__file__).resolve().parent.parent / "templates" / "rider-fit.yaml"
PIN = "  pin: {sat: rest}              # Saturday stays free\n"

FIRST_NOW = datetime(2026, 11, 26, 8, tzinfo=UTC)
LATER_NOW = datetime(2026, 12, 20, 7, 30, tzinfo=UTC)


def every_week_text() -> str:
    """The rider template, re-arranged around the calendar every week."""
    text = RIDER.read_text(encoding="utf-8")
    assert PIN in text
    return text.replace(PIN, PIN + "  every-week: true\n")


def schedule(text: str, start: date, weeks: int) -> Schedule:
    return expand(parse_plan(text, "plan.yaml"), start, start + timedelta(weeks=weeks))


def first_instant(s: Schedule) -> datetime:
    return s.plan.midnight(s.start)
