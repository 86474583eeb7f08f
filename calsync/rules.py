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
from itertools import combinations
from typing import Literal

from .model import Busy, Conflict, Goal, Kind, Level, Load, Occurrence, RuleSetting
from .units import format_duration, parse_duration

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


@dataclass(frozen=True)
class DayView:
    """What a day-scoped check sees: one day's sessions (sorted by start) and busy time."""

    date: date
    sessions: Sequence[Occurrence]
    busy: Sequence[Busy]


Check = Callable[..., Iterator[Conflict]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    params: tuple[Param, ...]
    levels: Mapping[Goal, Level]
    scope: Literal["day", "days", "expansion"]
    # Whether a session's start time can change the outcome: placement only tries
    # to satisfy these, as no slot can fix the others.
    timed: bool = False
    check: Check | None = None

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
        if s.kind is Kind.STRENGTH and s.focus == "legs" and (s.load is Load.HARD or not hard_only):
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


def check_hard_then_easy(
    days: Mapping[date, Sequence[Occurrence]], weeks: Iterable[date], setting: RuleSetting
):
    def hard(d: date) -> list[Occurrence]:
        return [o for o in days.get(d, ()) if o.session.load is Load.HARD]

    for day in sorted(days):
        before, today = hard(day - timedelta(days=1)), hard(day)
        if before and today:
            yield _conflict(
                setting,
                day,
                f"two hard days in a row: {', '.join(_titled(o) for o in before + today)}",
                *before,
                *today,
                hint=f"make {day:%A} easy, or swap it with an easy day",
            )


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
    ),
    Rule(
        "gap",
        "from the end of one session to the start of the next on the same day: at least `min`",
        (Param("min", _duration, timedelta(hours=4)),),
        _all(Level.ERROR),
        "day",
        timed=True,
        check=check_gap,
    ),
    Rule(
        "overlap",
        "no two sessions overlap; no session overlaps busy time",
        (),
        _all(Level.ERROR),
        "day",
        timed=True,
        check=check_overlap,
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
        "a day with a hard session is not followed by a day with a hard session",
        (),
        _all(Level.WARN),
        "days",
        check=check_hard_then_easy,
    ),
    Rule(
        "legs-then-hard",
        "no hard ride/run later on a day with a hard strength session with focus legs",
        (Param("kinds", _kinds, ENDURANCE),),
        {**_all(Level.WARN), Goal.HYPERTROPHY: Level.ERROR},
        "day",
        timed=True,
        check=check_legs_then_hard,
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
