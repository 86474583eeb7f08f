"""The 0/1 linear model `fit` builds, independent of the solver that runs it: choice
variables, rows, and one `Potential` per conflict the catalogue could report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from calsync.core.fit.problem import Item
from calsync.core.model import Busy, Level, RuleParams

Members = Callable[[Sequence[bool]], tuple[Item, ...]]  # the sessions a conflict names
ByDay = Mapping[int, tuple[Item, ...]]  # offset from Monday (-1: the day before) -> items
Params = RuleParams


@dataclass(frozen=True)
class Clause:
    present: tuple[int, ...]  # variables that must all be 1
    absent: tuple[int, ...] = ()  # variables that must all be 0


@dataclass
class Potential:
    rule: str
    level: Level
    offset: int  # the day it is dated on, from Monday
    clauses: tuple[Clause, ...] = ()
    counted: tuple[int, ...] = ()  # threshold form
    limit: int = 0
    members: Members = field(default=lambda chosen: ())
    busy: tuple[Busy, ...] = ()
    var: int = -1


@dataclass
class Model:
    """A 0/1 linear model, independent of the solver that runs it."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[tuple[list[tuple[int, float]], float, float]] = field(default_factory=list)
    items: tuple[Item, ...] = ()
    potentials: list[Potential] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # want -> item variables
    shortfall: dict[str, int] = field(default_factory=dict)  # want -> sessions below its min
    excess: dict[str, int] = field(default_factory=dict)  # want -> sessions above its max
    elastic: bool = False

    def var(self, lower: float = 0, upper: float = 1) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def row(self, terms: list[tuple[int, float]], low: float, high: float) -> None:
        self.rows.append((terms, low, high))

    def any_of(self, variables: Sequence[int]) -> int:
        """A variable that is 1 exactly when one of `variables` is."""
        u = self.var()
        for v in variables:
            self.row([(u, 1), (v, -1)], 0, INF)
        self.row([(u, 1), *((v, -1) for v in variables)], -INF, 0)
        return u

    @property
    def size(self) -> int:
        return len(self.lower)


INF = float("inf")
