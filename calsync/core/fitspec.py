"""The `fit:` block of a plan: what the athlete wants in a week, read with file and line.

    fit:
      per-week:                     # how many of each session a week
        legs: 2
        z2: {min: 1, max: 6}        # as many as fit, within these bounds
      when:                         # where a kind (or one session) may start, per weekday
        strength: {mon-fri: "10:00", sat-sun: "08:00-12:00"}
        ride: {all: ["20:00", "21:00"]}
      pin: {sat: rest}              # days (or sessions) fixed by hand
      step: 15m                     # the grid of starts inside a span (default 15m)

This module only reads and holds the wants; `calsync.core.fit` turns them into a week.
It is light on purpose: loading a plan never imports the solver.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from typing import TYPE_CHECKING

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from calsync.core.model import WEEKDAYS, Entry, Kind, Session, Window
from calsync.core.units import parse_duration, parse_span, parse_time

if TYPE_CHECKING:
    from calsync.core.loader import _Reader

MOST = 21  # a count above three a day for a week is a typo, not a plan
DEFAULT_STEP = timedelta(minutes=15)
DAY_GROUPS = {
    "all": WEEKDAYS,
    "weekdays": WEEKDAYS[:5],
    "weekend": WEEKDAYS[5:],
}


@dataclass(frozen=True)
class Want:
    """How many of one library session a week: at least `low`, at most `high`."""

    session: str
    low: int
    high: int


@dataclass(frozen=True)
class Start:
    """Where a session may start on a day: at `at`, or anywhere from `at` to `until` on the grid.

    With `until`, the session must also end by `until` (a window, like `windows:`).
    """

    at: time
    until: time | None = None


@dataclass(frozen=True)
class FitSpec:
    wants: tuple[Want, ...]
    # per wanted session: seven tuples (Monday first) of starts, in the order the user
    # listed them (the first is the preferred one); an empty tuple: not on that day.
    when: tuple[tuple[str, tuple[tuple[Start, ...], ...]], ...]
    pins: tuple[tuple[int, tuple[Entry, ...]], ...] = ()  # weekday -> fixed entries (() = rest)
    step: timedelta = DEFAULT_STEP

    def starts(self, session: str, weekday: int) -> tuple[Start, ...]:
        return dict(self.when).get(session, ((),) * 7)[weekday]

    def pinned(self, weekday: int) -> tuple[Entry, ...] | None:
        return dict(self.pins).get(weekday)

    def want(self, session: str) -> Want | None:
        return next((w for w in self.wants if w.session == session), None)


def parse_days(text: str) -> tuple[int, ...]:
    """`all`, `weekdays`, `weekend`, `mon`, `mon-fri`, `sat-sun`, `mon,wed,fri` -> weekday numbers."""
    days: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        if part in DAY_GROUPS:
            days += [WEEKDAYS.index(d) for d in DAY_GROUPS[part]]
        elif part in WEEKDAYS:
            days.append(WEEKDAYS.index(part))
        elif re.fullmatch(r"[a-z]{3}-[a-z]{3}", part) and all(
            p in WEEKDAYS for p in part.split("-")
        ):
            first, last = (WEEKDAYS.index(p) for p in part.split("-"))
            if last < first:
                raise ValueError(f"'{part}' runs backwards (expected e.g. mon-fri)")
            days += range(first, last + 1)
        else:
            raise ValueError(
                f"'{text}' is not a set of days (expected all, weekdays, weekend, a day "
                "like mon, a range like mon-fri, or a list like mon,wed)"
            )
    if len(set(days)) != len(days):
        raise ValueError(f"'{text}' names a day twice")
    return tuple(days)


class FitReader:
    """Reads `fit:` with the plan reader's problem list, so every mistake has its line."""

    def __init__(
        self,
        reader: _Reader,
        sessions: dict[str, Session],
        broken: set[str],
        windows: dict[str, Window],
        read_day: Callable[[Node, str], tuple[Entry, ...] | None],
    ):
        self.r = reader
        self.sessions = sessions
        self.broken = broken
        self.windows = windows
        self.read_day = read_day
        self.broken_when: set[str] = set()  # `when` keys already reported as wrong

    def read(self, node: Node) -> FitSpec | None:
        fields = self.r.mapping(
            node, "fit", required=("per-week", "when"), optional=("pin", "step")
        )
        if fields is None or "per-week" not in fields or "when" not in fields:
            return None
        step = (
            self.r.parsed(fields["step"], "fit.step", _step) if "step" in fields else DEFAULT_STEP
        )
        wants = self._wants(fields["per-week"])
        rules = self._when(fields["when"])
        pins = self._pins(fields["pin"]) if "pin" in fields else ()
        if wants is None or rules is None or pins is None or step is None:
            return None
        when = []
        for want, node_of in wants:
            session = self.sessions[want.session]
            days = rules.get(want.session) or rules.get(session.kind.value)
            reported = {want.session, session.kind.value} & self.broken_when
            if days is None and want.high > 0 and not reported:
                self.r.fail(
                    node_of,
                    f"fit.per-week.{want.session}",
                    f"no start times for '{want.session}' (expected fit.when.{want.session} "
                    f"or fit.when.{session.kind.value})",
                )
                continue
            when.append((want.session, days or ((),) * 7))
        if self.r.problems:
            return None
        return FitSpec(tuple(w for w, _ in wants), tuple(when), pins, step)

    def _wants(self, node: Node) -> list[tuple[Want, Node]] | None:
        found = self.r.mapping(node, "fit.per-week")
        if found is None:
            return None
        if not found:
            self.r.fail(node, "fit.per-week", "expected at least one session, e.g. legs: 2")
            return None
        wants = []
        for name, value in found.items():
            path = f"fit.per-week.{name}"
            if name not in self.sessions:
                if name not in self.broken:
                    known = ", ".join(sorted(self.sessions)) or "none"
                    self.r.fail(value, path, f"unknown session '{name}' (known: {known})")
                continue
            if isinstance(value, MappingNode):
                bounds = self.r.mapping(value, path, required=("min", "max"))
                if bounds is None or "min" not in bounds or "max" not in bounds:
                    continue
                low = self.r.integer(bounds["min"], f"{path}.min", 0, MOST)
                high = self.r.integer(bounds["max"], f"{path}.max", 0, MOST)
                if low is not None and high is not None and high < low:
                    self.r.fail(value, path, f"max {high} is below min {low}")
                    continue
            else:
                low = high = self.r.integer(value, path, 0, MOST)
            if low is not None and high is not None:
                wants.append((Want(name, low, high), value))
        return wants

    def _when(self, node: Node) -> dict[str, tuple[tuple[Start, ...], ...]] | None:
        found = self.r.mapping(node, "fit.when")
        if found is None:
            return None
        kinds = {k.value for k in Kind}
        rules: dict[str, tuple[tuple[Start, ...], ...]] = {}
        for name, value in found.items():
            path = f"fit.when.{name}"
            if name not in kinds and name not in self.sessions:
                if name not in self.broken:
                    known = ", ".join([*sorted(kinds), *sorted(self.sessions)])
                    self.r.fail(
                        value, path, f"'{name}' is neither a kind nor a session (known: {known})"
                    )
                continue
            days = self._days_of_starts(value, path)
            if days is not None:
                rules[name] = days
            else:
                self.broken_when.add(name)
        return rules

    def _days_of_starts(self, node: Node, path: str) -> tuple[tuple[Start, ...], ...] | None:
        week: list[tuple[Start, ...]] = [()] * 7
        if not isinstance(node, MappingNode):  # the same starts every day
            starts = self._starts(node, path)
            return None if starts is None else (starts,) * 7
        ok = True
        for key, value in (self.r.mapping(node, path) or {}).items():
            where = f"{path}.{key}"
            days = self.r.attempt(value, where, lambda k=key: parse_days(k))
            starts = self._starts(value, where)
            if days is None or starts is None:
                ok = False
                continue
            for day in days:
                if week[day]:
                    self.r.fail(value, where, f"{WEEKDAYS[day]} is given twice")
                    ok = False
                week[day] = starts
        return tuple(week) if ok else None

    def _starts(self, node: Node, path: str) -> tuple[Start, ...] | None:
        items = node.value if isinstance(node, SequenceNode) else [node]
        if not items:
            self.r.fail(node, path, "expected at least one time")
            return None
        starts = []
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(node, SequenceNode) else path
            text = self.r.text(item, where) if isinstance(item, ScalarNode) else None
            if text is None:
                if not isinstance(item, ScalarNode):
                    self.r.fail(
                        item, where, "expected a time HH:MM, a span HH:MM-HH:MM or a window"
                    )
                return None
            start = self.r.attempt(item, where, lambda t=text: self._start(t))
            if start is None:
                return None
            if start in starts:
                self.r.fail(item, where, f"'{text}' is listed twice")
                return None
            starts.append(start)
        return tuple(starts)

    def _start(self, text: str) -> Start:
        if text in self.windows:
            window = self.windows[text]
            return Start(window.start, window.end)
        if "-" in text:
            return Start(*parse_span(text))
        if re.fullmatch(r"\d{1,2}:\d{2}", text):
            return Start(parse_time(text))
        windows = ", ".join(sorted(self.windows)) or "none defined"
        raise ValueError(
            f"'{text}' is not a start (expected HH:MM, a span HH:MM-HH:MM or a window: {windows})"
        )

    def _pins(self, node: Node) -> tuple[tuple[int, tuple[Entry, ...]], ...] | None:
        found = self.r.mapping(node, "fit.pin")
        if found is None:
            return None
        pins: dict[int, tuple[Entry, ...]] = {}
        ok = True
        for key, value in found.items():
            path = f"fit.pin.{key}"
            days = self.r.attempt(value, path, lambda k=key: parse_days(k))
            entries = self.read_day(value, path)
            if days is None or entries is None:
                ok = False
                continue
            if any(e.at is None for e in entries):
                self.r.fail(value, path, "a pinned session needs a time (expected 'NAME HH:MM')")
                ok = False
                continue
            for day in days:
                if day in pins:
                    self.r.fail(value, path, f"{WEEKDAYS[day]} is pinned twice")
                    ok = False
                pins[day] = entries
        return tuple(sorted(pins.items())) if ok else None


def _step(text: str) -> timedelta:
    step = parse_duration(text)
    minutes = step.total_seconds() / 60
    if minutes != int(minutes) or not 5 <= minutes <= 60 or 60 % int(minutes):
        raise ValueError(f"'{text}' is not a step (expected a divisor of an hour from 5m to 60m)")
    return step
