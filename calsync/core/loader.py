"""Reading a plan template: YAML text in, a validated `Plan` out, or every mistake at once.

The sections that refer to each other (windows, sessions, the week, fit,
exceptions) are read here. YAML nodes with their lines: calsync/core/yamlread.py;
the problems reported: calsync/core/problems.py; the fields that stand alone
(rules, cycle, values): calsync/core/plan_fields.py.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from calsync.core.model import (
    FOCUS_GROUPS,
    WEEKDAYS,
    Entry,
    Focus,
    Goal,
    Kind,
    Load,
    Plan,
    Session,
    Window,
)
from calsync.core.plan_fields import iso_date, read_cycle, read_rules, rpe
from calsync.core.problems import decode_text
from calsync.core.units import parse_duration, parse_span, parse_time
from calsync.core.yamlread import NodeReader, all_read, compose
from calsync.errors import PlanError

if TYPE_CHECKING:
    from calsync.core.fitspec import FitSpec

PLAN_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$")
DEFAULT_REMINDER = 30  # minutes: time to change and get to the gym or the bike
OFF = ("off", "none", "false", "no")

# PlanError is what parsing (and io.plans reading) raises: callers catch it from here.
__all__ = ["PlanError", "parse_plan"]


def parse_plan(data: bytes | str, source: str = "plan.yaml") -> Plan:
    """A plan's text in, a `Plan` or a PlanError out (`io.plans.load_plan` reads the file)."""
    root = compose(decode_text(data, source), source)
    reader = NodeReader(source)
    if root is None:
        reader.fail(None, "", "the file is empty (expected a plan: plan, timezone, starts, ...)")
        raise PlanError(reader.problems)
    plan = _PlanReader(reader, source).read(root)
    if reader.problems or plan is None:
        raise PlanError(reader.problems)
    return plan


