"""The deload rule: a week lighter than the heaviest often enough."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from calsync.core.load import session_load
from calsync.core.model import Conflict, RuleSetting, Session
from calsync.core.rules.common import conflict
from calsync.core.rules.params import DeloadParams


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
    params = setting.typed(DeloadParams)
    longest, cut = params.max, params.cut
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
        yield conflict(
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
