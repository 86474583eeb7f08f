"""The rule catalogue: what a week of combined strength and endurance training must respect.

Each rule has an id, a default level (which may depend on the plan's goal), typed
parameters and a check. Checks are pure functions from sessions to conflicts.
The reasoning behind every default is in the README ("The rules") and in the
training research the project follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import combinations
from typing import Literal

from calsync.core.load import session_load
from calsync.core.model import (
    Busy,
    Conflict,
    Goal,
    Kind,
    Level,
    Load,
    Occurrence,
    RuleSetting,
    Session,
)
from calsync.core.units import format_duration, parse_duration

ENDURANCE = (Kind.RIDE, Kind.RUN)


def _kinds(value: object) -> tuple[Kind, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("expected at least one kind")
    try:
        return tuple(Kind(str(item)) for item in items)
    except ValueError:
        raise ValueError(
            f"expected a kind or a list of kinds ({', '.join(k.value for k in Kind)})"
        ) from None


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _duration(value: object) -> timedelta:
    return parse_duration(str(value))


@dataclass(frozen=True)
class Param:
    name: str
    parse: Callable[[object], object]
    default: object


def day_order(o: Occurrence) -> tuple[datetime, str]:
    """The one order of a day's sessions: by start, sessions that start together by key.

    `gap` compares neighbours in this order, so whatever judges a day (placement
    trying a start, the final check, a test) must see the sessions in it.
    """
    return (o.start_utc, o.key)


@dataclass(frozen=True)
class DayView:
    """What a day-scoped check sees: one day's sessions (in `day_order`) and busy time."""

    date: date
    sessions: Sequence[Occurrence]
    busy: Sequence[Busy]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(sorted(self.sessions, key=day_order)))


Check = Callable[..., Iterator[Conflict]]
# The starts at which a timed rule's verdict on one more session of a given length can
# change, given the day's other sessions and busy time: between two neighbouring
# instants the verdict is the same (tested against the checks in tests/test_placement.py).
Turns = Callable[[DayView, timedelta, RuleSetting, Mapping[str, RuleSetting]], Iterable[datetime]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    params: tuple[Param, ...]
    levels: Mapping[Goal, Level]
    scope: Literal["day", "days", "plan", "expansion"]
    # Whether a session's start time can change the outcome: placement only tries
    # to satisfy these, as no slot can fix the others.
    timed: bool = False
    check: Check | None = None
    turns: Turns | None = None  # set for every timed rule

    def default_setting(self, goal: Goal) -> RuleSetting:
        return RuleSetting(
            self.id, self.levels[goal], tuple((p.name, p.default) for p in self.params)
        )


def _all(level: Level) -> Mapping[Goal, Level]:
    return dict.fromkeys(Goal, level)


def _span(o: Occurrence) -> str:
    return f"'{o.session.title}' ({o.start:%H:%M}-{o.end:%H:%M})"


def _conflict(
    setting: RuleSetting, day: date, message: str, *sessions: Occurrence, **kw
) -> Conflict:
    return Conflict(setting.id, setting.level, day, message, tuple(sessions), **kw)


def _gap_min(settings: Mapping[str, RuleSetting]) -> timedelta:
    gap = settings.get("gap")
    if gap is None or gap.level is Level.OFF:
        return timedelta(0)
    return gap.param("min")  # type: ignore[return-value]


# --- day-scoped checks -------------------------------------------------------------


def check_order(view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]):
    first, then = setting.param("first"), setting.param("then")
    gap = _gap_min(settings)
    for a in view.sessions:
        if a.session.kind not in first:  # type: ignore[operator]
            continue
        for b in view.sessions:
            if b.session.kind in then and b.start_utc < a.end_utc:  # type: ignore[operator]
                yield _conflict(
                    setting,
                    view.date,
                    f"{_span(b)} starts before {_span(a)} ends: "
                    f"{a.session.kind} goes first on a day with both",
                    a,
                    b,
                    hint=f"move '{b.session.title}' to {(a.end + gap):%H:%M} or later",
                )


