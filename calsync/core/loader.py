"""Reading a plan template: YAML text in, a validated `Plan` out, or every mistake at once.

The YAML is composed into nodes rather than loaded into Python objects, so that
every value keeps the line it came from (for messages like
`plan.yaml:14: week.tue[1]: unknown session 'z3'`) and so that YAML 1.1's
surprises (`10:00` read as the number 600) never reach the plan: scalars are
read from their source text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from calsync.core.fitspec import FitReader, FitSpec
from calsync.core.model import (
    FOCUS_GROUPS,
    WEEKDAYS,
    Entry,
    Focus,
    Goal,
    Kind,
    Level,
    Load,
    Phase,
    Plan,
    RuleSetting,
    Session,
    Window,
)
from calsync.core.rules import RULES
from calsync.core.units import parse_duration, parse_span, parse_time
from calsync.errors import PlanError  # a BadInput listing every problem (calsync/errors.py)

T = TypeVar("T")

PLAN_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$")
DEFAULT_REMINDER = 30  # minutes: time to change and get to the gym or the bike
OFF = ("off", "none", "false", "no")
# libyaml's parser when PyYAML was built with it: the same nodes and marks, 10x faster.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.source}:{self.line}: {where}{self.message}"


class InvalidValue(Exception):
    """One value is wrong; the reader records it and goes on with the rest."""


class _Reader:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, node: Node | None, path: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(Problem(self.source, line, path, message))

    def attempt(self, node: Node, path: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except (InvalidValue, ValueError) as err:
            self.fail(node, path, str(err))
            return None

    # --- shapes ---

    def mapping(
        self, node: Node, path: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
    ) -> dict[str, Node] | None:
        """Keys to nodes, or None; unknown and duplicate keys are problems."""
        if isinstance(node, ScalarNode) and node.tag.endswith(":null") and not required:
            return {}  # `rules:` with nothing under it: no overrides
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, found {_describe(node)}")
            return None
        known = required + optional
        found: dict[str, Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            where = f"{path}.{name}" if path else str(name)
            if name is None:
                self.fail(key, path, "expected a plain key")
            elif name in found:
                self.fail(key, where, "duplicate key (the earlier one would be ignored)")
            elif known and name not in known:
                self.fail(key, where, f"unknown key '{name}' (expected one of: {', '.join(known)})")
            else:
                found[name] = value
        for name in required:
            if name not in found:
                self.fail(node, path, f"missing required key '{name}'")
        return found

    def text(self, node: Node, path: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null") or not node.value.strip():
            self.fail(node, path, f"expected text, found {_describe(node)}")
            return None
        return node.value.strip()

    def integer(self, node: Node, path: str, low: int, high: int) -> int | None:
        value = self.text(node, path)
        if value is None:
            return None
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            self.fail(node, path, f"expected a whole number from {low} to {high}, found '{value}'")
            return None
        return int(value)

    def choice(self, node: Node, path: str, enum: type[T]) -> T | None:
        value = self.text(node, path)
        if value is None:
            return None
        try:
            return enum(value.lower())  # type: ignore[call-arg]
        except ValueError:
            names = ", ".join(member.value for member in enum)  # type: ignore[attr-defined]
            self.fail(node, path, f"unknown value '{value}' (expected one of: {names})")
            return None

    def parsed(self, node: Node, path: str, parse: Callable[[str], T]) -> T | None:
        value = self.text(node, path)
        return None if value is None else self.attempt(node, path, lambda: parse(value))

    def items(self, node: Node, path: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"expected a list, found {_describe(node)}")
            return None
        return list(node.value)


def _describe(node: Node | None) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "nothing"
    return f"'{node.value}'"


def load_plan(path: Path | str) -> Plan:
    """Read and validate a plan file; raises PlanError (with the file's name) on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PlanError(
            [Problem(str(path), 1, "", f"cannot read the plan: {err.strerror}")]
        ) from None
    return parse_plan(data, str(path))


def parse_plan(data: bytes | str, source: str = "plan.yaml") -> Plan:
    """The pure half of `load_plan`: text in, a `Plan` or a PlanError out."""
    data = decode_text(data, source)
    try:
        root = yaml.compose(data, Loader=FAST_LOADER)
    except yaml.YAMLError:
        # PyYAML's own parser says more (it names the character), so a broken
        # file is parsed again with it for the message.
        try:
            root = yaml.compose(data, Loader=yaml.SafeLoader)
        except yaml.YAMLError as err:
            raise PlanError([_yaml_problem(source, data, err)]) from None
    except RecursionError:
        raise PlanError([Problem(source, 1, "", "invalid YAML: nested too deeply")]) from None
    reader = _Reader(source)
    if root is None:
        reader.fail(None, "", "the file is empty (expected a plan: plan, timezone, starts, ...)")
        raise PlanError(reader.problems)
    plan = _PlanReader(reader, source).read(root)
    if reader.problems or plan is None:
        raise PlanError(reader.problems)
    return plan


