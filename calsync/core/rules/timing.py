"""Checks of one day's timing: order, gap, overlap, max-per-day.

Each timed rule has a check and its `turns`: the starts at which its verdict on
one more session of a given length can change (between two neighbouring turns
the verdict is the same; tested against the checks in tests/test_placement.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from itertools import combinations

from calsync.core.model import Conflict, Level, RuleSetting
from calsync.core.rules.common import DayView, conflict, span
from calsync.core.rules.params import GapParams, MaxPerDayParams, OrderParams
from calsync.core.units import format_duration

Settings = Mapping[str, RuleSetting]


def gap_min(settings: Settings) -> timedelta:
    """The rest `gap` wants between sessions of one day; nothing when it is off."""
    gap = settings.get("gap")
    if gap is None or gap.level is Level.OFF:
        return timedelta(0)
    return gap.typed(GapParams).min


def check_order(view: DayView, setting: RuleSetting, settings: Settings) -> Iterator[Conflict]:
    params = setting.typed(OrderParams)
    gap = gap_min(settings)
    for a in view.sessions:
        if a.session.kind not in params.first:
            continue
        for b in view.sessions:
            if b.session.kind in params.then and b.start_utc < a.end_utc:
                yield conflict(
                    setting,
                    view.date,
                    f"{span(b)} starts before {span(a)} ends: "
                    f"{a.session.kind} goes first on a day with both",
                    a,
                    b,
                    hint=f"move '{b.session.title}' to {(a.end + gap):%H:%M} or later",
                )


def turns_order(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Settings
) -> Iterator[datetime]:
    params = setting.typed(OrderParams)
    for o in view.sessions:
        if o.session.kind in params.first:
            yield o.end_utc  # a `then` session may start from its end
        if o.session.kind in params.then:
            yield o.start_utc - length  # a `first` session must end by its start


def check_gap(view: DayView, setting: RuleSetting, settings: Settings) -> Iterator[Conflict]:
    need = setting.typed(GapParams).min
    for a, b in zip(view.sessions, view.sessions[1:], strict=False):
        rest = b.start_utc - a.end_utc
        if timedelta(0) <= rest < need:
            yield conflict(
                setting,
                view.date,
                f"only {format_duration(rest) if rest else '0m'} between {span(a)} and "
                f"{span(b)}: at least {format_duration(need)} wanted",
                a,
                b,
                hint=f"move '{b.session.title}' to {(a.end + need):%H:%M} or later",
            )


def turns_gap(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Settings
) -> Iterator[datetime]:
    need = setting.typed(GapParams).min
    for o in view.sessions:
        yield o.start_utc  # passing a start changes the session's neighbours
        yield o.end_utc  # starting before o ends, the rest after o is negative: no gap
        yield o.end_utc + need
        yield o.start_utc - length  # ending after o starts, the rest before o is negative
        yield o.start_utc - length - need


def check_overlap(view: DayView, setting: RuleSetting, settings: Settings) -> Iterator[Conflict]:
    for a, b in combinations(view.sessions, 2):
        if a.start_utc < b.end_utc and b.start_utc < a.end_utc:
            yield conflict(
                setting,
                view.date,
                f"{span(a)} and {span(b)} overlap",
                a,
                b,
                hint=f"move '{b.session.title}' to {a.end:%H:%M} or later",
            )
    for o in view.sessions:
        for busy in view.busy:
            if o.start_utc < busy.end and busy.start < o.end_utc:
                start, end = (
                    busy.start.astimezone(o.start.tzinfo),
                    busy.end.astimezone(o.start.tzinfo),
                )
                yield conflict(
                    setting,
                    view.date,
                    f"{span(o)} overlaps '{busy.title}' ({_busy_span(start, end, view.date)})",
                    o,
                    busy=(busy,),
                    hint=f"move '{o.session.title}' outside {start:%H:%M}-{end:%H:%M}",
                )


def _busy_span(start: datetime, end: datetime, day: date) -> str:
    """`12:00-13:00`; `all day` for busy time covering the whole day; other days named."""
    midnight = datetime.combine(day, time(), tzinfo=start.tzinfo)
    if start <= midnight and end >= datetime.combine(day + timedelta(days=1), time(), start.tzinfo):
        return "all day"
    first = f"{start:%H:%M}" if start.date() == day else f"{start:%a %H:%M}"
    last = f"{end:%H:%M}" if end.date() == day else f"{end:%a %H:%M}"
    return f"{first}-{last}"


def turns_overlap(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Settings
) -> Iterator[datetime]:
    for start, end in (
        *((o.start_utc, o.end_utc) for o in view.sessions),
        *((b.start, b.end) for b in view.busy),
    ):
        yield start - length
        yield end


def check_max_per_day(
    view: DayView, setting: RuleSetting, settings: Settings
) -> Iterator[Conflict]:
    count = setting.typed(MaxPerDayParams).count
    if len(view.sessions) > count:
        yield conflict(
            setting,
            view.date,
            f"{len(view.sessions)} sessions on one day: at most {count} wanted",
            *view.sessions,
            hint="move one session to another day",
        )
