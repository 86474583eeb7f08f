"""Training load: what each week of a schedule costs, as a coach would total it (pure).

A session's load is Foster's session RPE: the session's rating of perceived
exertion on the 0-10 category-ratio scale (CR-10) times its minutes (Foster et
al. 2001, J Strength Cond Res 15:109), in arbitrary units (AU). calsync plans
sessions that have not happened yet, so the RPE is the plan's: the session's
own `rpe` when it gives one, else the value below for its `load`.

Per calendar week (Monday to Sunday) it adds up the hours per kind, the hard,
double and rest days, the smallest gap between two sessions on one day, the
load, and Foster's monotony (the mean of the seven daily loads over their
standard deviation) and strain (weekly load times monotony) (Foster 1998, Med
Sci Sports Exerc 30:1164).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from calsync.core.model import Kind, Load, Occurrence, Session

# The planned RPE of each load, on the CR-10 scale: the middle of the README's
# ranges (easy 2-4, hard 7-9) and moderate between them.
RPE: Mapping[Load, float] = {Load.EASY: 3, Load.MODERATE: 5, Load.HARD: 8}
WEEK = 7
DAY = timedelta(days=1)


def session_rpe(session: Session) -> float:
    """The session's own `rpe` if the plan gives one, else the RPE of its load."""
    return session.rpe if session.rpe is not None else RPE[session.load]


def minutes(session: Session) -> float:
    return session.duration.total_seconds() / 60


def session_load(session: Session) -> float:
    """Foster's session load: RPE times minutes, in arbitrary units."""
    return session_rpe(session) * minutes(session)


@dataclass(frozen=True)
class WeekLoad:
    """One calendar week of a schedule, or the part of it inside the range."""

    monday: date
    first: date  # the first day of the week inside the range (and the plan)
    days: int  # how many of its days are inside: 7 for a whole week
    week: int  # plan week
    phase: str | None
    minutes_by_kind: tuple[tuple[Kind, int], ...]  # kinds in the catalogue's order
    sessions: int
    hard_days: int
    double_days: int  # days with two sessions or more
    closest_gap: timedelta | None  # smallest end-to-start gap on one day; None: no double day
    rest_days: int
    daily: tuple[float, ...]  # the load of each day inside the range
    load: float
    monotony: float | None  # None for a part week, or when every day has the same load
    strain: float | None
    change: float | None  # load against the previous whole week in the range, as a fraction

    @property
    def whole(self) -> bool:
        return self.days == WEEK

    @property
    def total_minutes(self) -> int:
        return sum(m for _, m in self.minutes_by_kind)


def monotony(daily: Sequence[float]) -> float | None:
    """Foster's monotony: the mean daily load over its standard deviation.

    The week's days are the whole population, so the standard deviation is the
    population one (divided by n). With no variation at all the ratio has no
    bound (or, with no load, no meaning): None.
    """
    mean = math.fsum(daily) / len(daily)
    spread = math.sqrt(math.fsum((d - mean) ** 2 for d in daily) / len(daily))
    if spread < 1e-9 * max(1.0, mean):  # equal days, whatever the rounding
        return None
    return mean / spread


def closest_gap(days: Iterable[Sequence[Occurrence]]) -> timedelta | None:
    """The smallest time from one session's end to the next one's start on the same day.

    Sessions that overlap count as no gap at all (the `overlap` rule reports them).
    """
    gaps = [
        max(timedelta(0), b.start_utc - a.end_utc)
        for sessions in days
        for a, b in zip(sessions, sessions[1:], strict=False)
    ]
    return min(gaps, default=None)


def weekly_load(
    occurrences: Iterable[Occurrence], start: date, end: date, plan_starts: date
) -> tuple[WeekLoad, ...]:
    """The load of every calendar week that overlaps [start, end), from `plan_starts` on."""
    by_day: dict[date, list[Occurrence]] = {}
    for o in occurrences:
        by_day.setdefault(o.date, []).append(o)
    for sessions in by_day.values():
        sessions.sort(key=lambda o: (o.start_utc, o.key))
    first = max(start, plan_starts)
    weeks: list[WeekLoad] = []
    monday = first - timedelta(days=first.weekday())
    previous: WeekLoad | None = None
    while monday < end:
        days = [d for d in (monday + i * DAY for i in range(WEEK)) if first <= d < end]
        if days:
            week = _week(monday, days, by_day, plan_starts, previous)
            weeks.append(week)
            previous = week if week.whole else None
        monday += WEEK * DAY
    return tuple(weeks)


def _week(
    monday: date,
    days: Sequence[date],
    by_day: Mapping[date, Sequence[Occurrence]],
    plan_starts: date,
    previous: WeekLoad | None,
) -> WeekLoad:
    sessions = [by_day.get(d, ()) for d in days]
    everything = [o for day in sessions for o in day]
    per_kind: dict[Kind, float] = {}
    for o in everything:
        per_kind[o.session.kind] = per_kind.get(o.session.kind, 0) + minutes(o.session)
    daily = tuple(sum(session_load(o.session) for o in day) for day in sessions)
    load = sum(daily)
    whole = len(days) == WEEK
    mono = monotony(daily) if whole else None
    sample = everything[0] if everything else None
    return WeekLoad(
        monday=monday,
        first=days[0],
        days=len(days),
        week=(monday - plan_starts).days // WEEK + 1,
        phase=sample.phase if sample else None,
        minutes_by_kind=tuple((k, round(per_kind[k])) for k in Kind if k in per_kind),
        sessions=len(everything),
        hard_days=sum(1 for day in sessions if any(o.session.load is Load.HARD for o in day)),
        double_days=sum(1 for day in sessions if len(day) >= 2),
        closest_gap=closest_gap(sessions),
        rest_days=sum(1 for day in sessions if not day),
        daily=daily,
        load=load,
        monotony=mono,
        strain=load * mono if mono is not None else None,
        change=(load / previous.load - 1) if whole and previous and previous.load else None,
    )
