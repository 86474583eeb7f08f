"""The current instant enters calsync in one place (calsync/clock.py) and follows one order:
--now, then refresh's --today, then SOURCE_DATE_EPOCH, then the system clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.errors import BadInput
from calsync.io import clock

PACKAGE = Path(__file__).resolve().parent.parent / "calsync"
TEMPLATE = PACKAGE.parent / "templates" / "hybrid-hypertrophy.yaml"
BRUSSELS = ZoneInfo("Europe/Brussels")


def test_now_wins_over_source_date_epoch() -> None:
    pinned = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert clock.instant(pinned, BRUSSELS, {"SOURCE_DATE_EPOCH": "0"}) == pinned


def test_a_now_without_offset_is_read_in_the_plans_zone() -> None:
    assert clock.instant(datetime(2026, 12, 7, 6, 0), BRUSSELS, {}) == datetime(
        2026, 12, 7, 5, 0, tzinfo=UTC
    )


def test_source_date_epoch_wins_over_the_system_clock() -> None:
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False):
        found = clock.instant(None, BRUSSELS, {"SOURCE_DATE_EPOCH": "1796101200"})
    assert found == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_the_system_clock_comes_last_to_the_second() -> None:
    with time_machine.travel(datetime(2027, 3, 28, 1, 30, 15, 999, tzinfo=UTC), tick=False):
        assert clock.instant(None, BRUSSELS, {}) == datetime(2027, 3, 28, 1, 30, 15, tzinfo=UTC)


def test_today_in_is_the_athletes_date_not_the_machines() -> None:
    late_in_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already Monday in Brussels
    assert clock.today_in(late_in_utc, BRUSSELS).isoformat() == "2026-12-07"


def test_a_bad_source_date_epoch_is_bad_input() -> None:
    with pytest.raises(BadInput, match="SOURCE_DATE_EPOCH='next week' is not a time"):
        clock.instant(None, BRUSSELS, {"SOURCE_DATE_EPOCH": "next week"})


def test_a_bad_source_date_epoch_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(
        cli, ["show", str(TEMPLATE)], env={"SOURCE_DATE_EPOCH": "yesterday"}
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "SOURCE_DATE_EPOCH" in result.output


@pytest.mark.parametrize(
    ("now", "first_week"),
    [
        ("2026-12-02T10:00", "Mon 30 Nov"),
        ("2026-12-06T23:30", "Mon 30 Nov"),  # Sunday night in Brussels
        ("2026-12-06T23:30+00:00", "Mon 07 Dec"),  # already Monday in Brussels
    ],
)
def test_show_starts_on_the_monday_of_the_week_now_falls_in(now: str, first_week: str) -> None:
    result = CliRunner().invoke(cli, ["show", str(TEMPLATE), "--weeks", "1", "--now", now])
    assert result.exit_code == 0, result.output
    assert f": {first_week} - " in result.output.splitlines()[0]


def _clock_calls(tree: ast.AST) -> list[str]:
    """Calls that read the machine's clock: datetime.now/utcnow/today, date.today, time.time."""
    readers = {"now", "utcnow", "today", "time", "time_ns"}
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in readers
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date", "time"}
        ):
            found.append(f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}")
    return found


def test_only_the_clock_module_reads_the_clock() -> None:
    readers = {
        path.name: calls
        for path in sorted(PACKAGE.glob("**/*.py"))
        if (calls := _clock_calls(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert list(readers) == ["clock.py"] and len(readers["clock.py"]) == 1


@pytest.mark.any_date
def test_every_frozen_clock_reaches_calsync(frozen_clock: datetime | None) -> None:
    """The frozen runs of the any_date modules are real: calsync sees the frozen instant."""
    found = clock.instant(None, BRUSSELS, {})
    if frozen_clock is not None:
        assert frozen_clock <= found < frozen_clock + timedelta(minutes=1)
    else:
        assert found.year >= 2026


def test_no_date_dependent_library_warning_reaches_the_user() -> None:
    """google-api-core warns on import once the running Python nears its end of life; a
    user must not see that (it is not about their week) on any date."""
    from google.api_core import _python_version_support as support

    info = support.PYTHON_VERSION_INFO.get(sys.version_info[:2])
    if info is None:
        pytest.skip("google-api-core has no end-of-life date for this Python")
    later = info.python_eol + timedelta(days=30)
    program = f"""
import datetime, sys, warnings, time_machine
time_machine.travel(datetime.datetime({later.year}, {later.month}, {later.day})).start()
import calsync.targets.google
sys.stderr.write("IMPORTED\\n")
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    from google.api_core._python_version_support import check_python_version
    check_python_version()
print(len(seen))
"""
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # on that date the library does warn...
    assert done.stderr.split("IMPORTED")[0] == ""  # ...but importing calsync shows nothing