def turns_order(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Mapping[str, RuleSetting]
) -> Iterator[datetime]:
    first, then = setting.param("first"), setting.param("then")
    for o in view.sessions:
        if o.session.kind in first:  # type: ignore[operator]
            yield o.end_utc  # a `then` session may start from its end
        if o.session.kind in then:  # type: ignore[operator]
            yield o.start_utc - length  # a `first` session must end by its start


def check_gap(view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]):
    need: timedelta = setting.param("min")  # type: ignore[assignment]
    for a, b in zip(view.sessions, view.sessions[1:], strict=False):
        rest = b.start_utc - a.end_utc
        if timedelta(0) <= rest < need:
            yield _conflict(
                setting,
                view.date,
                f"only {format_duration(rest) if rest else '0m'} between {_span(a)} and "
                f"{_span(b)}: at least {format_duration(need)} wanted",
                a,
                b,
                hint=f"move '{b.session.title}' to {(a.end + need):%H:%M} or later",
            )


def turns_gap(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Mapping[str, RuleSetting]
) -> Iterator[datetime]:
    need: timedelta = setting.param("min")  # type: ignore[assignment]
    for o in view.sessions:
        yield o.start_utc  # passing a start changes the session's neighbours
        yield o.end_utc  # starting before o ends, the rest after o is negative: no gap
        yield o.end_utc + need
        yield o.start_utc - length  # ending after o starts, the rest before o is negative
        yield o.start_utc - length - need


def check_overlap(view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]):
    for a, b in combinations(view.sessions, 2):
        if a.start_utc < b.end_utc and b.start_utc < a.end_utc:
            yield _conflict(
                setting,
                view.date,
                f"{_span(a)} and {_span(b)} overlap",
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
                yield _conflict(
                    setting,
                    view.date,
                    f"{_span(o)} overlaps '{busy.title}' ({_busy_span(start, end, view.date)})",
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
    view: DayView, length: timedelta, setting: RuleSetting, settings: Mapping[str, RuleSetting]
) -> Iterator[datetime]:
    for start, end in (
        *((o.start_utc, o.end_utc) for o in view.sessions),
        *((b.start, b.end) for b in view.busy),
    ):
        yield start - length
        yield end


def check_max_per_day(view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]):
    count: int = setting.param("count")  # type: ignore[assignment]
    if len(view.sessions) > count:
        yield _conflict(
            setting,
            view.date,
            f"{len(view.sessions)} sessions on one day: at most {count} wanted",
            *view.sessions,
            hint="move one session to another day",
        )


def _leg_sessions(view: DayView, hard_only: bool) -> Iterator[Occurrence]:
    for o in view.sessions:
        s = o.session
        trains_legs = "legs" in s.focus or "full" in s.focus
        if s.kind is Kind.STRENGTH and trains_legs and (s.load is Load.HARD or not hard_only):
            yield o


def check_legs_then_hard(view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]):
    kinds = setting.param("kinds")
    for legs in _leg_sessions(view, hard_only=True):
        for o in view.sessions:
            if (
                o.session.kind in kinds
                and o.session.load is Load.HARD
                and o.start_utc >= legs.start_utc
            ):  # type: ignore[operator]
                yield _conflict(
                    setting,
                    view.date,
                    f"hard {o.session.kind} {_span(o)} after the leg session {_span(legs)}",
                    legs,
                    o,
                    hint=f"move '{o.session.title}' to another day, or make it easy",
                )


def turns_legs_then_hard(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Mapping[str, RuleSetting]
) -> Iterator[datetime]:
    for o in view.sessions:
        yield o.start_utc  # a hard ride before or after the leg session