class _PlanReader:
    """Reads the sections of a plan in order; every section reports its own problems."""

    def __init__(self, reader: NodeReader, source: str) -> None:
        self.r = reader
        self.source = source
        self.windows: dict[str, Window] = {}
        self.sessions: dict[str, Session] = {}
        self.broken: set[str] = set()  # reported once where defined, not again where used

    def read(self, root: Node) -> Plan | None:
        top = self.r.mapping(
            root,
            "",
            required=("plan", "timezone", "starts", "sessions"),
            optional=(
                "week",
                "fit",
                "title",
                "goal",
                "reminder",
                "windows",
                "rules",
                "cycle",
                "exceptions",
            ),
        )
        if top is None:
            return None
        plan_id = self._plan_id(top.get("plan"))
        zone = self._zone(top.get("timezone"))
        starts = self._starts(top.get("starts"))
        title = self.r.text(top["title"], "title") if "title" in top else plan_id
        goal = self.r.choice(top["goal"], "goal", Goal) if "goal" in top else Goal.BALANCED
        reminder = (
            self._reminder(top["reminder"], "reminder") if "reminder" in top else DEFAULT_REMINDER
        )
        if "windows" in top:
            self._windows(top["windows"])
        if "sessions" in top:
            self._sessions(top["sessions"], reminder)
        week = self._week(top["week"]) if "week" in top else None
        fit = self._fit(top["fit"]) if "fit" in top else None
        if "week" not in top:
            if "fit" in top:
                week = ((),) * 7  # no week yet: `calsync fit --write` makes one
            else:
                self.r.fail(root, "", "missing required key 'week' (or 'fit', to have one made)")
        rules = read_rules(self.r, top.get("rules"), goal or Goal.BALANCED)
        cycle = read_cycle(self.r, top["cycle"]) if "cycle" in top else ()
        exceptions = self._exceptions(top["exceptions"]) if "exceptions" in top else ()
        if self.r.problems or plan_id is None or zone is None or starts is None:
            return None
        if title is None or goal is None or week is None or cycle is None:
            return None
        return Plan(
            id=plan_id,
            title=title,
            timezone=zone,
            starts=starts,
            goal=goal,
            sessions=tuple(self.sessions.values()),
            week=week,
            rules=rules,
            windows=tuple(self.windows.values()),
            cycle=cycle,
            exceptions=exceptions,
            source=self.source,
            fit=fit,
        )

    # --- header ---

    def _plan_id(self, node: Node | None) -> str | None:
        if node is None:
            return None
        value = self.r.text(node, "plan")
        if value is not None and not PLAN_ID.match(value):
            self.r.fail(
                node, "plan", f"'{value}' is not a plan id (expected lowercase a-z, 0-9 and -)"
            )
            return None
        return value

    def _zone(self, node: Node | None) -> str | None:
        if node is None:
            return None
        value = self.r.text(node, "timezone")
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # 'Europe' is a folder of zones
            self.r.fail(
                node,
                "timezone",
                f"unknown time zone '{value}' (expected an IANA name such as Europe/Brussels)",
            )
            return None
        return value

    def _starts(self, node: Node | None) -> date | None:
        if node is None:
            return None
        day = self.r.parsed(node, "starts", iso_date)
        if day is not None and day.weekday() != 0:
            self.r.fail(node, "starts", f"{day} is a {day:%A} (expected a Monday: day 1 of week 1)")
            return None
        return day

    def _reminder(self, node: Node, path: str) -> int | None:
        if isinstance(node, ScalarNode) and node.value.strip().lower() in OFF:
            return None
        return self.r.integer(node, path, 0, 7 * 24 * 60)

    # --- library ---

    def _windows(self, node: Node) -> None:
        for name, value in (self.r.mapping(node, "windows") or {}).items():
            path = f"windows.{name}"
            if not NAME.match(name):
                self.r.fail(
                    value, path, f"'{name}' is not a name (expected letters, digits, - or _)"
                )
                continue
            span = self.r.parsed(value, path, parse_span)
            if span is not None:
                self.windows[name] = Window(name, *span)

    def _sessions(self, node: Node, reminder: int | None) -> None:
        for name, value in (self.r.mapping(node, "sessions") or {}).items():
            path = f"sessions.{name}"
            if not NAME.match(name) or name == "rest":
                self.r.fail(
                    value,
                    path,
                    f"'{name}' cannot name a session (expected letters, digits, - or _; not 'rest')",
                )
                self.broken.add(name)
                continue
            fields = self.r.mapping(
                value,
                path,
                required=("kind", "title", "duration", "load"),
                optional=("focus", "notes", "location", "reminder", "rpe"),
            )
            if fields is None:
                self.broken.add(name)
                continue
            session = self._session_fields(name, fields, path, reminder)
            if session is not None:
                self.sessions[name] = session
            else:
                self.broken.add(name)

    def _session_fields(
        self, name: str, fields: dict[str, Node], path: str, reminder: int | None
    ) -> Session | None:
        kind = self.r.choice(fields["kind"], f"{path}.kind", Kind) if "kind" in fields else None
        title = self.r.text(fields["title"], f"{path}.title") if "title" in fields else None
        duration = self._duration(fields.get("duration"), f"{path}.duration")
        load = self.r.choice(fields["load"], f"{path}.load", Load) if "load" in fields else None
        extras: dict[str, Any] = {  # Session's optional fields, by name
            key: self.r.text(fields[key], f"{path}.{key}")
            for key in ("notes", "location")
            if key in fields
        }
        if "focus" in fields:
            extras["focus"] = self._focus(fields["focus"], f"{path}.focus")
        if "rpe" in fields:
            extras["rpe"] = self.r.parsed(fields["rpe"], f"{path}.rpe", rpe)
        if "reminder" in fields:
            reminder = self._reminder(fields["reminder"], f"{path}.reminder")
        if kind is None or title is None or duration is None or load is None:
            return None
        if None in extras.values():
            return None
        return Session(name, kind, title, duration, load, reminder=reminder, **extras)

    def _focus(self, node: Node, path: str) -> tuple[str, ...] | None:
        """`legs` or `[legs, core]`: muscle groups from FOCUS_GROUPS, each checked."""
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        if not nodes:
            self.r.fail(node, path, f"expected at least one of: {', '.join(FOCUS_GROUPS)}")
            return None
        groups = all_read(self.r.choice(item, path, Focus) for item in nodes)
        if groups is None:
            return None
        return tuple(dict.fromkeys(g.value for g in groups))

    def _duration(self, node: Node | None, path: str) -> timedelta | None:
        if node is None:
            return None
        return self.r.parsed(node, path, parse_duration)

    # --- days ---

    def _week(self, node: Node) -> tuple[tuple[Entry, ...], ...] | None:
        days = self.r.mapping(node, "week", optional=WEEKDAYS)
        if days is None:
            return None
        return all_read(self._day(days[d], f"week.{d}") if d in days else () for d in WEEKDAYS)

    def _day(self, node: Node, path: str) -> tuple[Entry, ...] | None:
        if isinstance(node, ScalarNode):
            if node.tag.endswith(":null") or node.value == "rest":
                return ()
            self.r.fail(node, path, f"expected 'rest' or a list of sessions, found '{node.value}'")
            return None
        items = self.r.items(node, path)
        if items is None:
            return None
        return all_read(self._entry(item, f"{path}[{i}]") for i, item in enumerate(items))

    def _entry(self, node: Node, path: str) -> Entry | None:
        if isinstance(node, MappingNode):
            return self._entry_mapping(node, path)
        value = self.r.text(node, path)
        if value is None:
            return None
        parts = value.split()
        if len(parts) != 2:
            self.r.fail(
                node,
                path,
                f"'{value}' is not a session entry (expected 'NAME HH:MM' or 'NAME WINDOW')",
            )
            return None
        session = self._known_session(node, path, parts[0])
        slot = self._slot(node, path, parts[1])
        if session is None or slot is None:
            return None
        return Entry(session, *slot)

    def _entry_mapping(self, node: Node, path: str) -> Entry | None:
        fields = self.r.mapping(
            node,
            path,
            required=("session",),
            optional=("at", "window", "duration", "title", "load", "notes", "location", "rpe"),
        )
        if fields is None or "session" not in fields:
            return None
        name = self.r.text(fields["session"], f"{path}.session")
        session = self._known_session(fields["session"], f"{path}.session", name) if name else None
        if ("at" in fields) == ("window" in fields):
            self.r.fail(
                node, path, "expected exactly one of 'at' (HH:MM) or 'window' (a window name)"
            )
            return None
        key = "at" if "at" in fields else "window"
        raw = self.r.text(fields[key], f"{path}.{key}")
        slot = self._slot(fields[key], f"{path}.{key}", raw, only=key) if raw else None
        changes: dict[str, Any] = {}  # Session's fields a day overrides, by name
        if "duration" in fields:
            changes["duration"] = self._duration(fields["duration"], f"{path}.duration")
        if "load" in fields:
            changes["load"] = self.r.choice(fields["load"], f"{path}.load", Load)
        for text_field in ("title", "notes", "location"):
            if text_field in fields:
                changes[text_field] = self.r.text(fields[text_field], f"{path}.{text_field}")
        if "rpe" in fields:
            changes["rpe"] = self.r.parsed(fields["rpe"], f"{path}.rpe", rpe)
        if session is None or slot is None or None in changes.values():
            return None
        return Entry(replace(session, **changes), *slot)

    def _known_session(self, node: Node, path: str, name: str) -> Session | None:
        if name in self.sessions:
            return self.sessions[name]
        if name in self.broken:
            return None
        known = ", ".join(sorted(self.sessions)) or "none"
        self.r.fail(node, path, f"unknown session '{name}' (known: {known})")
        return None

    def _slot(
        self, node: Node, path: str, value: str, only: str | None = None
    ) -> tuple[time | None, Window | None] | None:
        if only != "window" and re.fullmatch(r"\d{1,2}:\d{2}", value):
            at = self.r.attempt(node, path, lambda: parse_time(value))
            return None if at is None else (at, None)
        if only != "at" and value in self.windows:
            return None, self.windows[value]
        windows = ", ".join(sorted(self.windows)) or "none defined"
        expected = {
            "at": "a time HH:MM",
            "window": f"a window name (known: {windows})",
        }.get(only or "", f"a time HH:MM or a window name (windows: {windows})")
        self.r.fail(node, path, f"'{value}' is not a time or a window (expected {expected})")
        return None

    # --- fit: what the athlete wants in a week (calsync/fitspec.py) ---

    def _fit(self, node: Node) -> FitSpec | None:
        from calsync.core.fitspec import FitReader  # read only for a plan that has `fit:`

        reader = FitReader(self.r, self.sessions, self.broken, self.windows, self._day)
        return reader.read(node)

    # --- rules, cycle, exceptions ---

    def _exceptions(self, node: Node) -> tuple[tuple[date, tuple[Entry, ...]], ...]:
        days = []
        for key, value in (self.r.mapping(node, "exceptions") or {}).items():
            path = f"exceptions.{key}"
            day = self.r.attempt(value, path, partial(iso_date, key))
            entries = self._day(value, path)
            if day is not None and entries is not None:
                days.append((day, entries))
        return tuple(sorted(days))
