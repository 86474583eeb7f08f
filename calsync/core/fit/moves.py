"""What the weekly arrangement moved and dropped, and why; and the keys that keep
a moved session the same event.

A session's key names its usual day (`plan/2026-12-09/intervals` for the Wednesday
intervals), and it keeps that key when its week moves it: a move is then one update
of one event, never a delete and a create. Keys go, in this order, to the session
the target already holds at that very time (so a rerun changes nothing), to the
session at its usual slot, then to the moved ones in time order.

A move is said against the usual week, never against the last run, so the words
in an event depend only on the week and its busy time: a rerun writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from calsync.core.expand import _keys, wall_clock
from calsync.core.fit.problem import DAY
from calsync.core.fit.solve import catalogue_claims, judge_entries
from calsync.core.fit.weekly import ArrangedWeek, Days, Present
from calsync.core.model import Busy, Conflict, Entry, Fix, Level, Occurrence, Plan, Schedule

Slot = tuple[int, time]  # days from Monday, wall-clock start


@dataclass(frozen=True)
class Move:
    session: str
    usual: Slot
    now: Slot


def week_moves(days: Days, usual: Days) -> tuple[list[Move], dict[str, int]]:
    """Sessions away from their usual slots (paired in time order) and, per session,
    how many of the usual week's are missing."""
    moves: list[Move] = []
    dropped: dict[str, int] = {}
    names = sorted({e.session.name for d in (*days, *usual) for e in d})
    for name in names:
        final = _slots(days, name)
        wanted = _slots(usual, name)
        for slot in list(final):
            if slot in wanted:
                final.remove(slot)
                wanted.remove(slot)
        moves += [Move(name, u, n) for u, n in zip(wanted, final, strict=False)]
        if len(wanted) > len(final):
            dropped[name] = len(wanted) - len(final)
    return moves, dropped


def _slots(days: Days, name: str) -> list[Slot]:
    return sorted(
        (k, e.at) for k, d in enumerate(days) for e in d if e.session.name == name and e.at
    )


def finish(
    schedule: Schedule, weeks: Sequence[ArrangedWeek], present: Sequence[Present]
) -> Schedule:
    """The schedule with its sessions' lasting keys, and a conflict for each move, each
    dropped session and each week no arrangement fits."""
    plan = schedule.plan
    renamed = _rekey(plan, schedule, weeks, present)
    occurrences = tuple(replace(o, key=renamed.get(o.key, o.key)) for o in schedule.occurrences)
    conflicts = [_renamed(c, renamed) for c in schedule.conflicts]
    edited = {(p.session, p.start.astimezone(UTC)) for p in present if p.edited}
    for arranged in weeks:
        conflicts += _notes(schedule, arranged, occurrences, edited)
    return replace(schedule, occurrences=occurrences, conflicts=tuple(conflicts))


def _notes(
    schedule: Schedule,
    arranged: ArrangedWeek,
    occurrences: Sequence[Occurrence],
    edited: set[tuple[str, datetime]],
) -> list[Conflict]:
    plan, monday = schedule.plan, arranged.monday
    shown = max(monday, schedule.start)
    if arranged.unfit is not None:
        return [Conflict("unfit", Level.ERROR, shown, arranged.unfit)]
    if arranged.usual is None:
        return []
    library = {s.name: s for s in plan.sessions}
    moves, dropped = week_moves(arranged.days, arranged.usual)
    fixed = dict(arranged.problem.fixed)
    found: list[Conflict] = []
    base: tuple[object, ...] | None = None
    for move in moves:
        day = monday + move.now[0] * DAY
        o = _at(occurrences, move.session, day, move.now[1])
        if o is None or day in fixed or (o.session.name, o.start_utc) in edited:
            continue
        if base is None:
            base = catalogue_claims(judge_entries(arranged.problem, arranged.days))
        reason, busy = _why(schedule, arranged, move, o, occurrences, set(base))
        was = monday + move.usual[0] * DAY
        message = (
            f"{o.session.title} moved from {was:%a} {move.usual[1]:%H:%M} "
            f"to {day:%a} {move.now[1]:%H:%M}: {reason}"
        )
        found.append(Conflict("moved", Level.WARN, day, message, (o,), busy))
    for name, count in sorted(dropped.items()):
        usual = sum(1 for d in arranged.usual for e in d if e.session.name == name)
        message = f"no slot left for {count} of {usual} '{library[name].title}' this week"
        found.append(Conflict("dropped", Level.WARN, shown, message))
    return sorted(found, key=lambda c: (c.date, [o.start_utc.isoformat() for o in c.sessions]))


