"""The domain in its own words: plans, sessions, occurrences and conflicts.

Everything here is a frozen dataclass over plain values, so the core (loading,
expansion, placement, rules) stays pure and every result can be compared,
hashed and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from calsync.core.fitspec import FitSpec


class Kind(StrEnum):
    STRENGTH = "strength"
    RIDE = "ride"
    RUN = "run"
    SWIM = "swim"
    MOBILITY = "mobility"
    OTHER = "other"


class Load(StrEnum):
    EASY = "easy"
    MODERATE = "moderate"
    HARD = "hard"


class Level(StrEnum):
    ERROR = "error"
    WARN = "warn"
    OFF = "off"

    @property
    def rank(self) -> int:
        return {"off": 0, "warn": 1, "error": 2}[self.value]


class Goal(StrEnum):
    HYPERTROPHY = "hypertrophy"
    ENDURANCE = "endurance"
    BALANCED = "balanced"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Focus(StrEnum):
    """The muscle groups a session's `focus` may name; `full` stands for all the others."""

    LEGS = "legs"
    UPPER = "upper"
    CORE = "core"
    FULL = "full"


FOCUS_GROUPS = tuple(f.value for f in Focus)


@dataclass(frozen=True)
class Window:
    """A named span of wall-clock time in which a session may be placed."""

    name: str
    start: time
    end: time


@dataclass(frozen=True)
class Session:
    """One entry of the session library (or a day's override of one)."""

    name: str
    kind: Kind
    title: str
    duration: timedelta
    load: Load
    focus: tuple[str, ...] = ()  # muscle groups, from FOCUS_GROUPS
    notes: str | None = None
    location: str | None = None
    reminder: int | None = None  # minutes before the start; None: no alarm
    rpe: float | None = None  # session RPE (CR-10) when the plan gives one; else from `load`

    def __post_init__(self) -> None:
        if isinstance(self.focus, str):  # `focus="legs"` from older callers: one group
            object.__setattr__(self, "focus", (self.focus,))
        elif self.focus is None:
            object.__setattr__(self, "focus", ())

    @property
    def focus_text(self) -> str | None:
        """The focus as a plan writes it (`legs`, `legs, core`), or None."""
        return ", ".join(self.focus) or None


@dataclass(frozen=True)
class Entry:
    """A session on a day: at a fixed wall-clock time, or somewhere in a window."""

    session: Session
    at: time | None = None
    window: Window | None = None


@dataclass(frozen=True)
class Phase:
    """A block of the training cycle, e.g. 3 build weeks then 1 deload week."""

    name: str
    weeks: int
    scale: tuple[tuple[Kind, float], ...] = ()

    def factor(self, kind: Kind) -> float:
        return dict(self.scale).get(kind, 1.0)


@dataclass(frozen=True)
class RuleParams:
    """The parameters of a rule; each rule with parameters has its own subclass
    (calsync/core/rules/params.py). A rule without parameters has this one."""


P = TypeVar("P", bound=RuleParams)


@dataclass(frozen=True)
class RuleSetting:
    """A rule as configured for one plan: its level and its parameters."""

    id: str
    level: Level
    params: RuleParams = RuleParams()

    def typed(self, kind: type[P]) -> P:
        """The parameters as the rule's own class, e.g. `setting.typed(GapParams).min`."""
        return params_as(self.params, kind)


def params_as(params: RuleParams, kind: type[P]) -> P:
    """`params` as `kind`; a TypeError (a bug, not bad input) when they are of another rule."""
    if not isinstance(params, kind):
        raise TypeError(f"expected {kind.__name__}, found {type(params).__name__}")
    return params


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    timezone: str
    starts: date
    goal: Goal
    sessions: tuple[Session, ...]
    week: tuple[tuple[Entry, ...], ...]  # seven days, Monday first
    rules: tuple[RuleSetting, ...]
    windows: tuple[Window, ...] = ()
    cycle: tuple[Phase, ...] = ()
    exceptions: tuple[tuple[date, tuple[Entry, ...]], ...] = ()
    source: str = ""  # the file it was loaded from, for messages only
    fit: FitSpec | None = None  # what the athlete wants in a week (`calsync fit`)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def midnight(self, day: date) -> datetime:
        """The start of a local day in the plan's zone: where ranges begin and end."""
        return datetime.combine(day, time(), tzinfo=self.zone)

    def rule(self, rule_id: str) -> RuleSetting:
        for setting in self.rules:
            if setting.id == rule_id:
                return setting
        raise KeyError(rule_id)


