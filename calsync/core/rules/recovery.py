"""Checks across days: rest days in a week, and no two hard days in a row on the same muscles."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache

from calsync.core.model import Conflict, Load, Occurrence, RuleSetting, Session
from calsync.core.rules.common import conflict, titled
from calsync.core.rules.params import ENDURANCE, HardThenEasyParams, RestDaysParams

Days = Mapping[date, Sequence[Occurrence]]


def check_rest_days(
    days: Days, weeks: Iterable[date], setting: RuleSetting, *, worded: bool = True
) -> Iterator[Conflict]:
    """Always worded: what a week's conflict says (its rest days) is what makes it the same
    conflict before and after a change (see calsync/core/hints/world.py, `ident`)."""
    need = setting.typed(RestDaysParams).min
    for monday in weeks:
        week = [monday + timedelta(days=i) for i in range(7)]
        rest = sum(1 for d in week if not days.get(d))
        if rest < need:
            sessions = tuple(o for d in week for o in days.get(d, ()))
            yield conflict(
                setting,
                monday,
                f"the week of {monday:%a %Y-%m-%d} has {rest} rest day{'s' * (rest != 1)}: "
                f"at least {need} wanted",
                *sessions,
                hint="make one day a rest day",
            )


def sees_rest_days(sessions: Sequence[Occurrence], setting: RuleSetting) -> Hashable:
    """Nothing besides the day's session names: whether it has any is all that counts."""
    return ()


MUSCLES = ("legs", "upper", "core")  # what `full` stands for


def muscle_groups(session: Session) -> frozenset[str]:
    """The muscle groups a session loads, as `hard-then-easy` compares them.

    A ride or a run loads the legs, whatever else its focus names; `full` is
    every group; a session of another kind with no focus is taken to load
    every group, since nothing says which it spares.
    """
    named = set(session.focus)
    if "full" in named:
        named |= set(MUSCLES)
    named.discard("full")
    if session.kind in ENDURANCE:
        named.add("legs")
    return frozenset(named or MUSCLES)


def hard_clash(before: Session, after: Session, by: str) -> bool:
    """Whether `before` on one day and `after` on the next break `hard-then-easy` together.

    A day breaks the rule with the day before exactly when one such pair exists
    (what a solver needs to reason pair by pair; tested against the check).
    """
    if before.load is not Load.HARD or after.load is not Load.HARD:
        return False
    return by == "day" or bool(muscle_groups(before) & muscle_groups(after))


def hard_groups(sessions: Iterable[Occurrence], by: str) -> frozenset[str]:
    """What a day's hard sessions load: muscle groups, or just `day` when compared by day."""
    hard = [o for o in sessions if o.session.load is Load.HARD]
    if by == "day":
        return frozenset({"day"} if hard else ())
    return frozenset().union(*(muscle_groups(o.session) for o in hard))


def _cyclic_clashes(pattern: Sequence[frozenset[str]]) -> int:
    """How many neighbouring days of a repeating week load the same group hard."""
    return sum(1 for i in range(len(pattern)) if pattern[i - 1] & pattern[i])


@lru_cache(maxsize=4096)
def week_can_be_ordered(pattern: tuple[frozenset[str], ...]) -> bool:
    """Whether some order of a repeating week's days keeps apart every two hard days on
    the same muscles.

    `pattern` is what each day loads hard (its `_hard_groups`). Days move whole,
    so every rule about a single day still holds after any reordering, and the
    week's rest days stay as many. The search tries every cyclic order (the
    first day fixed: a repeating week has no first day), pruning as it goes.
    """
    loaded = [p for p in pattern if p]
    quiet = len(pattern) - len(loaded)
    if not loaded:
        return True
    first, rest = loaded[0], loaded[1:]
    items = [*rest, *([frozenset()] * quiet)]

    def extend(last: frozenset[str], left: list[frozenset[str]]) -> bool:
        if not left:
            return not (last & first)
        tried: set[frozenset[str]] = set()
        for i, day in enumerate(left):
            if day in tried or (day & last):
                continue
            tried.add(day)
            if extend(day, left[:i] + left[i + 1 :]):
                return True
        return False

    return extend(first, items)


