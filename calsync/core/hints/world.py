"""What a hint is judged against, and the judging: a change is offered only when the rule
catalogue, applied to the changed days, no longer reports the conflict and reports no
new error."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from calsync.core.model import Busy, Change, Conflict, Level, Occurrence, RuleSetting, Session
from calsync.core.rules import day_conflicts, span_conflicts, span_sees
from calsync.core.rules.common import DayView
from calsync.core.rules.params import GapParams

DAY = timedelta(days=1)
USUAL_HOURS = (6 * 60, 22 * 60)  # a hint stays inside these hours, or the plan's own if wider
Days = Mapping[date, Sequence[Occurrence]]
Ident = tuple[str, date, object]  # what makes two conflicts the same one (`ident`)
# What the rules can see of a day, whatever its date (`World.looks`).
Offset = timedelta | None
Looks = tuple[
    tuple[tuple[str, time, Offset, Session], ...],  # sessions: name, wall clock, offset, session
    tuple[tuple[timedelta, timedelta], ...],  # busy time from midnight
    Offset,  # at midnight
    Offset,  # at the next midnight
]


def monday(day: date) -> date:
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
        return timedelta(0) if gap.level is Level.OFF else gap.typed(GapParams).min

    @cached_property
    def where(self) -> dict[str, date]:
        return {o.key: o.date for day in self.days.values() for o in day}

    def looks(self, day: date) -> Looks:
        """What the rules can see of a day, whatever its date: sessions, busy time, offsets."""
        if day not in self._looks:
            midnight = datetime.combine(day, time(), tzinfo=self.zone)
            after = datetime.combine(day + DAY, time(), tzinfo=self.zone)
            sessions = tuple(
                (o.key.rsplit("/", 1)[1], o.start.time(), o.start.utcoffset(), o.session)
                for o in self.days.get(day, ())
            )
            busy = tuple((b.start - midnight, b.end - midnight) for b in self.busy.get(day, ()))
            self._looks[day] = (sessions, busy, midnight.utcoffset(), after.utcoffset())
        return self._looks[day]

    def seen(self, day: date) -> tuple[tuple[str, ...], tuple[Hashable, ...]]:
        """What the rules across days read of a day no change touches: its session names
        and their `sees` (a day beside the days a change may touch is read by them alone)."""
        if day not in self._seen:
            sessions = self.days.get(day, ())
            names = tuple(o.key.rsplit("/", 1)[1] for o in sessions)
            self._seen[day] = (names, span_sees(sessions, self.settings))
        return self._seen[day]

    @cached_property
    def _seen(self) -> dict[date, tuple[tuple[str, ...], tuple[Hashable, ...]]]:
        return {}

    def before(self, touched: frozenset[date]) -> frozenset[Ident]:
        """The conflicts as they are, on the days a change touches (remembered)."""
        if touched not in self._before:
            weeks = frozenset(monday(d) for d in touched)
            if weeks not in self._weeks:
                found = judge_weeks(self, self.days, weeks)
                self._weeks[weeks] = frozenset(ident(c) for c in found)
            self._before[touched] = self.before_days(touched) | self._weeks[weeks]
        return self._before[touched]

    def before_days(self, touched: frozenset[date]) -> frozenset[Ident]:
        """What the day rules find as it is on the days a change touches (remembered)."""
        if touched not in self._before_days:
            found = judge_days(self, self.days, touched)
            self._before_days[touched] = frozenset(ident(c) for c in found)
        return self._before_days[touched]

    def day(self, day: date, sessions: Sequence[Occurrence]) -> tuple[Conflict, ...]:
        """What the day rules find on `day` with these sessions (remembered: a change
        that moves a session away leaves its day the same whatever it does with it)."""
        # by identity: the sessions are kept with the verdict, so no other object takes an id
        key = (day, tuple(map(id, sessions)))
        if key not in self._days:
            view = DayView(day, sessions, self.busy.get(day, ()))
            self._days[key] = (tuple(sessions), tuple(day_conflicts(view, self.settings)))
        return self._days[key][1]

    @cached_property
    def _before(self) -> dict[frozenset[date], frozenset[Ident]]:
        return {}

    @cached_property
    def _before_days(self) -> dict[frozenset[date], frozenset[Ident]]:
        return {}

    @cached_property
    def _weeks(self) -> dict[frozenset[date], frozenset[Ident]]:
        return {}

    @cached_property
    def _days(
        self,
    ) -> dict[tuple[date, tuple[int, ...]], tuple[tuple[Occurrence, ...], tuple[Conflict, ...]]]:
        return {}

    @cached_property
    def _looks(self) -> dict[date, Looks]:
        return {}

    @cached_property
    def instants(self) -> dict[tuple[date, int], datetime | None]:
        """Wall-clock minutes of a day as instants, as candidates.py works them out."""
        return {}

    @cached_property
    def hours(self) -> tuple[int, int]:
        """Minutes of the day a hint may use: the usual hours, or the plan's own if wider."""
        starts = [minutes_of(o.start) for day in self.days.values() for o in day]
        ends = [minutes_of(o.start) + length_of(o) for day in self.days.values() for o in day]
        return min([USUAL_HOURS[0], *starts]), min(24 * 60, max([USUAL_HOURS[1], *ends]))