@dataclass(frozen=True)
class Occurrence:
    """A dated, timed session: what ends up as one calendar event.

    `key` is stable: it depends only on the plan id, the date and the session's
    identity within that day, so the same session gets the same key (and UID)
    on every run and every machine.
    """

    key: str
    plan: str
    date: date
    start: datetime  # timezone-aware, in the plan's zone
    end: datetime
    session: Session  # durations already scaled for the cycle phase
    week: int  # plan week, 1 for the week of `starts`
    phase: str | None
    window: str | None = None  # the window it was placed in, if any

    @property
    def uid(self) -> str:
        """The iCalendar UID: the same in the .ics file, on CalDAV and in Google."""
        return uid_for(self.key)

    # remembered: every rule compares instants, many times over while hints are judged
    @cached_property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @cached_property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)


def uid_for(key: str) -> str:
    """The UID of a session key (`plan/2026-11-30/legs` -> `plan-2026-11-30-legs@calsync`)."""
    return key.replace("/", "-") + "@calsync"


@dataclass(frozen=True)
class Busy:
    """Time taken by something outside the plan (a meeting, a family dinner)."""

    start: datetime  # timezone-aware
    end: datetime
    title: str = "busy"


@dataclass(frozen=True)
class InputWarning:
    """What calsync had to assume to read an input file (a busy calendar): where, and what."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Conflict:
    rule: str
    level: Level
    date: date
    message: str
    sessions: tuple[Occurrence, ...] = ()
    busy: tuple[Busy, ...] = ()
    hint: str | None = None
    fixes: tuple[Fix, ...] = ()  # what `hint` proposes, each checked against the rules

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.sessions)


@dataclass(frozen=True)
class Change:
    """One session as a hint would have it: on `date`, from `start`, as `session`."""

    key: str
    date: date
    start: datetime  # timezone-aware, in the plan's zone
    session: Session


@dataclass(frozen=True)
class Fix:
    """What a hint proposes, in words and as changes the rule catalogue has judged."""

    text: str
    changes: tuple[Change, ...]
    adds: tuple[str, ...] = ()  # rules that would newly warn (never one at level error)


@dataclass(frozen=True)
class Schedule:
    """What `expand` returns: the sessions of a range and what conflicts."""

    plan: Plan
    start: date
    end: date  # exclusive
    occurrences: tuple[Occurrence, ...]
    conflicts: tuple[Conflict, ...] = field(default=())
    warnings: tuple[InputWarning, ...] = ()  # assumptions made reading busy files

    def conflicts_for(self, key: str) -> tuple[Conflict, ...]:
        return self._conflicts_by_key.get(key, ())

    @cached_property
    def _conflicts_by_key(self) -> dict[str, tuple[Conflict, ...]]:
        index: dict[str, list[Conflict]] = {}
        for conflict in self.conflicts:
            for key in dict.fromkeys(conflict.keys):
                index.setdefault(key, []).append(conflict)
        return {key: tuple(found) for key, found in index.items()}

    def worst(self) -> Level:
        return max((c.level for c in self.conflicts), key=lambda lv: lv.rank, default=Level.OFF)


__all__ = [
    "Busy",
    "Change",
    "Conflict",
    "Entry",
    "Fix",
    "Goal",
    "InputWarning",
    "Kind",
    "Level",
    "Load",
    "Occurrence",
    "Phase",
    "Plan",
    "RuleParams",
    "RuleSetting",
    "params_as",
    "Schedule",
    "Session",
    "FOCUS_GROUPS",
    "Focus",
    "WEEKDAYS",
    "Window",
]
