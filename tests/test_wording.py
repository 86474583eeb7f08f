"""Wording a new user reads: one vocabulary, whole sentences, and a word on what is right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import time_machine
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from tests.fakegoogle import FakeGoogleCalendar
from tests.google_helpers import write_token

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = str(ROOT / "templates" / "hybrid-hypertrophy.yaml")
ONE_SESSION = """\
plan: one
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  tue: [z2 18:00]
"""
# Two double days a week, every gap 8 h 45 min, strength first, two rest days
GOOD_WEEK = """\
plan: good-week
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  legs:  {kind: strength, title: Legs, duration: 75m, load: hard, focus: legs}
  upper: {kind: strength, title: Upper body, duration: 1h, load: moderate}
  z2:    {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  mon: [legs 08:00, z2 18:00]
  tue: [z2 18:00]
  wed: [upper 08:15, z2 18:00]
  thu: rest
  fri: [legs 08:00, z2 18:00]
  sat: [upper 09:00, z2 18:45]
  sun: rest
"""


def calsync(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


# --- 16. show from a date before the plan starts -----------------------------------------------


def test_show_before_the_start_says_when_the_plan_starts_and_shows_from_there() -> None:
    result = calsync("show", TEMPLATE, "--from", "2026-11-18", "--weeks", "2")
    lines = result.stdout.splitlines()
    assert lines[0] == "The plan starts on Mon 30 Nov 2026: showing from there."
    assert lines[2] == "Week 1 (build): Mon 30 Nov - Sun 06 Dec 2026"
    assert "before the plan starts" not in result.stdout
    assert any(
        line.startswith("20 sessions from Mon 2026-11-30 to Sun 2026-12-13") for line in lines
    )


# --- 18. wording ---------------------------------------------------------------------------------


def test_one_session_is_not_one_sessions(write_plan) -> None:
    result = calsync("validate", write_plan(ONE_SESSION))
    assert "1 session in the library, 1 a week" in result.stdout
    assert "1 sessions" not in result.stdout
    week = calsync("check", write_plan(ONE_SESSION), "--from", "2026-11-30", "--weeks", "1")
    assert week.stdout.startswith("1 session from Mon 2026-11-30")


def test_templates_are_described_in_whole_sentences() -> None:
    lines = calsync("templates").stdout.splitlines()
    assert len(lines) >= 3
    assert all(line.rstrip().endswith(".") for line in lines), lines
    assert any("to add aerobic volume with less impact." in line for line in lines)


def test_ics_and_the_sync_targets_count_changes_in_the_same_words(tmp_path: Path) -> None:
    out = tmp_path / "training.ics"
    result = calsync("ics", TEMPLATE, "--from", "2026-11-30", "-o", out, "--now", "2026-11-29")
    assert re.match(rf"wrote {out}: 37 created, 0 updated, 0 unchanged;", result.stderr)
    assert " new," not in result.stderr and " changed," not in result.stderr


def test_sync_json_carries_the_format_version_like_every_json_document(tmp_path: Path) -> None:
    token = write_token(tmp_path / "token.json")
    with FakeGoogleCalendar() as server, time_machine.travel("2026-11-29 12:00 +00:00"):
        result = CliRunner().invoke(
            cli,
            ["sync", "google", TEMPLATE, "--token", str(token), "--from", "2026-11-30"]
            + ["--weeks", "1", "--json", "--dry-run"],
            env={"CALSYNC_GOOGLE_ENDPOINT": server.root_url},
        )
    doc = json.loads(result.stdout)
    assert doc["calsync"] == 1
    assert doc["counts"]["created"] == 10


# --- 20. what was checked and held -------------------------------------------------------------


def test_validate_says_in_one_line_what_was_checked_and_held(write_plan) -> None:
    result = calsync("validate", write_plan(GOOD_WEEK))
    assert result.exit_code == 0
    assert "0 errors, 0 warnings" in result.stdout
    assert result.stdout.splitlines()[3] == (
        "checked: every same-day gap at least 8h45m; strength first on all 16 double days; "
        "at most 2 sessions a day; at least 2 rest days a week; no two hard days in a row"
    )


def test_the_line_names_no_rule_that_has_a_conflict() -> None:
    result = calsync("validate", TEMPLATE)
    checked = [line for line in result.stdout.splitlines() if line.startswith("checked:")]
    assert checked == [
        "checked: every same-day gap at least 5h45m; strength first on all 14 double days; "
        "at most 2 sessions a day; at least 1 rest day a week"
    ]
    assert "hard days" not in checked[0]  # hard-then-easy warns on this plan