def _why_no_order(pattern: Sequence[frozenset[str]], by: str) -> str:
    """The counting reason no order works, where one group alone explains it."""
    half = len(pattern) // 2
    for group in (*MUSCLES, "day"):
        days = sum(1 for p in pattern if group in p)
        if days > half:
            where = "hard" if by == "day" else f"hard on the {group}"
            return (
                f"{days} of its {len(pattern)} days are {where}, and at most {half} "
                "can each have an easier day after them"
            )
    return f"every order of its {len(pattern)} days was tried"


def _one_swap(pattern: Sequence[frozenset[str]], index: int) -> int | None:
    """A day to swap with day `index` that ends its clash with the day before and leaves
    the week with fewer clashes, or None."""
    now = _cyclic_clashes(pattern)
    for other in range(len(pattern)):
        if other == index or pattern[other] == pattern[index]:
            continue
        swapped = list(pattern)
        swapped[index], swapped[other] = swapped[other], swapped[index]
        if not (swapped[index - 1] & swapped[index]) and _cyclic_clashes(swapped) < now:
            return other
    return None


def sees_hard_then_easy(sessions: Sequence[Occurrence], setting: RuleSetting) -> Hashable:
    """What each session loads hard (`hard_groups` of it alone): all the check reads."""
    by = setting.typed(HardThenEasyParams).by
    return tuple(hard_groups((o,), by) for o in sessions)


def check_hard_then_easy(
    days: Days, weeks: Iterable[date], setting: RuleSetting, *, worded: bool = True
) -> Iterator[Conflict]:
    """`worded=False`: the same conflicts (rule, level, date, sessions) without a message
    or hint, for judging many candidate changes (calsync/core/hints/) where only that counts."""
    by = setting.typed(HardThenEasyParams).by
    groups = {day: hard_groups(sessions, by) for day, sessions in days.items()}
    none: frozenset[str] = frozenset()
    for day in sorted(days):
        before_day = day - timedelta(days=1)
        shared = groups.get(before_day, none) & groups[day]  # hard on both days
        if not shared:
            continue
        before, today = days.get(before_day, ()), days[day]
        involved = [
            o
            for o in (*before, *today)
            if o.session.load is Load.HARD and (by == "day" or muscle_groups(o.session) & shared)
        ]
        if not worded:
            yield conflict(setting, day, "", *involved)
            continue
        message, hint = _hard_then_easy_words(groups, day, shared, by, involved)
        yield conflict(setting, day, message, *involved, hint=hint)


def _hard_then_easy_words(
    groups: Mapping[date, frozenset[str]],
    day: date,
    shared: frozenset[str],
    by: str,
    involved: Sequence[Occurrence],
) -> tuple[str, str]:
    """The message and a hint that holds: the week is searched before a reorder is offered."""
    monday = day - timedelta(days=day.weekday())
    week = [monday + timedelta(days=i) for i in range(7)]
    pattern = tuple(groups.get(d, frozenset()) for d in week)
    titles = ", ".join(titled(o) for o in involved)
    on = "" if by == "day" else " on the " + " and ".join(g for g in MUSCLES if g in shared)
    message = f"two hard days in a row{on}: {titles}"
    today = [o for o in involved if o.date == day]
    easy = f"make {day:%A} easy" if len(today) != 1 else f"make '{today[0].session.title}' easy"
    if not week_can_be_ordered(pattern):
        message += f"; no order of the week's days avoids this ({_why_no_order(pattern, by)})"
        return message, easy  # the only change that holds: no order of the days does
    other = _one_swap(pattern, day.weekday())
    if other is not None:
        return message, f"{easy}, or swap {day:%A} and {week[other]:%A}"
    return message, f"{easy}, or reorder the week: some order of its days keeps them apart"
