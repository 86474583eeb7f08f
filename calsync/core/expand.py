"""Expansion: a plan and a date range become dated, timed, checked sessions.

`expand` is pure: the same plan, range and busy time always give the same
schedule. Wall-clock times stay wall-clock times across daylight-saving
changes. A time that does not exist on its day (02:30 when clocks spring
forward) is moved forward by the size of the gap (to 03:30); a time that
exists twice (02:30 when clocks fall back) is taken the first time it occurs.
Both are reported as `dst` warnings.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calsync.core.dates import reads_once
from calsync.core.hints import with_hints
from calsync.core.hints.world import World
from calsync.core.model import (
    Busy,
    Conflict,
    Entry,
    Level,
    Occurrence,
    Phase,
    Plan,
    RuleSetting,
    Schedule,
)
from calsync.core.rules import day_conflicts, placement_starts, plan_conflicts, span_conflicts
from calsync.core.rules.common import DayView, day_order
from calsync.core.rules.deload import CycleWeek

DAY = timedelta(days=1)
SCALE_STEP = 5  # minutes: a scaled (deload) duration is rounded to this


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def expand(plan: Plan, start: date, end: date, busy: Iterable[Busy] = ()) -> Schedule:
    """The sessions from `start` up to (not including) `end`, placed and checked.

    Rules that look across days (rest days per week, hard then easy) are checked
    with the whole weeks around the range in view, so a range that starts on a
    Wednesday is judged like any other; only conflicts dated inside the range
    (or, for weekly rules, in a week that overlaps it) are returned.
    """
    settings = {s.id: s for s in plan.rules}
    intervals = sorted(busy, key=lambda b: (b.start, b.end))
    # the week before too: a hint for two hard days from a Sunday to a Monday may move
    # the Sunday's session within its own week
    context_start = max(monday(start) - 8 * DAY, plan.starts)
    context_end = monday(end - DAY) + 7 * DAY if end > start else start
    days: dict[date, list[Occurrence]] = {}
    taken_on: dict[date, tuple[Busy, ...]] = {}
    conflicts: list[Conflict] = []
    # one day past the last week: a hint that moves a session to a Sunday is judged
    # against the Monday after it too
    for day in _dates(context_start, context_end + DAY):
        taken_on[day] = taken = _busy_on(intervals, day, plan.zone)
        entries = entries_on(plan, day)
        if entries:
            placed, notes = place_day(plan, day, entries, taken, settings)
            days[day] = placed
            conflicts += notes
            conflicts += day_conflicts(DayView(day, placed, taken), settings)
    weeks = sorted({monday(d) for d in _dates(context_start, context_end)})
    conflicts += span_conflicts(days, weeks, settings)
    conflicts += plan_conflicts(cycle_weeks(plan), plan_weeks_in(plan, start, end), settings)
    in_range = tuple(o for d in sorted(days) if start <= d < end for o in days[d])
    kept = sorted((c for c in conflicts if _relevant(c, start, end)), key=_conflict_order)
    world = World(settings, days, taken_on, plan.starts, plan.zone)
    return Schedule(plan, start, end, in_range, with_hints(kept, world))


def _dates(start: date, end: date) -> Iterable[date]:
    return (start + i * DAY for i in range((end - start).days))


def _relevant(conflict: Conflict, start: date, end: date) -> bool:
    if conflict.rule == "rest-days":  # dated on its week's Monday, about the whole week
        return start < conflict.date + 7 * DAY and conflict.date < end
    return start <= conflict.date < end


def _conflict_order(c: Conflict) -> tuple[date, datetime, str, tuple[str, ...]]:
    first = min((o.start_utc for o in c.sessions), default=datetime.min.replace(tzinfo=UTC))
    return (c.date, first, c.rule, c.keys)


def entries_on(plan: Plan, day: date) -> tuple[Entry, ...]:
    """What the plan says for a day: its exception if it has one, else its weekday."""
    if day < plan.starts:
        return ()
    for exception_day, entries in plan.exceptions:
        if exception_day == day:
            return entries
    return plan.week[day.weekday()]


def plan_week(plan: Plan, day: date) -> int:
    return (day - plan.starts).days // 7 + 1


def phase_of(plan: Plan, week: int) -> Phase | None:
    if not plan.cycle:
        return None
    position = (week - 1) % sum(p.weeks for p in plan.cycle)
    for phase in plan.cycle:
        if position < phase.weeks:
            return phase
        position -= phase.weeks
    raise AssertionError("unreachable: position is within the cycle length")


def wall_clock(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The instant of a wall-clock time, and a note when DST makes it move or repeat."""
    first = datetime.combine(day, at, tzinfo=zone)
    if reads_once(first):
        return first, None
    resolved = first.astimezone(UTC).astimezone(zone)
    if resolved.replace(tzinfo=None) != first.replace(tzinfo=None):
        return (
            resolved,
            f"{at:%H:%M} does not exist on {day} (clocks go forward): moved to {resolved:%H:%M}",
        )
    return first, f"{at:%H:%M} occurs twice on {day} (clocks go back): the first one is used"