def check_hypertrophy_ride(
    view: DayView, setting: RuleSetting, settings: Mapping[str, RuleSetting]
):
    kinds, longest = setting.param("kinds"), setting.param("max")
    legs = next(_leg_sessions(view, hard_only=False), None)
    if legs is None:
        return
    for o in view.sessions:
        s = o.session
        too_long = s.duration > longest  # type: ignore[operator]
        if s.kind in kinds and (s.load is not Load.EASY or too_long):  # type: ignore[operator]
            length = format_duration(s.duration)
            what = f"is {s.load}, {length}," if s.load is not Load.EASY else f"lasts {length}"
            yield _conflict(
                setting,
                view.date,
                f"{_span(o)} {what} on a leg day: for muscle growth, at most an easy "
                f"{format_duration(longest)} {s.kind}",  # type: ignore[arg-type]
                legs,
                o,
                hint=f"shorten '{s.title}' to an easy {format_duration(longest)}, "  # type: ignore[arg-type]
                "or move it to the next day",
            )


# --- checks over several days ------------------------------------------------------


def check_rest_days(
    days: Mapping[date, Sequence[Occurrence]], weeks: Iterable[date], setting: RuleSetting
):
    need: int = setting.param("min")  # type: ignore[assignment]
    for monday in weeks:
        week = [monday + timedelta(days=i) for i in range(7)]
        rest = sum(1 for d in week if not days.get(d))
        if rest < need:
            sessions = tuple(o for d in week for o in days.get(d, ()))
            yield _conflict(
                setting,
                monday,
                f"the week of {monday:%a %Y-%m-%d} has {rest} rest day{'s' * (rest != 1)}: "
                f"at least {need} wanted",
                *sessions,
                hint="make one day a rest day",
            )


# --- hard-then-easy: which muscles a session loads --------------------------------------

MUSCLES = ("legs", "upper", "core")  # what `full` stands for
COMPARE = ("muscles", "day")


def _compare(value: object) -> str:
    if value not in COMPARE:
        raise ValueError(f"expected one of: {', '.join(COMPARE)}")
    return str(value)


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


def _hard_groups(sessions: Iterable[Occurrence], by: str) -> frozenset[str]:
    """What a day's hard sessions load: muscle groups, or just `day` when compared by day."""
    hard = [o for o in sessions if o.session.load is Load.HARD]
    if by == "day":
        return frozenset({"day"} if hard else ())
    return frozenset().union(*(muscle_groups(o.session) for o in hard))


def _clashing(before: Sequence[Occurrence], today: Sequence[Occurrence], by: str) -> frozenset[str]:
    """The groups loaded hard on both days (with `by: day`, {'day'} when both days are hard)."""
    return _hard_groups(before, by) & _hard_groups(today, by)


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


def check_hard_then_easy(
    days: Mapping[date, Sequence[Occurrence]], weeks: Iterable[date], setting: RuleSetting
) -> Iterator[Conflict]:
    by: str = setting.param("by")  # type: ignore[assignment]
    for day in sorted(days):
        before_day = day - timedelta(days=1)
        before, today = days.get(before_day, ()), days[day]
        shared = _clashing(before, today, by)
        if not shared:
            continue
        involved = [
            o
            for o in (*before, *today)
            if o.session.load is Load.HARD and (by == "day" or muscle_groups(o.session) & shared)
        ]
        message, hint = _hard_then_easy_words(days, day, shared, by, involved)
        yield _conflict(setting, day, message, *involved, hint=hint)


def _hard_then_easy_words(
    days: Mapping[date, Sequence[Occurrence]],
    day: date,
    shared: frozenset[str],
    by: str,
    involved: Sequence[Occurrence],
) -> tuple[str, str]:
    """The message and a hint that holds: the week is searched before a reorder is offered."""
    monday = day - timedelta(days=day.weekday())
    week = [monday + timedelta(days=i) for i in range(7)]
    pattern = tuple(_hard_groups(days.get(d, ()), by) for d in week)
    titles = ", ".join(_titled(o) for o in involved)
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


# --- deload: a lighter week often enough --------------------------------------------------