def decode_text(data: bytes | str, source: str) -> str:
    """UTF-8 text, or a PlanError naming the line of the first byte that is not."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise PlanError([Problem(source, line, "", "expected UTF-8 text")]) from None


def _yaml_problem(source: str, text: str, err: yaml.YAMLError) -> Problem:
    found = getattr(err, "problem_mark", None)
    context = getattr(err, "context", None) or ""
    # An unclosed '[', '{' or quote is noticed lines later, at the next token that
    # cannot belong to it: the line where it began is where the mistake is.
    began = (
        getattr(err, "context_mark", None) if ("flow" in context or "quoted" in context) else None
    )
    mark = began or found
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if isinstance(err, yaml.reader.ReaderError):
        line = text[: err.position].count("\n") + 1
        problem = f"unexpected control character {chr(err.character)!r}"
    if began is not None and found is not None and found.line != began.line:
        problem += f" (noticed on line {found.line + 1})"
    return Problem(source, line, "", f"invalid YAML: {problem}")


class _PlanReader:
    """Reads the sections of a plan in order; every section reports its own problems."""

    def __init__(self, reader: _Reader, source: str):
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
        rules = self._rules(top.get("rules"), goal or Goal.BALANCED)
        cycle = self._cycle(top["cycle"]) if "cycle" in top else ()
        exceptions = self._exceptions(top["exceptions"]) if "exceptions" in top else ()
        if self.r.problems or None in (plan_id, zone, starts, title, goal, week, cycle):
            return None
        return Plan(
            id=plan_id,  # type: ignore[arg-type]
            title=title,  # type: ignore[arg-type]
            timezone=zone,  # type: ignore[arg-type]
            starts=starts,  # type: ignore[arg-type]
            goal=goal,  # type: ignore[arg-type]
            sessions=tuple(self.sessions.values()),
            week=week,  # type: ignore[arg-type]
            rules=rules,
            windows=tuple(self.windows.values()),
            cycle=cycle,  # type: ignore[arg-type]
            exceptions=exceptions,  # type: ignore[arg-type]
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
        day = self.r.parsed(node, "starts", _iso_date)
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
        extras: dict[str, object] = {
            key: self.r.text(fields[key], f"{path}.{key}")
            for key in ("notes", "location")
            if key in fields
        }
        if "focus" in fields:
            extras["focus"] = self._focus(fields["focus"], f"{path}.focus")
        if "rpe" in fields:
            extras["rpe"] = self.r.parsed(fields["rpe"], f"{path}.rpe", _rpe)
        if "reminder" in fields:
            reminder = self._reminder(fields["reminder"], f"{path}.reminder")
        if None in (kind, title, duration, load) or None in extras.values():
            return None
        return Session(name, kind, title, duration, load, reminder=reminder, **extras)  # type: ignore[arg-type]

    def _focus(self, node: Node, path: str) -> tuple[str, ...] | None:
        """`legs` or `[legs, core]`: muscle groups from FOCUS_GROUPS, each checked."""
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        if not nodes:
            self.r.fail(node, path, f"expected at least one of: {', '.join(FOCUS_GROUPS)}")
            return None
        groups = [self.r.choice(item, path, Focus) for item in nodes]
        if None in groups:
            return None
        return tuple(dict.fromkeys(g.value for g in groups))  # type: ignore[union-attr]

    def _duration(self, node: Node | None, path: str) -> timedelta | None:
        if node is None:
            return None
        return self.r.parsed(node, path, parse_duration)

    # --- days ---

    def _week(self, node: Node) -> tuple[tuple[Entry, ...], ...] | None:
        days = self.r.mapping(node, "week", optional=WEEKDAYS)
        if days is None:
            return None
        week = tuple(self._day(days[d], f"week.{d}") if d in days else () for d in WEEKDAYS)
        return None if None in week else week  # type: ignore[return-value]

    def _day(self, node: Node, path: str) -> tuple[Entry, ...] | None:
        if isinstance(node, ScalarNode):
            if node.tag.endswith(":null") or node.value == "rest":
                return ()
            self.r.fail(node, path, f"expected 'rest' or a list of sessions, found '{node.value}'")
            return None
        items = self.r.items(node, path)
        if items is None:
            return None
        entries = [self._entry(item, f"{path}[{i}]") for i, item in enumerate(items)]
        return None if None in entries else tuple(entries)  # type: ignore[arg-type]

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
        changes: dict[str, object] = {}
        if "duration" in fields:
            changes["duration"] = self._duration(fields["duration"], f"{path}.duration")
        if "load" in fields:
            changes["load"] = self.r.choice(fields["load"], f"{path}.load", Load)
        for text_field in ("title", "notes", "location"):
            if text_field in fields:
                changes[text_field] = self.r.text(fields[text_field], f"{path}.{text_field}")
        if "rpe" in fields:
            changes["rpe"] = self.r.parsed(fields["rpe"], f"{path}.rpe", _rpe)
        if session is None or slot is None or None in changes.values():
            return None
        return Entry(replace(session, **changes), *slot)  # type: ignore[arg-type]

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
        reader = FitReader(self.r, self.sessions, self.broken, self.windows, self._day)
        return reader.read(node)

    # --- rules, cycle, exceptions ---

    def _rules(self, node: Node | None, goal: Goal) -> tuple[RuleSetting, ...]:
        settings = {rule.id: rule.default_setting(goal) for rule in RULES.values()}
        given = self.r.mapping(node, "rules") if node is not None else {}
        for rule_id, value in (given or {}).items():
            path = f"rules.{rule_id}"
            if rule_id not in RULES:
                self.r.fail(value, path, f"unknown rule '{rule_id}' (known: {', '.join(RULES)})")
                continue
            setting = self._rule(RULES[rule_id].params, settings[rule_id], value, path)
            if setting is not None:
                settings[rule_id] = setting
        return tuple(settings.values())

    def _rule(self, params, default: RuleSetting, node: Node, path: str) -> RuleSetting | None:
        if isinstance(node, ScalarNode):
            level = self.r.choice(node, f"{path}", Level)
            return None if level is None else replace(default, level=level)
        fields = self.r.mapping(node, path, optional=("level", *(p.name for p in params)))
        if fields is None:
            return None
        level = (
            self.r.choice(fields["level"], f"{path}.level", Level)
            if "level" in fields
            else default.level
        )
        values = dict(default.params)
        for param in params:
            if param.name in fields:
                raw = _plain(fields[param.name])
                parsed = self.r.attempt(
                    fields[param.name], f"{path}.{param.name}", lambda p=param, v=raw: p.parse(v)
                )
                values[param.name] = parsed
        if level is None or None in values.values():
            return None
        return RuleSetting(default.id, level, tuple(values.items()))

    def _cycle(self, node: Node) -> tuple[Phase, ...] | None:
        items = self.r.items(node, "cycle")
        if items is None:
            return None
        if not items:
            self.r.fail(node, "cycle", "expected at least one phase, e.g. {name: build, weeks: 3}")
            return None
        phases = [self._phase(item, f"cycle[{i}]") for i, item in enumerate(items)]
        return None if None in phases else tuple(phases)  # type: ignore[arg-type]

    def _phase(self, node: Node, path: str) -> Phase | None:
        fields = self.r.mapping(node, path, required=("name", "weeks"), optional=("scale",))
        if fields is None:
            return None
        name = self.r.text(fields["name"], f"{path}.name") if "name" in fields else None
        weeks = (
            self.r.integer(fields["weeks"], f"{path}.weeks", 1, 52) if "weeks" in fields else None
        )
        scale: list[tuple[Kind, float]] = []
        factors = self.r.mapping(fields["scale"], f"{path}.scale") if "scale" in fields else {}
        for kind_name, value in (factors or {}).items():
            where = f"{path}.scale.{kind_name}"
            kind = self.r.attempt(value, where, lambda k=kind_name: _kind(k))
            factor = self.r.parsed(value, where, _factor)
            if kind is not None and factor is not None:
                scale.append((kind, factor))
        if name is None or weeks is None:
            return None
        return Phase(name, weeks, tuple(scale))

    def _exceptions(self, node: Node) -> tuple[tuple[date, tuple[Entry, ...]], ...] | None:
        days = []
        for key, value in (self.r.mapping(node, "exceptions") or {}).items():
            path = f"exceptions.{key}"
            day = self.r.attempt(value, path, lambda k=key: _iso_date(k))
            entries = self._day(value, path)
            if day is not None and entries is not None:
                days.append((day, entries))
        return tuple(sorted(days))


def _plain(node: Node) -> object:
    """A parameter's value as a YAML reader would give it, but with scalars kept as text."""
    if isinstance(node, SequenceNode):
        return [_plain(item) for item in node.value]
    if isinstance(node, MappingNode):
        return {k.value: _plain(v) for k, v in node.value}
    if node.tag.endswith(":int") and re.fullmatch(r"\d+", node.value):
        return int(node.value)
    return node.value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD)") from None


def _kind(name: str) -> Kind:
    try:
        return Kind(name)
    except ValueError:
        raise ValueError(f"unknown kind '{name}' (expected one of: {', '.join(Kind)})") from None


def _rpe(text: str) -> float:
    """A session RPE on Foster's 0-10 scale (CR-10): a number from 1 to 10, halves allowed."""
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 10 or value * 2 != int(value * 2):
        raise ValueError(
            f"'{text}' is not a session RPE (expected a number from 1 to 10, e.g. 3 or 7.5)"
        )
    return int(value) if value == int(value) else value


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0.1 <= value <= 2.0:
        raise ValueError(f"'{text}' is not a scale factor (expected a number from 0.1 to 2.0)")
    return value
