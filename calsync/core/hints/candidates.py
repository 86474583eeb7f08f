"""The changes worth trying for a conflict, in the order they are preferred: another time,
another day of its week, easy or shorter, two days swapped, a day cleared for rest."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from calsync.core.dates import reads_once
from calsync.core.hints.world import DAY, World, apply, length_of, minutes_of, monday
from calsync.core.model import Change, Conflict, Kind, Level, Load, Occurrence
from calsync.core.rules import day_conflicts
from calsync.core.rules.common import DayView
from calsync.core.rules.params import HypertrophyRideParams
from calsync.core.units import format_duration

PER_DAY = 4  # starts tried on another day, nearest to the session's own time first
Candidate = tuple[str, tuple[Change, ...]]


def _at(world: World, day: date, minutes: int) -> datetime | None:
    """The instant of a wall-clock minute on a day, if it exists exactly once."""
    if (day, minutes) not in world.instants:
        world.instants[day, minutes] = _instant(world, day, minutes)
    return world.instants[day, minutes]


def _instant(world: World, day: date, minutes: int) -> datetime | None:
    if not 0 <= minutes < 24 * 60:
        return None
    moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=world.zone)
    if not reads_once(moment):
        return None
    return moment


def _times(world: World, o: Occurrence, day: date, others: Sequence[Occurrence]) -> list[int]:
    """Starts worth trying for `o` on `day`, nearest to its own time first.

    A rule can only become satisfied where a start or an end meets the edge of
    something else (a session, a session plus the gap, busy time), so those
    edges (and the session's own time) are the only candidates.
    """
    length, gap = length_of(o), int(world.gap.total_seconds() // 60)
    edges = {minutes_of(o.start)}
    for p in others:
        begin, end = minutes_of(p.start), minutes_of(p.start) + length_of(p)
        edges |= {end, end + gap, begin - length, begin - gap - length}
    for b in world.busy.get(day, ()):
        begin_at, end_at = b.start.astimezone(world.zone), b.end.astimezone(world.zone)
        if begin_at.date() == day:
            edges.add(minutes_of(begin_at) - length)
        if end_at.date() == day:
            edges.add(minutes_of(end_at))
    low, high = world.hours
    own = minutes_of(o.start)
    fits = [m for m in edges if low <= m and m + length <= high]
    return sorted(fits, key=lambda m: (abs(m - own), m))


def _move(world: World, o: Occurrence, day: date, minutes: int) -> Change | None:
    start = _at(world, day, minutes)
    return None if start is None else Change(o.key, day, start, o.session)


def _same_day(world: World, sessions: Sequence[Occurrence]) -> Iterator[Candidate]:
    options = []
    for rank, o in enumerate(sessions):
        others = [p for p in world.days.get(o.date, ()) if p.key != o.key]
        own = minutes_of(o.start)
        for m in _times(world, o, o.date, others):
            if m != own:
                options.append((abs(m - own), rank, m, o))
    for _, _, m, o in sorted(options, key=lambda t: t[:3]):
        change = _move(world, o, o.date, m)
        if change:
            yield f"move '{o.session.title}' to {_clock(m)}", (change,)


def _week_days(world: World, day: date) -> list[date]:
    """The other days of `day`'s week, nearest first (the later one first on a tie)."""
    week = [monday(day) + i * DAY for i in range(7)]
    others = [d for d in week if d != day and d >= world.first]
    return sorted(others, key=lambda d: (abs((d - day).days), d < day))


def _other_day(world: World, sessions: Sequence[Occurrence]) -> Iterator[Candidate]:
    options = []
    for rank, o in enumerate(sessions):
        for distance, day in enumerate(_week_days(world, o.date)):
            others = [p for p in world.days.get(day, ()) if p.key != o.key]
            for m in _times(world, o, day, others)[:PER_DAY]:
                options.append((distance, rank, abs(m - minutes_of(o.start)), day, m, o))
    for _, _, _, day, m, o in sorted(options, key=lambda t: t[:3]):
        change = _move(world, o, day, m)
        if change:
            yield f"move '{o.session.title}' to {day:%A} {_clock(m)}", (change,)


def _make_easy(o: Occurrence, longest: timedelta | None = None) -> Iterator[Candidate]:
    s = o.session
    duration = longest if longest is not None and s.duration > longest else s.duration
    shorter = duration < s.duration
    if s.load is Load.EASY and not shorter:
        return
    session = replace(s, load=Load.EASY, duration=duration)
    text = (
        f"shorten '{s.title}' to an easy {format_duration(session.duration)}"
        if shorter
        else f"make '{s.title}' easy"
    )
    yield text, (Change(o.key, o.date, o.start, session),)


def _swaps(world: World, day: date) -> Iterator[Candidate]:
    """`day` and another day of its week trade their sessions, each keeping its time."""
    for other in _week_days(world, day):
        changes = []
        for source, target in ((day, other), (other, day)):
            for o in world.days.get(source, ()):
                change = _move(world, o, target, minutes_of(o.start))
                if change is None:
                    break
                changes.append(change)
        if changes and len(changes) == len(world.days.get(day, ())) + len(
            world.days.get(other, ())
        ):
            yield f"swap {day:%A} and {other:%A}", tuple(changes)


def _rest_day(world: World, monday: date) -> Iterator[Candidate]:
    """One day of the week cleared: each of its sessions moved to another day of the week.

    Each session goes to the first slot where its new day breaks no rule at level
    error on its own; the whole change is then judged like any other.
    """
    week = [monday + i * DAY for i in range(7) if monday + i * DAY >= world.first]
    busy_days = sorted(
        (d for d in week if world.days.get(d)), key=lambda d: (len(world.days[d]), -d.toordinal())
    )
    for cleared in busy_days:
        days = {d: list(world.days.get(d, ())) for d in week}
        changes: list[Change] = []
        for o in world.days[cleared]:
            change = _first_clean_slot(world, o, [d for d in week if d != cleared], days)
            if change is None:
                break
            changes.append(change)
            days = apply(days, [change])
        else:
            moves = " and ".join(
                f"'{c.session.title}' to {c.date:%A} {c.start:%H:%M}" for c in changes
            )
            yield f"make {cleared:%A} a rest day: move {moves}", tuple(changes)


def _first_clean_slot(
    world: World, o: Occurrence, targets: Sequence[date], days: Mapping[date, Sequence[Occurrence]]
) -> Change | None:
    for day in sorted(targets, key=lambda d: (abs((d - o.date).days), d < o.date)):
        others = [p for p in days.get(day, ()) if p.key != o.key]
        for m in _times(world, o, day, others):
            change = _move(world, o, day, m)
            if change is None:
                continue
            moved = apply({day: others, o.date: [o]}, [change])[day]
            view = DayView(day, moved, world.busy.get(day, ()))
            if not any(c.level is Level.ERROR for c in day_conflicts(view, world.settings)):
                return change
    return None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _endurance_after_legs(c: Conflict) -> list[Occurrence]:
    return [o for o in c.sessions if o.session.kind is not Kind.STRENGTH]


def candidates(world: World, c: Conflict) -> list[Iterator[Candidate]]:
    """The kinds of change worth trying for a conflict, in the order they are preferred."""
    later_first = sorted(c.sessions, key=lambda o: o.start_utc, reverse=True)
    if c.rule in ("order", "gap", "overlap", "unplaced"):
        return [_same_day(world, later_first), _other_day(world, later_first)]
    if c.rule == "legs-then-hard":
        ride = _endurance_after_legs(c)
        return [
            _other_day(world, ride),
            *(_make_easy(o) for o in ride),
        ]
    if c.rule == "hypertrophy-ride":
        ride = _endurance_after_legs(c)
        longest = world.settings["hypertrophy-ride"].typed(HypertrophyRideParams).max
        return [*(_make_easy(o, longest) for o in ride), _other_day(world, ride)]
    if c.rule == "max-per-day":
        return [_other_day(world, later_first)]
    if c.rule == "hard-then-easy":
        hard = [o for o in later_first if o.session.load is Load.HARD]
        return [
            _other_day(world, hard),
            _swaps(world, c.date),
            _swaps(world, c.date - DAY),
            *(_make_easy(o) for o in hard),
        ]
    if c.rule == "rest-days":
        return [_rest_day(world, c.date)]
    return []