def _weeks(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 52:
        raise ValueError("expected a number of weeks from 1 to 52")
    return value


def _percent(value: object) -> float:
    text = str(value).strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        number = -1
    if not 0 < number < 100:
        raise ValueError(f"'{value}' is not a percentage (expected e.g. 20% or 20, from 1 to 99)")
    return number / 100


@dataclass(frozen=True)
class CycleWeek:
    """One week of the plan's repeating cycle: its phase and its sessions, durations scaled."""

    phase: str | None
    sessions: tuple[Session, ...]

    @property
    def load(self) -> float:
        return sum(session_load(s) for s in self.sessions)


def lighter_weeks(cycle: Sequence[CycleWeek], cut: float) -> list[bool]:
    """For each week of the cycle: is its planned load at least `cut` below the heaviest?"""
    loads = [w.load for w in cycle]
    heaviest = max(loads, default=0)
    return [heaviest > 0 and load <= heaviest * (1 - cut) for load in loads]


def heavy_run(light: Sequence[bool], week: int) -> int:
    """How many weeks in a row, up to plan week `week` (1-based), had no lighter week.

    The cycle repeats from the plan's start; weeks before the start do not count.
    """
    run = 0
    for w in range(1, week + 1):
        run = 0 if light[(w - 1) % len(light)] else run + 1
    return run


def check_deload(
    cycle: Sequence[CycleWeek], weeks: Sequence[tuple[int, date]], setting: RuleSetting
) -> Iterator[Conflict]:
    """Said once: the first week in range that comes after more than `max` weeks in a row
    with no lighter week.

    A week is lighter when its planned session load is at least `cut` below
    the heaviest week of the cycle. `weeks` are the plan weeks in range, each
    with its first day in range.
    """
    longest: int = setting.param("max")  # type: ignore[assignment]
    cut: float = setting.param("cut")  # type: ignore[assignment]
    light = lighter_weeks(cycle, cut)
    if not cycle or not any(w.load for w in cycle):
        return
    for week, first in weeks:
        run = heavy_run(light, week)
        if run <= longest:
            continue
        if len(cycle) == 1:
            why = "the plan has no cycle, so no week is lighter"
        elif not any(light):
            why = f"no week of its {len(cycle)}-week cycle is {cut:.0%} lighter than the heaviest"
        else:
            phases = ", ".join(dict.fromkeys(w.phase or "-" for w in cycle))
            why = f"its cycle ({phases}) has {max_heavy_run(light)} heavy weeks in a row"
        if any(light):
            hint = f"shorten the heavy phases to at most {longest} weeks in a row"
        else:
            kinds = dict.fromkeys(s.kind.value for w in cycle for s in w.sessions)
            scale = ", ".join(f"{kind}: 0.6" for kind in kinds)
            hint = (
                "add a lighter week to the cycle, e.g. "
                f"{{name: deload, weeks: 1, scale: {{{scale}}}}} (40% shorter sessions)"
            )
        yield _conflict(
            setting,
            first,
            f"week {week} is the {_ordinal(run)} week in a row without a lighter week: {why}; "
            f"athletes deload every 5.6 ± 2.3 weeks, at most {longest} heavy weeks wanted",
            hint=hint,
        )
        return


def max_heavy_run(light: Sequence[bool]) -> int:
    """The longest run of weeks with no lighter week in the repeating cycle."""
    if not any(light):
        return len(light)
    run = best = 0
    for is_light in [*light, *light]:  # twice round: a run may wrap past the cycle's end
        run = 0 if is_light else run + 1
        best = max(best, run)
    return best


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _titled(o: Occurrence) -> str:
    return f"'{o.session.title}' ({o.start:%a %H:%M})"


CATALOGUE: tuple[Rule, ...] = (
    Rule(
        "order",
        "on a day with both, every `first` session ends before any `then` session starts",
        (Param("first", _kinds, (Kind.STRENGTH,)), Param("then", _kinds, ENDURANCE)),
        _all(Level.ERROR),
        "day",
        timed=True,
        check=check_order,
        turns=turns_order,
    ),
    Rule(
        "gap",
        "from the end of one session to the start of the next on the same day: at least `min`",
        (Param("min", _duration, timedelta(hours=4)),),
        _all(Level.ERROR),
        "day",
        timed=True,
        check=check_gap,
        turns=turns_gap,
    ),
    Rule(
        "overlap",
        "no two sessions overlap; no session overlaps busy time",
        (),
        _all(Level.ERROR),
        "day",
        timed=True,
        check=check_overlap,
        turns=turns_overlap,
    ),
    Rule(
        "max-per-day",
        "at most `count` sessions a day",
        (Param("count", _count, 2),),
        _all(Level.ERROR),
        "day",
        check=check_max_per_day,
    ),
    Rule(
        "rest-days",
        "at least `min` days a week with no session",
        (Param("min", _count, 1),),
        _all(Level.WARN),
        "days",
        check=check_rest_days,
    ),
    Rule(
        "hard-then-easy",
        "a day with a hard session is not followed by a day with a hard session "
        "on the same muscles (`by: day`: on any muscles)",
        (Param("by", _compare, "muscles"),),
        _all(Level.WARN),
        "days",
        check=check_hard_then_easy,
    ),
    Rule(
        "legs-then-hard",
        "no hard ride/run later on a day with a hard strength session with focus legs (or full)",
        (Param("kinds", _kinds, ENDURANCE),),
        {**_all(Level.WARN), Goal.HYPERTROPHY: Level.ERROR},
        "day",
        timed=True,
        check=check_legs_then_hard,
        turns=turns_legs_then_hard,
    ),
    Rule(
        "hypertrophy-ride",
        "on a leg day, a ride/run is easy and at most `max` long",
        (Param("kinds", _kinds, ENDURANCE), Param("max", _duration, timedelta(minutes=20))),
        {**_all(Level.OFF), Goal.HYPERTROPHY: Level.WARN},
        "day",
        check=check_hypertrophy_ride,
    ),
    Rule(
        "deload",
        "at most `max` weeks in a row without a week at least `cut` lighter than the heaviest",
        (Param("max", _weeks, 8), Param("cut", _percent, 0.2)),
        _all(Level.WARN),
        "plan",
        check=check_deload,
    ),
    Rule(
        "unplaced",
        "a session given a window found a slot in it",
        (),
        _all(Level.ERROR),
        "expansion",
    ),
    Rule(
        "dst",
        "a wall-clock time exists exactly once on its day (daylight-saving changes)",
        (),
        _all(Level.WARN),
        "expansion",
    ),
)

RULES: Mapping[str, Rule] = {rule.id: rule for rule in CATALOGUE}


def day_conflicts(
    view: DayView, settings: Mapping[str, RuleSetting], timed_only: bool = False
) -> Iterator[Conflict]:
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if rule.scope != "day" or setting.level is Level.OFF or (timed_only and not rule.timed):
            continue
        yield from rule.check(view, setting, settings)  # type: ignore[misc]


def placement_starts(
    view: DayView, length: timedelta, settings: Mapping[str, RuleSetting]
) -> set[datetime]:
    """The starts worth trying for one more session of `length` on the day of `view`.

    The verdicts of the error-level timed rules on it are the same between two
    neighbouring turns, so the earliest whole-minute start that breaks none of them
    is a turn or the first whole minute after one (or where the search begins).
    """
    starts: set[datetime] = set()
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if rule.turns is None or setting.level is not Level.ERROR:
            continue
        for turn in rule.turns(view, length, setting, settings):
            starts.add(turn)
            starts.add(turn.replace(second=0, microsecond=0) + timedelta(minutes=1))
    return starts


def span_conflicts(
    days: Mapping[date, Sequence[Occurrence]],
    weeks: Iterable[date],
    settings: Mapping[str, RuleSetting],
) -> Iterator[Conflict]:
    weeks = tuple(weeks)
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if rule.scope == "days" and setting.level is not Level.OFF:
            yield from rule.check(days, weeks, setting)  # type: ignore[misc]


def plan_conflicts(
    cycle: Sequence[CycleWeek],
    weeks: Sequence[tuple[int, date]],
    settings: Mapping[str, RuleSetting],
) -> Iterator[Conflict]:
    """Rules about the plan's cycle, checked over the plan weeks in range."""
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if rule.scope == "plan" and setting.level is not Level.OFF:
            yield from rule.check(cycle, weeks, setting)  # type: ignore[misc]
