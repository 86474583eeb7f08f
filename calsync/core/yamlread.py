"""YAML read with positions: nodes that keep their lines, and problems that name them.

The YAML is composed into nodes rather than loaded into Python objects, so that
every value keeps the line it came from (for messages like
`plan.yaml:14: week.tue[1]: unknown session 'z3'`) and so that YAML 1.1's
surprises (`10:00` read as the number 600) never reach the plan: scalars are
read from their source text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from calsync.core.problems import InvalidValue, Problem
from calsync.errors import PlanError

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

# libyaml's parser when PyYAML was built with it: the same nodes and marks, 10x faster.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class NodeReader:
    """Reads the shapes of YAML nodes; each mistake becomes a Problem at its node's line."""

    def __init__(self, source: str) -> None:
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
            self.fail(node, path, f"expected a mapping, found {describe(node)}")
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
            self.fail(node, path, f"expected text, found {describe(node)}")
            return None
        value: str = node.value  # a scalar node's value is its source text
        return value.strip()

    def integer(self, node: Node, path: str, low: int, high: int) -> int | None:
        value = self.text(node, path)
        if value is None:
            return None
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            self.fail(node, path, f"expected a whole number from {low} to {high}, found '{value}'")
            return None
        return int(value)

    def choice(self, node: Node, path: str, enum: type[E]) -> E | None:
        value = self.text(node, path)
        if value is None:
            return None
        try:
            return enum(value.lower())
        except ValueError:
            names = ", ".join(str(member.value) for member in enum)
            self.fail(node, path, f"unknown value '{value}' (expected one of: {names})")
            return None

    def parsed(self, node: Node, path: str, parse: Callable[[str], T]) -> T | None:
        value = self.text(node, path)
        return None if value is None else self.attempt(node, path, lambda: parse(value))

    def items(self, node: Node, path: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"expected a list, found {describe(node)}")
            return None
        return list(node.value)


def all_read(values: Iterable[T | None]) -> tuple[T, ...] | None:
    """The values, or None when one could not be read (its problem is reported already)."""
    read = tuple(values)
    kept = tuple(value for value in read if value is not None)
    return kept if len(kept) == len(read) else None


def describe(node: Node | None) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "nothing"
    return f"'{node.value}'"


def yaml_problem(source: str, text: str, err: yaml.YAMLError) -> Problem:
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


def compose(text: str, source: str) -> Node | None:
    """The root node of a YAML text (None when it holds nothing), or a PlanError."""
    try:
        root: Node | None = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        # PyYAML's own parser says more (it names the character), so a broken
        # file is parsed again with it for the message.
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as err:
            raise PlanError([yaml_problem(source, text, err)]) from None
    except RecursionError:
        raise PlanError([Problem(source, 1, "", "invalid YAML: nested too deeply")]) from None
    return root


def plain(node: Node) -> object:
    """A parameter's value as a YAML reader would give it, but with scalars kept as text."""
    if isinstance(node, SequenceNode):
        return [plain(item) for item in node.value]
    if isinstance(node, MappingNode):
        return {k.value: plain(v) for k, v in node.value}
    if node.tag.endswith(":int") and re.fullmatch(r"\d+", node.value):
        return int(node.value)
    return node.value