def _why(
    schedule: Schedule,
    arranged: ArrangedWeek,
    move: Move,
    o: Occurrence,
    occurrences: Sequence[Occurrence],
    base: set[object],
) -> tuple[str, tuple[Busy, ...]]:
    """Why the session is not at its usual slot: busy time there, another session there,
    or the rule it would break back there."""
    plan = schedule.plan
    day = arranged.monday + move.usual[0] * DAY
    start, _ = wall_clock(day, move.usual[1], plan.zone)
    end = start.astimezone(UTC) + o.session.duration
    busy = tuple(
        b for b in arranged.problem.busy if b.start < end and start.astimezone(UTC) < b.end
    )
    if busy:
        return ", ".join(_busy_text(b, plan) for b in busy[:2]), busy
    there = [
        other
        for other in occurrences
        if other.date == day and other.start_utc < end and start.astimezone(UTC) < other.end_utc
    ]
    if there:
        return f"'{there[0].session.title}' is there now", ()
    days = [list(d) for d in arranged.days]
    library = {s.name: s for s in plan.sessions}
    now = days[move.now[0]]
    now.remove(next(e for e in now if e.session.name == move.session and e.at == move.now[1]))
    days[move.usual[0]].append(Entry(library[move.session], at=move.usual[1]))
    back = catalogue_claims(judge_entries(arranged.problem, days))
    new = [c for c in back if c not in base]
    errors = sorted({c.rule for c in new if c.level == Level.ERROR.value})
    warnings = sorted({c.rule for c in new if c.level == Level.WARN.value})
    if errors:
        return f"back there it would break {', '.join(errors)}", ()
    if warnings:
        return f"back there it would add a {', '.join(warnings)} warning", ()
    return "the week keeps more sessions or fewer warnings this way", ()


def _busy_text(b: Busy, plan: Plan) -> str:
    start, end = b.start.astimezone(plan.zone), b.end.astimezone(plan.zone)
    if start.time() == time() and end.time() == time() and end > start:
        last = end.date() - DAY
        days = f"{start:%a}" if last == start.date() else f"{start:%a} to {last:%a}"
        return f"'{b.title}' all day on {days}"
    return f"'{b.title}' {start:%H:%M}-{end:%H:%M} on {start:%a}"


def _at(occurrences: Iterable[Occurrence], name: str, day: date, at: time) -> Occurrence | None:
    return next(
        (
            o
            for o in occurrences
            if o.session.name == name and o.date == day and o.start.time() == at
        ),
        None,
    )


def _rekey(
    plan: Plan,
    schedule: Schedule,
    weeks: Sequence[ArrangedWeek],
    present: Sequence[Present],
) -> dict[str, str]:
    """Each session's lasting key: old (date) key -> new key."""
    held: dict[tuple[str, datetime], list[str]] = {}
    for p in sorted(present, key=lambda p: p.key):
        held.setdefault((p.session, p.start.astimezone(UTC)), []).append(p.key)
    used: set[str] = set()
    renamed: dict[str, str] = {}
    for arranged in weeks:
        week = [
            o for o in schedule.occurrences if arranged.monday <= o.date < arranged.monday + 7 * DAY
        ]
        usual = _usual_keys(plan, arranged)
        left: list[Occurrence] = []
        for o in week:  # the target holds it at this very time
            key = next(
                (k for k in held.get((o.session.name, o.start_utc), []) if k not in used), None
            )
            if key is None:
                left.append(o)
            else:
                renamed[o.key] = key
                used.add(key)
        moved: list[Occurrence] = []
        for o in left:  # at its usual slot
            key = usual.get((o.session.name, o.date, o.start.time()))
            if key is None or key in used:
                moved.append(o)
            else:
                renamed[o.key] = key
                used.add(key)
        spare: dict[str, list[str]] = {}
        for (name, _, _), key in sorted(usual.items(), key=lambda kv: (kv[0][1], kv[0][2])):
            if key not in used:
                spare.setdefault(name, []).append(key)
        for o in moved:  # moved: the usual keys left, in time order, then new ones
            keys = spare.get(o.session.name, [])
            key = keys.pop(0) if keys else _new_key(o.key, used)
            renamed[o.key] = key
            used.add(key)
    return renamed


def _usual_keys(plan: Plan, arranged: ArrangedWeek) -> dict[tuple[str, date, time], str]:
    found: dict[tuple[str, date, time], str] = {}
    for offset, entries in enumerate(arranged.usual or ()):
        day = arranged.monday + offset * DAY
        for key, entry in zip(_keys(plan, day, entries), entries, strict=True):
            if entry.at is not None:
                found[(entry.session.name, day, entry.at)] = key
    return found


def _new_key(key: str, used: set[str]) -> str:
    candidate, number = key, 1
    while candidate in used:
        number += 1
        candidate = f"{key}-{number}"
    return candidate


def _renamed(c: Conflict, renamed: Mapping[str, str]) -> Conflict:
    if not any(o.key in renamed for o in c.sessions):
        return c
    sessions = tuple(replace(o, key=renamed.get(o.key, o.key)) for o in c.sessions)
    fixes = tuple(
        Fix(
            f.text,
            tuple(replace(ch, key=renamed.get(ch.key, ch.key)) for ch in f.changes),
            f.adds,
        )
        for f in c.fixes
    )
    return replace(c, sessions=sessions, fixes=fixes)


def arranged_schedule(
    plan: Plan,
    start: date,
    end: date,
    busy: Sequence[Busy],
    present: Sequence[Present] | None,
    not_before: datetime,
) -> Schedule:
    """The range with every week arranged around its busy time (`fit: every-week`), as
    `expand` would give it for a plan whose days are those weeks: the same engine, the
    same rule catalogue, and the moves and drops reported as conflicts."""
    from calsync.core.expand import expand
    from calsync.core.fit.weekly import arrange_weeks

    weeks = arrange_weeks(plan, start, end, busy, present, not_before)
    days = dict(plan.exceptions)
    for arranged in weeks:
        days.update(arranged.problem.fixed)
        days.update((arranged.monday + k * DAY, d) for k, d in enumerate(arranged.days))
    fitted = replace(plan, exceptions=tuple(sorted(days.items())))
    schedule = replace(expand(fitted, start, end, busy), plan=plan)
    return finish(schedule, weeks, present or ())
