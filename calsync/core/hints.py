"""Hints that are checked before they are offered.

A conflict's hint proposes a change to one or a few dated sessions: move one to
another time or another day of its week, make it easy or shorter, swap two
days, or clear a day for rest. calsync does not guess: it tries candidate
changes against the rule catalogue (calsync/rules.py, the one definition of
every rule) and offers only changes that, applied, remove the conflict and
create no new conflict at level error. A change that would add a warning is
offered only when nothing cleaner exists, and then says which warning it adds.
When no change of that kind works, the conflict has no hint.

Pure: the same conflicts and days give the same hints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from calsync.core.model import (
    Busy,
    Change,
    Conflict,
    Fix,
    Kind,
    Level,
    Load,
    Occurrence,
    RuleSetting,
)
from calsync.core.rules import DayView, day_conflicts, span_conflicts
from calsync.core.units import format_duration

DAY = timedelta(days=1)
TRIES = 60  # candidates judged per kind of change: bounds the work for one conflict
WIDEST = 2  # alternatives offered in one hint
PER_DAY = 4  # starts tried on another day, nearest to the session's own time first
USUAL_HOURS = (6 * 60, 22 * 60)  # a hint stays inside these hours, or the plan's own if wider
Candidate = tuple[str, tuple[Change, ...]]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class World:
    """What a fix is judged against: the days around a range, as expansion saw them."""

    settings: Mapping[str, RuleSetting]
    days: Mapping[date, Sequence[Occurrence]]  # each day sorted by start
    busy: Mapping[date, Sequence[Busy]]
    first: date  # the plan's first day: nothing moves before it
    zone: ZoneInfo

    @property
    def gap(self) -> timedelta:
        gap = self.settings["gap"]
        return timedelta(0) if gap.level is Level.OFF else gap.param("min")  # type: ignore[return-value]

    @cached_property
    def where(self) -> dict[str, date]:
        return {o.key: o.date for day in self.days.values() for o in day}

    def looks(self, day: date) -> tuple:
        """What the rules can see of a day, whatever its date: sessions, busy time, offsets."""
        if day not in self._looks:
            midnight = datetime.combine(day, time(), tzinfo=self.zone)
            after = datetime.combine(day + DAY, time(), tzinfo=self.zone)
            sessions = tuple(
                (o.key.rsplit("/", 1)[1], _minutes(o.start), o.start.utcoffset(), o.session)
                for o in self.days.get(day, ())
            )
            busy = tuple((b.start - midnight, b.end - midnight) for b in self.busy.get(day, ()))
            self._looks[day] = (sessions, busy, midnight.utcoffset(), after.utcoffset())
        return self._looks[day]

    def before(self, touched: frozenset[date]) -> frozenset[tuple]:
        """The conflicts as they are, on the days a change touches (remembered)."""
        if touched not in self._before:
            self._before[touched] = frozenset(_ident(c) for c in judge(self, self.days, touched))
        return self._before[touched]

    @cached_property
    def _before(self) -> dict[frozenset[date], frozenset[tuple]]:
        return {}

    @cached_property
    def _looks(self) -> dict[date, tuple]:
        return {}

    @cached_property
    def hours(self) -> tuple[int, int]:
        """Minutes of the day a hint may use: the usual hours, or the plan's own if wider."""
        starts = [_minutes(o.start) for day in self.days.values() for o in day]
        ends = [_minutes(o.start) + _length(o) for day in self.days.values() for o in day]
        return min([USUAL_HOURS[0], *starts]), min(24 * 60, max([USUAL_HOURS[1], *ends]))


