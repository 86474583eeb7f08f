"""Putting a fitted week into the plan's text as its `week:` block, and nothing else.

Only the lines of the top-level `week:` block are replaced (or, when the plan has
none, a new block goes just before `fit:`); every other byte of the file, its
comments, alignment and quoting, stays as the user wrote it. A general YAML
round trip cannot promise that: ruamel.yaml, for one, re-spaces aligned
mappings like `legs:      {kind: ...}`, which every shipped template has. The
new text is then read back by the plan loader, and must give the same plan
with the new week, or nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode

from calsync.core.loader import parse_plan
from calsync.core.model import WEEKDAYS, Entry, Plan, Session
from calsync.core.problems import decode_text
from calsync.core.units import format_duration
from calsync.core.yamlread import FAST_LOADER

MARK = "made by calsync fit"


class CannotWrite(Exception):
    """The plan's text is laid out so that the week cannot be replaced faithfully."""


def render_week(
    week: Sequence[Sequence[Entry]], library: Sequence[Session], newline: str = "\n"
) -> str:
    sessions = {s.name: s for s in library}
    lines = [f"week:                           # {MARK}"]
    for name, entries in zip(WEEKDAYS, week, strict=True):
        if not entries:
            lines.append(f"  {name}: rest")
        else:
            cells = ", ".join(_entry(e, sessions[e.session.name]) for e in entries)
            lines.append(f"  {name}: [{cells}]")
    return newline.join(lines) + newline


def _entry(entry: Entry, library: Session) -> str:
    where = f"{entry.at:%H:%M}" if entry.at else entry.window.name  # type: ignore[union-attr]  # an entry has a time or a window
    changed = {
        field: getattr(entry.session, field)
        for field in ("title", "duration", "load", "notes", "location")
        if getattr(entry.session, field) != getattr(library, field)
    }
    if not changed:
        return f"{entry.session.name} {where}"
    parts = [
        f"session: {entry.session.name}",
        f"{'at' if entry.at else 'window'}: {json.dumps(where)}",
    ]
    for field, value in changed.items():
        text = format_duration(value) if field == "duration" else str(value)
        parts.append(f"{field}: {json.dumps(text, ensure_ascii=False)}")
    return "{" + ", ".join(parts) + "}"


def with_week(
    text: str,
    week: Sequence[Sequence[Entry]],
    library: Sequence[Session],
    source: str = "plan.yaml",
) -> str:
    """`text` with its `week:` block replaced by `week` (or added before `fit:`)."""
    text = decode_text(text, source)
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=FAST_LOADER)
    if not isinstance(root, MappingNode) or root.flow_style:
        raise CannotWrite("the plan is not a block mapping (one key a line)")
    lines = text.splitlines(keepends=True)
    block = render_week(week, library, newline)
    keys = [(k, v) for k, v in root.value if isinstance(k, ScalarNode)]
    for key, _ in keys:
        if key.start_mark.column != 0:
            raise CannotWrite(f"line {key.start_mark.line + 1}: a top-level key not in column 1")
    found = next(((k, v) for k, v in keys if k.value == "week"), None)
    if found is not None:
        first, last = found[0].start_mark.line, _last_line(found[1], lines)
        return "".join(lines[:first]) + block + "".join(lines[last + 1 :])
    fit_key = next((k for k, _ in keys if k.value == "fit"), None)
    if fit_key is None:
        raise CannotWrite("the plan has neither week: nor fit:")
    at = fit_key.start_mark.line
    while at > 0 and lines[at - 1].lstrip().startswith("#"):
        at -= 1  # comments just above fit: belong to it
    return "".join(lines[:at]) + block + newline + "".join(lines[at:])


def _last_line(value: Node, lines: list[str]) -> int:
    """The last line the value occupies; the rest of that line may only be a comment."""
    end = _end(value)
    line, column = end.line, end.column
    if column == 0 and line > 0:  # a block ends where the next line begins
        line -= 1
        # back over blank and comment lines: they belong to what follows
        while line > value.start_mark.line and (
            not lines[line].strip() or lines[line].lstrip().startswith("#")
        ):
            line -= 1
        return line
    rest = lines[line][column:].strip()
    if rest and not rest.startswith("#"):
        raise CannotWrite(f"line {line + 1}: more than the week on its last line")
    return line


def _end(node: Node) -> Mark:
    """Where a node's own text ends (for a block mapping: where its last value ends)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    return node.end_mark


def check_written(old: Plan, text: str, week: Sequence[Sequence[Entry]], source: str) -> Plan:
    """The new text read back: the same plan as before, but for its week, which is `week`."""
    new = parse_plan(text, source)
    if new.week != tuple(tuple(day) for day in week):
        raise CannotWrite("the week read back is not the week fitted")
    if replace(new, week=old.week, source=old.source) != old:
        raise CannotWrite("something other than the week changed")
    return new


__all__ = ["CannotWrite", "MARK", "check_written", "render_week", "with_week"]
