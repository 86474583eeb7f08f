"""Hints that are checked before they are offered.

A conflict's hint proposes a change to one or a few dated sessions: move one to
another time or another day of its week, make it easy or shorter, swap two
days, or clear a day for rest. calsync does not guess: it tries candidate
changes against the rule catalogue (calsync/core/rules/, the one definition of
every rule) and offers only changes that, applied, remove the conflict and
create no new conflict at level error. A change that would add a warning is
offered only when nothing cleaner exists, and then says which warning it adds.
When no change of that kind works, the conflict has no hint.

Pure: the same conflicts and days give the same hints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time

from calsync.core.hints.candidates import candidates
from calsync.core.hints.memo import Outcomes
from calsync.core.hints.world import DAY, World, key_parts, minutes_of, monday
from calsync.core.model import Change, Conflict, Fix, Session

TRIES = 60  # candidates judged per kind of change: bounds the work for one conflict
WIDEST = 2  # alternatives offered in one hint


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
    known: dict[tuple[object, ...], tuple[_Relative, ...]] = {}
    outcomes = Outcomes(world)  # and the changes they try, judged once wherever they read alike
    for c in conflicts:
        if c.rule not in HINTED:
            result.append(c)
            continue
        base = monday(c.date)
        signature = _signature(outcomes, c, base)
        if signature not in known:
            fixes = fixes_for(world, c, outcomes.judge(c))
            known[signature] = tuple(_relative(f, base) for f in fixes)
        plan = c.keys[0].split("/", 1)[0]
        fixes = tuple(_absolute(world, f, base, plan) for f in known[signature])
        result.append(replace(c, hint=_join(fixes), fixes=fixes))
    return tuple(result)


# A fix relative to its conflict's Monday: (text, adds, changes as (key day, key name,
# day, minutes, fold, session)), so the same fix serves every week that looks the same.
_Relative = tuple[str, tuple[str, ...], tuple[tuple[int, str, int, int, int, Session], ...]]


def _signature(outcomes: Outcomes, c: Conflict, base: date) -> tuple[object, ...]:
    """Everything its fixes are worked out from, relative to its Monday.

    The days its fixes may touch (its week; for two hard days, the first one's week
    too) whole, and a day either side (and one more after) as the rules across days
    alone judge them there; each day as `Outcomes` numbers it, so without its UTC
    offset when it has one all day (see calsync/core/hints/memo.py).
    """
    first_touched = monday(c.date - DAY) if c.rule == "hard-then-easy" else base
    low = (first_touched - base).days
    inner = outcomes.week(base) if low == 0 else outcomes.week(first_touched) + outcomes.week(base)
    edges = tuple(outcomes.seen(base + offset * DAY) for offset in (low - 1, 7, 8))
    first = min(max((outcomes.world.first - base).days, low - 2), 9)
    keys = tuple(key_parts(k, base) for k in c.keys)
    return (c.rule, (c.date - base).days, keys, first, inner, edges)


def _relative(fix: Fix, base: date) -> _Relative:
    changes = tuple(
        (
            *key_parts(ch.key, base),
            (ch.date - base).days,
            minutes_of(ch.start),
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
        rebuilt.append(Change(key, when, start, session))
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