def _minutes(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _length(o: Occurrence) -> int:
    return int(o.session.duration.total_seconds() // 60)


# --- judging a change ----------------------------------------------------------------------------


def _ident(c: Conflict) -> tuple:
    """What makes two conflicts the same one, before and after a change.

    A week's rest-day count is about the week, not about which sessions fill it.
    """
    return (c.rule, c.date, c.message if c.rule == "rest-days" else frozenset(c.keys))


def apply(days: Mapping[date, Sequence[Occurrence]], changes: Iterable[Change]) -> dict:
    """The days with each changed session taken off its day and put where the change says."""
    changes = tuple(changes)
    moved = {c.key for c in changes}
    result = {d: [o for o in day if o.key not in moved] for d, day in days.items()}
    originals = {o.key: o for day in days.values() for o in day if o.key in moved}
    for change in changes:
        old = originals[change.key]
        end = (change.start.astimezone(UTC) + change.session.duration).astimezone(
            change.start.tzinfo
        )
        new = replace(old, date=change.date, start=change.start, end=end, session=change.session)
        result.setdefault(change.date, []).append(new)
    return {d: sorted(day, key=lambda o: (o.start_utc, o.key)) for d, day in result.items()}


def judge(world: World, days: Mapping[date, Sequence[Occurrence]], touched: set[date]) -> list:
    """Every conflict the catalogue finds that a change on `touched` days could alter."""
    return _judge_days(world, days, touched) + _judge_weeks(world, days, touched)


def _judge_days(
    world: World, days: Mapping[date, Sequence[Occurrence]], touched: set[date]
) -> list:
    found: list[Conflict] = []
    for day in sorted(touched):
        view = DayView(day, days.get(day, ()), world.busy.get(day, ()))
        found += day_conflicts(view, world.settings)
    return found


def _judge_weeks(
    world: World, days: Mapping[date, Sequence[Occurrence]], touched: set[date]
) -> list:
    weeks = sorted({_monday(d) for d in touched})
    region = {
        w + i * DAY: days[w + i * DAY] for w in weeks for i in range(-1, 8) if w + i * DAY in days
    }
    return list(span_conflicts(region, weeks, world.settings))


def outcome(
    world: World, conflict: Conflict, changes: tuple[Change, ...]
) -> tuple[str, ...] | None:
    """None if the change leaves the conflict or adds an error; else the rules it adds warnings of."""
    touched = {c.date for c in changes} | {world.where[c.key] for c in changes}
    before = world.before(frozenset(touched))
    changed = apply({d: world.days.get(d, ()) for d in touched}, changes)
    after = _judge_days(world, changed, touched)
    if any(c.level is Level.ERROR and _ident(c) not in before for c in after):
        return None  # the days alone already say no: spare the weekly rules
    around = {d: world.days[d] for d in _around(touched) if d in world.days}
    after += _judge_weeks(world, {**around, **changed}, touched)
    if not removed(conflict, after, {c.key for c in changes}):
        return None
    new = [c for c in after if _ident(c) not in before]
    if any(c.level is Level.ERROR for c in new):
        return None
    return tuple(sorted({c.rule for c in new}))


def _around(touched: set[date]) -> set[date]:
    return {_monday(d) + i * DAY for d in touched for i in range(-1, 8)}


def removed(conflict: Conflict, after: Iterable[Conflict], changed: set[str]) -> bool:
    """Whether the rules, judging the changed days, no longer report `conflict`.

    A conflict between given sessions is gone when the rule no longer reports those
    sessions together; one about a whole day or week (too many sessions, two hard
    days, too few rest days) when it no longer names any of them (or, for rest days,
    the week at all). An `unplaced` session is settled when it is given a time of
    its own that breaks no rule at level error.
    """
    keys = set(conflict.keys)
    if conflict.rule == "unplaced":
        return bool(keys & changed) and not any(
            c.level is Level.ERROR and keys & set(c.keys) for c in after
        )
    same = [c for c in after if c.rule == conflict.rule and c.date == conflict.date]
    if conflict.rule == "rest-days":
        return not same
    if conflict.rule in GROUPS:
        return not any(keys & set(c.keys) for c in same)
    return not any(set(c.keys) == keys for c in same)


GROUPS = frozenset({"max-per-day", "hard-then-easy"})  # conflicts about a day, not a pair


# --- candidate changes ---------------------------------------------------------------------------


def _at(world: World, day: date, minutes: int) -> datetime | None:
    """The instant of a wall-clock minute on a day, if it exists exactly once."""
    if not 0 <= minutes < 24 * 60:
        return None
    moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=world.zone)
    if moment.utcoffset() != moment.replace(fold=1).utcoffset():
        return None
    return moment


def _times(world: World, o: Occurrence, day: date, others: Sequence[Occurrence]) -> list[int]:
    """Starts worth trying for `o` on `day`, nearest to its own time first.

    A rule can only become satisfied where a start or an end meets the edge of
    something else (a session, a session plus the gap, busy time), so those
    edges (and the session's own time) are the only candidates.
    """
    length, gap = _length(o), int(world.gap.total_seconds() // 60)
    edges = {_minutes(o.start)}
    for p in others:
        begin, end = _minutes(p.start), _minutes(p.start) + _length(p)
        edges |= {end, end + gap, begin - length, begin - gap - length}
    for b in world.busy.get(day, ()):
        begin_at, end_at = b.start.astimezone(world.zone), b.end.astimezone(world.zone)
        if begin_at.date() == day:
            edges.add(_minutes(begin_at) - length)
        if end_at.date() == day:
            edges.add(_minutes(end_at))
    low, high = world.hours
    own = _minutes(o.start)
    fits = [m for m in edges if low <= m and m + length <= high]
    return sorted(fits, key=lambda m: (abs(m - own), m))


def _move(world: World, o: Occurrence, day: date, minutes: int) -> Change | None:
    start = _at(world, day, minutes)
    return None if start is None else Change(o.key, day, start, o.session)


def _same_day(world: World, sessions: Sequence[Occurrence]) -> Iterator[Candidate]:
    options = []
    for rank, o in enumerate(sessions):
        others = [p for p in world.days.get(o.date, ()) if p.key != o.key]
        own = _minutes(o.start)
        for m in _times(world, o, o.date, others):
            if m != own:
                options.append((abs(m - own), rank, m, o))
    for _, _, m, o in sorted(options, key=lambda t: t[:3]):
        change = _move(world, o, o.date, m)
        if change:
            yield f"move '{o.session.title}' to {_clock(m)}", (change,)


def _week_days(world: World, day: date) -> list[date]:
    """The other days of `day`'s week, nearest first (the later one first on a tie)."""
    week = [_monday(day) + i * DAY for i in range(7)]
    others = [d for d in week if d != day and d >= world.first]
    return sorted(others, key=lambda d: (abs((d - day).days), d < day))


def _other_day(world: World, sessions: Sequence[Occurrence]) -> Iterator[Candidate]:
    options = []
    for rank, o in enumerate(sessions):
        for distance, day in enumerate(_week_days(world, o.date)):
            others = [p for p in world.days.get(day, ()) if p.key != o.key]
            for m in _times(world, o, day, others)[:PER_DAY]:
                options.append((distance, rank, abs(m - _minutes(o.start)), day, m, o))
    for _, _, _, day, m, o in sorted(options, key=lambda t: t[:3]):
        change = _move(world, o, day, m)
        if change:
            yield f"move '{o.session.title}' to {day:%A} {_clock(m)}", (change,)


def _make_easy(o: Occurrence, longest: timedelta | None = None) -> Iterator[Candidate]:
    s = o.session
    shorter = longest is not None and s.duration > longest
    if s.load is Load.EASY and not shorter:
        return
    session = replace(s, load=Load.EASY, duration=longest if shorter else s.duration)  # type: ignore[arg-type]
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
                change = _move(world, o, target, _minutes(o.start))
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


# --- which changes a conflict calls for -----------------------------------------------------------


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
        longest: timedelta = world.settings["hypertrophy-ride"].param("max")  # type: ignore[assignment]
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


def fixes_for(
    world: World, c: Conflict, judge_one: Callable[[tuple[Change, ...]], tuple[str, ...] | None]
) -> tuple[Fix, ...]:
    """The best checked change of each kind; clean ones first, at most WIDEST of them."""
    clean: list[Fix] = []
    noisy: list[Fix] = []
    for kind in candidates(world, c):
        best: Fix | None = None
        for tries, (text, changes) in enumerate(kind):
            if tries >= TRIES:
                break
            adds = judge_one(changes)
            if adds is None:
                continue
            if not adds:
                best = Fix(text, changes)
                break
            if best is None or len(adds) < len(best.adds):
                best = Fix(f"{text} (adds {_warnings(adds)})", changes, adds)
        if best is not None:
            (noisy if best.adds else clean).append(best)
            if len(clean) >= WIDEST:
                break
    if clean:
        return tuple(clean[:WIDEST])
    return tuple(sorted(noisy, key=lambda f: len(f.adds))[:1])


def _warnings(rules: Sequence[str]) -> str:
    names = " and ".join(rules)
    return f"a {names} warning" if len(rules) == 1 else f"{names} warnings"


def with_hints(conflicts: Iterable[Conflict], world: World) -> tuple[Conflict, ...]:
    """Each conflict with the hint its checked fixes make (none when nothing was found).

    A weekly plan repeats itself, and so do its conflicts: fixes are worked out once
    per neighbourhood (the days a fix may touch or be judged on, relative to the
    conflict's week) and reused, so a ten-year range costs about what a cycle does.
    """
    result = []
    known: dict[tuple, tuple[_Relative, ...]] = {}
    for c in conflicts:
        if c.rule not in HINTED:
            result.append(c)
            continue
        base = _monday(c.date)
        signature = _signature(world, c, base)
        if signature not in known:
            fixes = fixes_for(world, c, lambda changes, c=c: outcome(world, c, changes))
            known[signature] = tuple(_relative(f, base) for f in fixes)
        plan = c.keys[0].split("/", 1)[0]
        fixes = tuple(_absolute(world, f, base, plan) for f in known[signature])
        result.append(replace(c, hint=_join(fixes), fixes=fixes))
    return tuple(result)


# A fix relative to its conflict's Monday: (text, adds, changes as (key day, key name,
# day, minutes, fold, session)), so the same fix serves every week that looks the same.
_Relative = tuple[str, tuple[str, ...], tuple[tuple[int, str, int, int, int, object], ...]]


def _key_parts(key: str, base: date) -> tuple[int, str]:
    _, day, name = key.rsplit("/", 2)
    return (date.fromisoformat(day) - base).days, name


def _signature(world: World, c: Conflict, base: date) -> tuple:
    # the days its fixes may touch (its week; for two hard days, the first one's week
    # too) and a day either side, where the weekly rules judge them
    first_touched = _monday(c.date - DAY) if c.rule == "hard-then-easy" else base
    reach = range((first_touched - base).days - 1, 8 + 1)
    days = tuple(world.looks(base + offset * DAY) for offset in reach)
    first = min(max((world.first - base).days, reach.start - 1), reach.stop)
    keys = tuple(_key_parts(k, base) for k in c.keys)
    return (c.rule, (c.date - base).days, keys, first, days)


def _relative(fix: Fix, base: date) -> _Relative:
    changes = tuple(
        (
            *_key_parts(ch.key, base),
            (ch.date - base).days,
            _minutes(ch.start),
            ch.start.fold,
            ch.session,
        )
        for ch in fix.changes
    )
    return fix.text, fix.adds, changes


def _absolute(world: World, fix: _Relative, base: date, plan: str) -> Fix:
    text, adds, changes = fix
    rebuilt = []
    for key_day, name, day, minutes, fold, session in changes:
        when = base + day * DAY
        at = time(minutes // 60, minutes % 60, fold=fold)
        start = datetime.combine(when, at, tzinfo=world.zone)
        key = f"{plan}/{(base + key_day * DAY).isoformat()}/{name}"
        rebuilt.append(Change(key, when, start, session))  # type: ignore[arg-type]
    return Fix(text, tuple(rebuilt), adds)


def _join(fixes: Sequence[Fix]) -> str | None:
    """`move 'Z2' to 16:00, or move it to Tuesday 21:00`: one session is named once."""
    texts: list[str] = []
    for fix in fixes:
        text = fix.text
        if texts and len(fix.changes) == 1:
            title = f"'{fix.changes[0].session.title}'"
            if title in texts[0]:
                text = text.replace(title, "it", 1)
        texts.append(text)
    return ", or ".join(texts) or None


HINTED = frozenset(
    {
        "order",
        "gap",
        "overlap",
        "unplaced",
        "legs-then-hard",
        "hypertrophy-ride",
        "max-per-day",
        "hard-then-easy",
        "rest-days",
    }
)
