"""The command line, through click's runner, and once through the installed console script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from calsync.cli.main import cli

pytestmark = pytest.mark.any_date  # see tests/conftest.py

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
FROM = ["--from", "2026-11-30"]

# A ride squeezed in 45 minutes after the leg session: the gap rule (an error) is broken.
TOO_CLOSE = """\
plan: too-close
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  legs: {kind: strength, title: Legs, duration: 75m, load: hard, focus: legs}
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  mon: [legs 10:00, z2 12:00]
"""


def calsync(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


# --- validate ---------------------------------------------------------------------------------------


def test_validate_the_template_exits_0_and_prints_its_warnings() -> None:
    result = calsync("validate", TEMPLATE)
    assert result.exit_code == 0, result.output
    assert (
        "plan 'hybrid-hypertrophy' (Training), Europe/Brussels, goal hypertrophy" in result.stdout
    )
    assert "cycle: build 3w, deload 1w; 2 exceptions" in result.stdout
    assert "0 errors, 6 warnings" in result.stdout
    # the three Fridays are one line; two of the Mondays have their own hint
    assert result.stdout.count("hypertrophy-ride") == 1
    assert "every Fri from 4 Dec to 18 Dec 2026  hypertrophy-ride" in result.stdout
    assert result.stdout.count("hard-then-easy") == 2
    assert "hint: shorten 'Zone 2 ride' to an easy 20m" in result.stdout


def test_validate_fail_on_warn_makes_warnings_exit_3() -> None:
    result = calsync("validate", TEMPLATE, "--fail-on", "warn")
    assert result.exit_code == 3


def test_validate_a_plan_with_an_error_level_conflict_exits_3(write_plan) -> None:
    result = calsync("validate", write_plan(TOO_CLOSE))
    assert result.exit_code == 3
    assert "4 errors, 0 warnings" in result.stdout, "one on each Monday of the four weeks checked"
    assert "move 'Zone 2 ride' to 15:15, or move it to Tuesday 12:00" in result.stdout


def test_validate_a_plan_whose_error_is_switched_to_warn_exits_0(write_plan) -> None:
    result = calsync("validate", write_plan(TOO_CLOSE + "rules:\n  gap: warn\n"))
    assert result.exit_code == 0
    assert "0 errors, 4 warnings" in result.stdout


# --- show -----------------------------------------------------------------------------------------------


def test_show_prints_a_week_grid_with_days_times_titles_phase_and_marks() -> None:
    result = calsync("show", TEMPLATE, *FROM)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Week 1 (build): Mon 30 Nov - Sun 06 Dec 2026" in out
    assert "Week 4 (deload): Mon 21 Dec - Sun 27 Dec 2026" in out
    assert re.search(r"Mon 30\s+10:00-11:15\s+Legs: squat, RDL, curls", out)
    assert re.search(r"Sat 05\s+rest", out)
    # the Friday ride is marked with its warning and shows the window it was placed in
    assert re.search(r"17:00-18:00 W Zone 2 ride .*\[evening\]", out)
    assert re.search(r"Fri 25\s+rest", out), "Christmas is a rest day"
    assert "37 sessions from Mon 2026-11-30 to Sun 2026-12-27: 0 errors, 6 warnings" in out


def test_show_weeks_limits_the_grid() -> None:
    result = calsync("show", TEMPLATE, *FROM, "--weeks", "1")
    assert "Week 1 (build)" in result.stdout
    assert "Week 2" not in result.stdout
    assert "10 sessions" in result.stdout


def test_show_marks_an_error_with_e(write_plan) -> None:
    result = calsync("show", write_plan(TOO_CLOSE), *FROM, "--weeks", "1")
    assert result.exit_code == 3
    assert re.search(r"12:00-13:00 E Zone 2 ride", result.stdout)


def test_a_date_that_is_not_iso_is_a_usage_error() -> None:
    result = calsync("show", TEMPLATE, "--from", "30/11/2026")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- check ---------------------------------------------------------------------------------------------


def test_check_prints_a_conflict_table_and_totals() -> None:
    result = calsync("check", TEMPLATE, *FROM)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warn  every Fri from 4 Dec to 18 Dec 2026  hypertrophy-ride")
    assert lines[1].strip().startswith("hint: ")
    totals = lines.index("37 sessions from Mon 2026-11-30 to Sun 2026-12-27: 0 errors, 6 warnings")
    assert lines[totals + 2].startswith("Load by week")  # then the load table, after a blank


def test_check_json_is_a_documented_machine_readable_report() -> None:
    result = calsync("check", TEMPLATE, *FROM, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["calsync"] == 1
    assert doc["plan"] == {
        "id": "hybrid-hypertrophy",
        "title": "Training",
        "timezone": "Europe/Brussels",
        "goal": "hypertrophy",
    }
    assert (doc["from"], doc["to"]) == ("2026-11-30", "2026-12-27")
    assert doc["summary"] == {"sessions": 37, "errors": 0, "warnings": 6}
    assert "sessions" not in doc
    assert [(c["rule"], c["level"], c["date"]) for c in doc["conflicts"]][:2] == [
        ("hypertrophy-ride", "warn", "2026-12-04"),
        ("hard-then-easy", "warn", "2026-12-07"),
    ]
    friday = doc["conflicts"][0]
    assert "on a leg day" in friday["message"]
    assert friday["hint"] == "shorten 'Zone 2 ride' to an easy 20m, or move it to Wednesday 15:00"
    assert friday["sessions"] == [
        {
            "key": "hybrid-hypertrophy/2026-12-04/legs",
            "title": "Legs: squat, RDL, curls",
            "start": "2026-12-04T10:00:00+01:00",
            "end": "2026-12-04T11:15:00+01:00",
        },
        {
            "key": "hybrid-hypertrophy/2026-12-04/z2",
            "title": "Zone 2 ride",
            "start": "2026-12-04T17:00:00+01:00",
            "end": "2026-12-04T18:00:00+01:00",
        },
    ]


def test_check_json_exits_3_on_an_error(write_plan) -> None:
    result = calsync("check", write_plan(TOO_CLOSE), *FROM, "--weeks", "1", "--json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["summary"]["errors"] == 1
    assert doc["conflicts"][0]["rule"] == "gap"


# --- plan --json -----------------------------------------------------------------------------------------


def test_plan_json_lists_every_session_with_key_uid_and_times_with_offsets() -> None:
    result = calsync("plan", TEMPLATE, *FROM, "--weeks", "1", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    sessions = doc["sessions"]
    assert len(sessions) == 10
    first = sessions[0]
    assert first["key"] == "hybrid-hypertrophy/2026-11-30/legs"
    assert first["uid"] == "hybrid-hypertrophy-2026-11-30-legs@calsync"
    assert (first["start"], first["end"]) == (
        "2026-11-30T10:00:00+01:00",
        "2026-11-30T11:15:00+01:00",
    )
    assert (first["title"], first["phase"], first["week"]) == (
        "Legs: squat, RDL, curls",
        "build",
        1,
    )
    assert datetime.fromisoformat(first["start"]).utcoffset() == timedelta(hours=1)
    assert len({s["uid"] for s in sessions}) == 10
    assert doc["conflicts"][0]["rule"] == "hypertrophy-ride"


def test_plan_json_shows_the_deload_phase() -> None:
    result = calsync("plan", TEMPLATE, "--from", "2026-12-21", "--weeks", "1", "--json")
    sessions = json.loads(result.stdout)["sessions"]
    assert {s["phase"] for s in sessions} == {"deload"}
    assert sessions[0]["duration_minutes"] == 45


def test_plan_without_json_prints_the_same_json() -> None:
    assert (
        calsync("plan", TEMPLATE, *FROM).stdout == calsync("plan", TEMPLATE, *FROM, "--json").stdout
    )


def test_from_defaults_to_the_monday_of_this_week() -> None:
    today = date.today()
    this_monday = today - timedelta(days=today.weekday())
    result = calsync("check", TEMPLATE, "--json")
    doc = json.loads(result.stdout)
    assert doc["from"] == this_monday.isoformat()
    assert doc["to"] == (this_monday + timedelta(weeks=4, days=-1)).isoformat()


# --- templates and init ---------------------------------------------------------------------------------------


def test_templates_lists_the_four_shipped_plans_with_who_they_are_for() -> None:
    result = calsync("templates")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["cycling-first", "hybrid-hypertrophy", "rider-fit", "run-lift-ride"]
    assert "for a rider who lifts for muscle growth" in result.stdout


def test_init_copies_a_template(tmp_path: Path, templates_dir: Path) -> None:
    target = tmp_path / "my-plan.yaml"
    result = calsync("init", "cycling-first", target)
    assert result.exit_code == 0
    assert f"wrote {target}" in result.stdout
    assert target.read_text(encoding="utf-8") == (templates_dir / "cycling-first.yaml").read_text(
        encoding="utf-8"
    )
    assert calsync("validate", target).exit_code in (0, 3)


def test_init_into_a_folder_names_the_file_after_the_template(tmp_path: Path) -> None:
    result = calsync("init", "run-lift-ride", tmp_path)
    assert result.exit_code == 0
    assert (tmp_path / "run-lift-ride.yaml").exists()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("my own plan\n", encoding="utf-8")
    result = calsync("init", "hybrid-hypertrophy", target)
    assert result.exit_code == 2
    assert "exists; use --force" in result.stderr
    assert target.read_text(encoding="utf-8") == "my own plan\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("my own plan\n", encoding="utf-8")
    result = calsync("init", "hybrid-hypertrophy", target, "--force")
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("# Hybrid hypertrophy")


def test_init_an_unknown_template_is_bad_input(tmp_path: Path) -> None:
    result = calsync("init", "marathon", tmp_path / "x.yaml")
    assert result.exit_code == 2
    assert "no template 'marathon'" in result.stderr
    assert not (tmp_path / "x.yaml").exists()


# --- the installed console script ------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("calsync") is None, reason="the calsync script is not installed")
def test_the_installed_calsync_script_validates_the_shipped_template() -> None:
    done = subprocess.run(
        [shutil.which("calsync"), "validate", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0 errors, 6 warnings" in done.stdout
    assert done.stderr == ""