def plan_weeks_in(plan: Plan, start: date, end: date) -> list[tuple[int, date]]:
    """The plan weeks that overlap [start, end), each with its first day inside."""
    first = max(start, plan.starts)
    weeks = []
    while first < end:
        weeks.append((plan_week(plan, first), first))
        first = monday(first) + 7 * DAY
    return weeks


def cycle_weeks(plan: Plan) -> tuple[CycleWeek, ...]:
    """One repeat of the cycle (one week if there is none): each week's sessions as scaled.

    Exceptions are one-off days, not part of the cycle, so they are left out.
    """
    phases: list[Phase | None] = [phase for phase in plan.cycle for _ in range(phase.weeks)]
    phases = phases or [None]
    return tuple(
        CycleWeek(
            phase.name if phase else None,
            tuple(_scaled(entry, phase).session for day in plan.week for entry in day),
        )
        for phase in phases
    )


def _scaled(entry: Entry, phase: Phase | None) -> Entry:
    factor = phase.factor(entry.session.kind) if phase else 1.0
    if factor == 1.0:
        return entry
    minutes = entry.session.duration.total_seconds() / 60 * factor
    rounded = max(SCALE_STEP, round(minutes / SCALE_STEP) * SCALE_STEP)
    return replace(entry, session=replace(entry.session, duration=timedelta(minutes=rounded)))


def _keys(plan: Plan, day: date, entries: Sequence[Entry]) -> list[str]:
    """Stable keys: the plan, the date and the session's name (numbered if it repeats)."""
    seen: dict[str, int] = {}
    keys = []
    for entry in entries:
        name = entry.session.name
        seen[name] = seen.get(name, 0) + 1
        suffix = "" if seen[name] == 1 else f"-{seen[name]}"
        keys.append(f"{plan.id}/{day.isoformat()}/{name}{suffix}")
    return keys


def place_day(
    plan: Plan,
    day: date,
    entries: Sequence[Entry],
    busy: Sequence[Busy],
    settings: Mapping[str, RuleSetting],
) -> tuple[list[Occurrence], list[Conflict]]:
    """Fixed-time sessions go where they are; windowed ones at their earliest good slot."""
    zone = plan.zone
    week = plan_week(plan, day)
    phase = phase_of(plan, week)
    notes: list[Conflict] = []
    placed: list[Occurrence] = []
    pending: list[tuple[str, Entry]] = []
    for key, entry in zip(_keys(plan, day, entries), entries, strict=True):
        entry = _scaled(entry, phase)
        if entry.at is None:
            pending.append((key, entry))
            continue
        start, note = wall_clock(day, entry.at, zone)
        occurrence = _occurrence(plan, key, day, start, entry, week, phase)
        placed.append(occurrence)
        if note:
            notes.append(_expansion_conflict(settings, "dst", day, note, occurrence))
    for key, entry in pending:
        occurrence, unplaced = _place_in_window(
            plan, key, day, entry, week, phase, placed, busy, settings
        )
        placed.append(occurrence)
        if unplaced:
            notes.append(unplaced)
    placed.sort(key=day_order)
    return placed, [n for n in notes if n.level is not Level.OFF]