def minutes_of(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def length_of(o: Occurrence) -> int:
    return int(o.session.duration.total_seconds() // 60)


def key_parts(key: str, base: date) -> tuple[int, str]:
    """A session key relative to a Monday: (days from it, the session's name)."""
    _, day, name = key.rsplit("/", 2)
    return (date.fromisoformat(day) - base).days, name


def ident(c: Conflict) -> Ident:
    """What makes two conflicts the same one, before and after a change.

    A week's rest-day count is about the week, not about which sessions fill it.
    """
    return (c.rule, c.date, c.message if c.rule == "rest-days" else frozenset(c.keys))


def apply(days: Days, changes: Iterable[Change]) -> dict[date, list[Occurrence]]:
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


def judge(world: World, days: Days, touched: Set[date]) -> list[Conflict]:
    """Every conflict the catalogue finds that a change on `touched` days could alter
    (the rules across days unworded: judging needs only `ident` and the level)."""
    return judge_days(world, days, touched) + judge_weeks(world, days, touched)


def judge_days(world: World, days: Days, touched: Set[date]) -> list[Conflict]:
    found: list[Conflict] = []
    for day in sorted(touched):
        found += world.day(day, days.get(day, ()))
    return found


def judge_weeks(world: World, days: Days, touched: Set[date]) -> list[Conflict]:
    weeks = sorted({monday(d) for d in touched})
    region = {
        w + i * DAY: days[w + i * DAY] for w in weeks for i in range(-1, 8) if w + i * DAY in days
    }
    return list(span_conflicts(region, weeks, world.settings, worded=False))


def outcome(
    world: World, conflict: Conflict, changes: tuple[Change, ...]
) -> tuple[str, ...] | None:
    """None if the change leaves the conflict or adds an error; else the rules it adds warnings of."""
    judged = on_the_days(world, changes)
    return None if judged is None else across_days(world, conflict, changes, judged)


# the days a change touches; the days changed; what the day rules find on them now
Judged = tuple[frozenset[date], dict[date, list[Occurrence]], list[Conflict]]


def on_the_days(world: World, changes: tuple[Change, ...]) -> Judged | None:
    """The day rules on the days a change touches; None when they find a new error there.

    Whatever the conflict: the day rules say no on the days alone (and spare the rules
    across days), and only what they found there before counts (`World.before_days`):
    the rules across days have other rule ids.
    """
    touched = frozenset({c.date for c in changes} | {world.where[c.key] for c in changes})
    before = world.before_days(touched)
    changed = apply({d: world.days.get(d, ()) for d in touched}, changes)
    after: list[Conflict] = []
    for day in sorted(touched):
        for c in world.day(day, changed[day]):
            if c.level is Level.ERROR and ident(c) not in before:
                return None
            after.append(c)
    return touched, changed, after


def across_days(
    world: World, conflict: Conflict, changes: tuple[Change, ...], judged: Judged
) -> tuple[str, ...] | None:
    """`outcome` once the day rules have said yes: the rules across days, and the conflict."""
    touched, changed, after = judged
    before = world.before(touched)
    nearby = {d: world.days[d] for d in around(touched) if d in world.days}
    after = after + judge_weeks(world, {**nearby, **changed}, touched)
    if not removed(conflict, after, {c.key for c in changes}):
        return None
    new = [c for c in after if ident(c) not in before]
    if any(c.level is Level.ERROR for c in new):
        return None
    return tuple(sorted({c.rule for c in new}))


def around(touched: Set[date]) -> set[date]:
    """The days the rules across days read when `touched` change: their weeks, a day either side."""
    return {week + step for week in {monday(d) for d in touched} for step in _AROUND}


_AROUND = tuple(i * DAY for i in range(-1, 8))


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
