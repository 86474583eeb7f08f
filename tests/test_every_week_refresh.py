"""`fit: {every-week: true}` through a refresh of two targets: each target's weeks are
arranged once, around its own busy time and what it already holds, and nowhere else.

The plan is the shipped rider-fit template with the setting on (tests/test_every_week.py);
the targets are a .ics file and the Google fake's primary calendar, whose meeting is
busy time for the Google target only. Every run is pinned to Monday 7 December 2026.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import calsync.core.fit.weekly as weekly
from calsync.cli.main import cli
from calsync.core.expand import expand
from calsync.core.model import Busy
from calsync.core.weekly import arranged
from calsync.io.plans import load_plan
from fakes.fakegoogle import FakeGoogleCalendar, write_token
from tests.plan_texts import every_week_text

MONDAY = date(2026, 12, 7)
WEEKS = 4
CONFIG = f"""plan = "plan.yaml"
weeks = {WEEKS}

[[target]]
type = "ics"
path = "training.ics"

[[target]]
type = "google"
token = "token.json"
calendar = "primary"
busy = ["primary"]
"""


@dataclass(frozen=True)
class Arranging:
    """One call of the week-by-week arrangement: its range and the busy time it was given."""

    start: date
    end: date
    busy: tuple[str, ...]


@dataclass
class Solver:
    arrangings: list[Arranging]
    weeks: Counter[date]  # each week solved, by its Monday


@pytest.fixture
def solver(monkeypatch: pytest.MonkeyPatch) -> Solver:
    """Counts every arrangement and every week solved, through the real solver."""
    seen = Solver([], Counter())
    arrange, solve = weekly.arrange_weeks, weekly._solve

    def counting_arrange(
        plan: Any, start: date, end: date, busy: Sequence[Busy], *rest: Any
    ) -> Any:
        seen.arrangings.append(Arranging(start, end, tuple(b.title for b in busy)))
        return arrange(plan, start, end, busy, *rest)

    def counting_solve(problem: Any, *rest: Any) -> Any:
        seen.weeks[problem.monday] += 1
        return solve(problem, *rest)

    monkeypatch.setattr(weekly, "arrange_weeks", counting_arrange)
    monkeypatch.setattr(weekly, "_solve", counting_solve)
    return seen


def test_each_target_of_a_refresh_arranges_its_weeks_once(
    tmp_path: Path, google_fake: FakeGoogleCalendar, solver: Solver
) -> None:
    (tmp_path / "plan.yaml").write_text(every_week_text(), encoding="utf-8")
    (tmp_path / "refresh.toml").write_text(CONFIG, encoding="utf-8")
    write_token(tmp_path / "token.json")
    wednesday = MONDAY + timedelta(days=2)
    google_fake.add_event(
        "primary",
        {
            "summary": "Board dinner",
            "start": {"dateTime": f"{wednesday}T19:00:00+01:00"},
            "end": {"dateTime": f"{wednesday}T22:00:00+01:00"},
        },
    )
    env = {"CALSYNC_GOOGLE_ENDPOINT": google_fake.root_url}
    command = ["refresh", "--config", str(tmp_path / "refresh.toml")]
    command += ["--today", MONDAY.isoformat(), "--now", f"{MONDAY}T04:00:00+00:00"]
    end = MONDAY + timedelta(weeks=WEEKS)
    mondays = [MONDAY + timedelta(weeks=n) for n in range(WEEKS)]

    # The first run writes both; the second finds the .ics file and the events it left.
    for run in ("first", "second"):
        solver.arrangings.clear()
        solver.weeks.clear()

        result = CliRunner().invoke(cli, command, env=env)

        assert result.exit_code == 0, (run, result.output)
        # The .ics target has no busy time; Google's is its calendar's meeting.
        assert solver.arrangings == [
            Arranging(MONDAY, end, ()),
            Arranging(MONDAY, end, ("Board dinner",)),
        ], run
        assert solver.weeks == Counter({m: 2 for m in mondays}), run  # once a target
    assert (tmp_path / "training.ics").read_text(encoding="utf-8").count("BEGIN:VEVENT") == 36


def test_the_plans_conflicts_are_those_of_the_weeks_its_targets_hold(tmp_path: Path) -> None:
    """In rider-fit's first week its usual week has no Sunday before it, so the week the
    .ics file gets is not the plan's `week:`; the expansion's warning on Friday 4 December
    is in no target, and is not reported."""
    first = date(2026, 11, 30)
    (tmp_path / "plan.yaml").write_text(every_week_text(), encoding="utf-8")
    config = f'plan = "plan.yaml"\nweeks = {WEEKS}\n\n[[target]]\ntype = "ics"\npath = "t.ics"\n'
    (tmp_path / "refresh.toml").write_text(config, encoding="utf-8")
    command = ["refresh", "--config", str(tmp_path / "refresh.toml"), "--json"]
    command += ["--today", first.isoformat(), "--now", f"{first}T04:00:00+00:00"]
    plan = load_plan(tmp_path / "plan.yaml")
    end = first + timedelta(weeks=WEEKS)
    held = arranged(plan, first, end, not_before=datetime.fromisoformat(f"{first}T04:00+00:00"))
    written = expand(plan, first, end)

    result = CliRunner().invoke(cli, command)

    assert result.exit_code == 0, result.output
    said = [(c["rule"], c["date"], c["message"]) for c in json.loads(result.output)["conflicts"]]
    assert said == [(c.rule, c.date.isoformat(), c.message) for c in held.conflicts]
    assert ("hard-then-easy", date(2026, 12, 4)) in {(c.rule, c.date) for c in written.conflicts}
    assert "2026-12-04" not in {d for _, d, _ in said}