def _occurrence(
    plan: Plan, key: str, day: date, start: datetime, entry: Entry, week: int, phase: Phase | None
) -> Occurrence:
    end = (start.astimezone(UTC) + entry.session.duration).astimezone(start.tzinfo)
    return Occurrence(
        key=key,
        plan=plan.id,
        date=day,
        start=start,
        end=end,
        session=entry.session,
        week=week,
        phase=phase.name if phase else None,
        window=entry.window.name if entry.window else None,
    )


def placement_rules(settings: Mapping[str, RuleSetting]) -> dict[str, RuleSetting]:
    """The rule settings a windowed session is placed by: the plan's, with `overlap` at
    error whatever its level, since a placed session overlaps nothing (an overlap at
    warn or off only lets fixed-time sessions collide)."""
    return {**settings, "overlap": replace(settings["overlap"], level=Level.ERROR)}


def _place_in_window(
    plan: Plan,
    key: str,
    day: date,
    entry: Entry,
    week: int,
    phase: Phase | None,
    placed: Sequence[Occurrence],
    busy: Sequence[Busy],
    settings: Mapping[str, RuleSetting],
) -> tuple[Occurrence, Conflict | None]:
    """The earliest start in the window that breaks no error-level timed rule and
    overlaps no session or busy time (`placement_rules`).

    The catalogue says which starts are worth trying (`placement_starts`): between
    them none of those rules changes its verdict on this session, so trying them in
    order finds the earliest whole-minute start that breaks none.
    """
    window = entry.window
    assert window is not None
    zone = plan.zone
    opens, _ = wall_clock(day, window.start, zone)
    closes, _ = wall_clock(day, window.end, zone)
    opens_utc = opens.astimezone(UTC)
    latest = closes.astimezone(UTC) - entry.session.duration
    holds = placement_rules(settings)
    turns = placement_starts(DayView(day, placed, busy), entry.session.duration, holds)
    candidates = sorted({opens_utc, *(t for t in turns if opens_utc <= t <= latest)})
    for candidate in candidates:
        if candidate > latest:
            break
        occurrence = _occurrence(plan, key, day, candidate.astimezone(zone), entry, week, phase)
        view = DayView(day, [*placed, occurrence], busy)
        found = day_conflicts(view, holds, timed_only=True)
        if not any(c.level is Level.ERROR and key in c.keys for c in found):
            return occurrence, None
    fallback = _occurrence(plan, key, day, opens, entry, week, phase)
    reason = (
        f"it is longer than the window ({window.start:%H:%M}-{window.end:%H:%M})"
        if latest < opens
        else "every start in it breaks a rule at level error or meets busy time"
    )
    message = (
        f"no slot for '{entry.session.title}' in window '{window.name}' "
        f"({window.start:%H:%M}-{window.end:%H:%M}): {reason}; placed at {opens:%H:%M}"
    )
    hint = f"widen the '{window.name}' window, shorten the session or move it to another day"
    return fallback, _expansion_conflict(settings, "unplaced", day, message, fallback, hint)


def _expansion_conflict(
    settings: Mapping[str, RuleSetting],
    rule: str,
    day: date,
    message: str,
    occurrence: Occurrence,
    hint: str | None = None,
) -> Conflict:
    return Conflict(rule, settings[rule].level, day, message, (occurrence,), hint=hint)


def _busy_on(intervals: Sequence[Busy], day: date, zone: ZoneInfo) -> tuple[Busy, ...]:
    """Busy intervals that overlap the local day (intervals are sorted by start)."""
    if not intervals:
        return ()
    day_start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    day_end = datetime.combine(day + DAY, time(), tzinfo=zone).astimezone(UTC)
    upto = bisect_left(intervals, day_end, key=lambda b: b.start)
    return tuple(b for b in intervals[:upto] if b.end > day_start)
