"""Random plans a person could write, and ranges and busy time to expand them over: the
hypothesis strategies the property tests share."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from calsync.core.loader import parse_plan
from calsync.core.model import WEEKDAYS, Busy, Plan
from calsync.core.rules import CATALOGUE

ZONES = ["Europe/Brussels", "America/New_York", "UTC", "Australia/Sydney"]
# Mondays, some of them in the week of a daylight-saving change
STARTS = [date(2026, 11, 30), date(2027, 3, 8), date(2027, 3, 22), date(2027, 10, 25)]
KINDS = ["strength", "ride", "run", "swim", "mobility", "other"]
LOADS = ["easy", "moderate", "hard"]
LEVELS = ["error", "warn", "off"]
RULE_IDS = [rule.id for rule in CATALOGUE]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plans(draw) -> str:
    """The text of a random, valid plan."""
    lines = [
        "plan: random-plan",
        f"timezone: {draw(st.sampled_from(ZONES))}",
        f"starts: {draw(st.sampled_from(STARTS)).isoformat()}",
        f"goal: {draw(st.sampled_from(['hypertrophy', 'endurance', 'balanced']))}",
    ]
    windows = {}
    for name in draw(
        st.lists(st.sampled_from(["early", "lunch", "evening"]), unique=True, max_size=2)
    ):
        opens = draw(st.integers(5 * 4, 20 * 4)) * 15
        closes = min(opens + draw(st.integers(2, 24)) * 15, 23 * 60 + 59)
        windows[name] = f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
    if windows:
        lines.append("windows:")
        lines += [f'  {name}: "{span}"' for name, span in windows.items()]
    names = [f"s{i}" for i in range(draw(st.integers(1, 5)))]
    lines.append("sessions:")
    for name in names:
        kind = draw(st.sampled_from(KINDS))
        minutes = draw(st.integers(1, 36)) * 5
        focus = ", focus: legs" if kind == "strength" and draw(st.booleans()) else ""
        lines.append(
            f"  {name}: {{kind: {kind}, title: Session {name}, duration: {minutes}m, "
            f"load: {draw(st.sampled_from(LOADS))}{focus}}}"
        )
    lines.append("week:")
    for day in WEEKDAYS:
        entries = []
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(names))
            if windows and draw(st.booleans()):
                entries.append(f"{name} {draw(st.sampled_from(sorted(windows)))}")
            else:
                hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))
                entries.append(f"{name} {hour:02d}:{minute:02d}")
        lines.append(f"  {day}: [{', '.join(entries)}]" if entries else f"  {day}: rest")
    rules = draw(st.dictionaries(st.sampled_from(RULE_IDS), st.sampled_from(LEVELS)))
    gap = draw(st.sampled_from([None, "1h", "2h", "4h"]))
    if rules or gap:
        lines.append("rules:")
        lines += [f"  {rule}: {level}" for rule, level in rules.items() if rule != "gap"]
        gap_level = rules.get("gap", "error")
        if gap:
            lines.append(f"  gap: {{min: {gap}, level: {gap_level}}}")
        elif "gap" in rules:
            lines.append(f"  gap: {gap_level}")
    if draw(st.booleans()):
        lines.append("cycle:")
        for i in range(draw(st.integers(1, 3))):
            factor = draw(
                st.sampled_from(["", ", scale: {strength: 0.6, ride: 0.8}", ", scale: {run: 1.2}"])
            )
            lines.append(f"  - {{name: phase{i}, weeks: {draw(st.integers(1, 3))}{factor}}}")
    return "\n".join(lines) + "\n"


@st.composite
def cases(draw) -> tuple[Plan, date, date, tuple[Busy, ...]]:
    plan = parse_plan(draw(plans()), "random.yaml")
    start = plan.starts + timedelta(days=draw(st.integers(-10, 40)))
    end = start + timedelta(days=draw(st.integers(0, 30)))
    zone = ZoneInfo(plan.timezone)
    busy = []
    for _ in range(draw(st.integers(0, 3))):
        day = start + timedelta(days=draw(st.integers(0, max(0, (end - start).days))))
        begins = datetime.combine(day, time(draw(st.integers(6, 20))), tzinfo=zone)
        busy.append(Busy(begins, begins + timedelta(minutes=draw(st.integers(1, 12)) * 15)))
    return plan, start, end, tuple(busy)
