"""The weekly training load as text for people and JSON for scripts.

`show` ends each week with `week_summary` (two lines); `check` and `validate`
end with `load_table` (one line a week, so the trend reads down a column);
`check --json` and `plan --json` carry `load_json`. The numbers are the same
everywhere: those of `calsync.core.load`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from calsync.core.expand import cycle_weeks
from calsync.core.load import RPE, WeekLoad, weekly_load
from calsync.core.model import Plan, Schedule
from calsync.core.rules import lighter_weeks, max_heavy_run
from calsync.core.units import format_duration

BAR = 12  # characters of the longest bar in the table


def schedule_weeks(schedule: Schedule) -> tuple[WeekLoad, ...]:
    return weekly_load(schedule.occurrences, schedule.start, schedule.end, schedule.plan.starts)


# --- numbers as they are printed (JSON and text round the same way) ------------------------


def _load(value: float) -> float:
    return round(value, 1) if value != int(value) else int(value)


def _monotony(week: WeekLoad) -> float | None:
    return None if week.monotony is None else round(week.monotony, 2)


def _strain(week: WeekLoad) -> int | None:
    return None if week.strain is None else round(week.strain)


def _change(week: WeekLoad) -> float | None:
    return None if week.change is None else round(week.change, 3)


def _hours(minutes: float) -> str:
    return format_duration(timedelta(minutes=round(minutes)))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


# --- JSON ------------------------------------------------------------------------------------


def week_json(week: WeekLoad) -> dict[str, Any]:
    return {
        "week": week.week,
        "phase": week.phase,
        "from": week.first.isoformat(),
        "days": week.days,
        "minutes": {kind.value: m for kind, m in week.minutes_by_kind},
        "sessions": week.sessions,
        "hard_days": week.hard_days,
        "double_days": week.double_days,
        "closest_gap_minutes": (
            None if week.closest_gap is None else int(week.closest_gap.total_seconds() // 60)
        ),
        "rest_days": week.rest_days,
        "daily_load": [_load(d) for d in week.daily],
        "load": _load(week.load),
        "monotony": _monotony(week),
        "strain": _strain(week),
        "change": _change(week),
    }


def load_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "unit": "session RPE x minutes (AU)",
        "rpe": {load.value: rpe for load, rpe in RPE.items()},
        "weeks": [week_json(w) for w in schedule_weeks(schedule)],
    }


# --- text ------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _mono_text(week: WeekLoad) -> str:
    if not week.whole:
        return f"part week ({week.days} of 7 days): no monotony"
    if week.monotony is None:
        return "monotony unbounded (every day the same load)" if week.load else "no load"
    return f"monotony {_monotony(week):.2f}, strain {_strain(week):,}"


def _change_text(week: WeekLoad) -> str:
    if week.change is None:
        return ""
    pct = round(week.change * 100)
    return "; same as the week before" if pct == 0 else f"; {pct:+d}% on the week before"


def week_summary(week: WeekLoad) -> list[str]:
    """Two lines a coach reads at a glance: the week's shape, then its load."""
    kinds = ", ".join(f"{kind.value} {_hours(m)}" for kind, m in week.minutes_by_kind)
    gap = (
        f" (closest {format_duration(week.closest_gap) if week.closest_gap else '0m'} apart)"
        if week.closest_gap is not None
        else ""
    )
    shape = (
        f"Load  {_hours(week.total_minutes)}"
        + (f": {kinds}" if kinds else "")
        + f"; {_plural(week.hard_days, 'hard day')}, {_plural(week.double_days, 'double day')}"
        + f"{gap}, {_plural(week.rest_days, 'rest day')}"
    )
    cost = f"      {_number(_load(week.load))} AU, {_mono_text(week)}{_change_text(week)}"
    return [shape, cost]


def trend_line(weeks: Sequence[WeekLoad]) -> str | None:
    """The weeks' loads in a row, lighter weeks with their drop: what `show` ends with."""
    if len(weeks) < 2:
        return None
    steps = []
    for w in weeks:
        drop = (
            f" ({w.phase + ', ' if w.phase else ''}{round(w.change * 100):+d}%)"
            if w.change is not None and round(w.change * 100) < 0
            else ""
        )
        steps.append(f"{_number(_load(w.load))}{drop}")
    return "Load by week (AU): " + " → ".join(steps)


def load_table(weeks: Sequence[WeekLoad]) -> list[str]:
    """One line a week: the trend (build weeks, then the deload dropping) reads down a column."""
    if not weeks:
        return []
    top = max((w.load for w in weeks), default=0) or 1
    rows = [
        "Load by week (session RPE x minutes, AU; "
        + ", ".join(f"{load.value} = RPE {rpe}" for load, rpe in RPE.items())
        + "):",
        f"  {'week':>4}  {'phase':<8} {'time':>6} {'hard':>4} {'double':>6} {'rest':>4} "
        f"{'load':>7} {'monotony':>8} {'strain':>7} {'change':>6}",
    ]
    for w in weeks:
        mono = "-" if _monotony(w) is None else f"{_monotony(w):.2f}"
        strain = "-" if _strain(w) is None else f"{_strain(w):,}"
        change = "-" if w.change is None else f"{round(w.change * 100):+d}%"
        bar = "#" * max(1 if w.load else 0, round(BAR * w.load / top))
        part = "" if w.whole else f"  ({w.days} of 7 days)"
        rows.append(
            f"  {w.week:>4}  {(w.phase or '-'):<8} {_hours(w.total_minutes):>6} {w.hard_days:>4} "
            f"{w.double_days:>6} {w.rest_days:>4} {_number(_load(w.load)):>7} {mono:>8} "
            f"{strain:>7} {change:>6}  {bar}{part}"
        )
    return rows


def cycle_line(plan: Plan) -> str:
    """What validate says about the cycle's lighter weeks, by the deload rule's own measure."""
    setting = plan.rule("deload")
    cut: float = setting.param("cut")  # type: ignore[assignment]
    longest: int = setting.param("max")  # type: ignore[assignment]
    cycle = cycle_weeks(plan)
    light = lighter_weeks(cycle, cut)
    heaviest = max((w.load for w in cycle), default=0)
    if not any(light):
        why = (
            "the plan has no cycle, so every week carries the same load"
            if len(cycle) == 1
            else f"no week of the {len(cycle)}-week cycle is {cut:.0%} lighter than the heaviest"
        )
        return f"Deload: none: {why}; the deload rule warns from week {longest + 1}"
    weeks = ", ".join(
        f"week {i + 1} ({w.phase or '-'}) {1 - w.load / heaviest:.0%} lighter"
        for i, (w, is_light) in enumerate(zip(cycle, light, strict=True))
        if is_light
    )
    return (
        f"Deload: {weeks} than the heaviest week of the {len(cycle)}-week cycle; "
        f"at most {max_heavy_run(light)} heavy weeks in a row (the deload rule allows {longest})"
    )
