"""One plan, two targets: Google (the test server) and CalDAV (a real Radicale) end up alike.

Both are driven through the command line a user types, with the same plan,
range and busy time, and must hold the same sessions (same keys, times and
titles), report the same conflicts, and keep the same promises on a rerun.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import caldav
import icalendar
import pytest
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.targets.google import KEY
from tests.fakegoogle import FakeGoogleCalendar
from tests.google_helpers import write_token
from tests.radicale_server import RadicaleServer, radicale  # noqa: F401

pytestmark = pytest.mark.any_date  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
RANGE = ("--from", "2026-11-30", "--now", "2026-11-30T00:00", "--weeks", "3")


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    shutil.copy(ROOT / "templates" / "hybrid-hypertrophy.yaml", path)
    return path


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[FakeGoogleCalendar, list[str], dict[str, str]]]:
    token = write_token(tmp_path / "token.json")
    with FakeGoogleCalendar() as server:
        yield server, ["--token", str(token)], {"CALSYNC_GOOGLE_ENDPOINT": server.root_url}


@pytest.fixture
def dav(radicale: RadicaleServer, tmp_path: Path) -> tuple[list[str], dict[str, str]]:  # noqa: F811
    calendar = f"Training {tmp_path.name}"
    options = ["--url", radicale.home, "--calendar", calendar, "--username", radicale.user]
    env = {"CALSYNC_TEST_PASSWORD": radicale.password, "XDG_STATE_HOME": str(tmp_path / "state")}
    return [*options, "--password-env", "CALSYNC_TEST_PASSWORD"], env


def run(*args: str, env: dict[str, str]) -> dict:
    result = CliRunner().invoke(cli, [*args, *RANGE, "--json"], env=env)
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


def google_sessions(server: FakeGoogleCalendar) -> set[tuple[str, datetime, datetime, str]]:
    (calendar,) = [c for c in server.calendar_ids() if c != server.owner]
    found = set()
    for event in server.events(calendar):
        key = event["extendedProperties"]["private"][KEY]
        start = datetime.fromisoformat(event["start"]["dateTime"])
        end = datetime.fromisoformat(event["end"]["dateTime"])
        found.add((key, start, end, event["summary"]))
    return found


def dav_sessions(radicale: RadicaleServer, name: str) -> set[tuple[str, datetime, datetime, str]]:  # noqa: F811
    client = caldav.DAVClient(radicale.home, username=radicale.user, password=radicale.password)
    (calendar,) = [c for c in client.principal().calendars() if c.get_display_name() == name]
    found = set()
    for resource in calendar.events():
        for event in icalendar.Calendar.from_ical(resource.data).walk("VEVENT"):
            start, end = event.decoded("DTSTART"), event.decoded("DTEND")
            found.add((str(event["X-CALSYNC-KEY"]), start, end, str(event["SUMMARY"])))
    return found


def test_google_and_caldav_hold_the_same_sessions_and_report_the_same_conflicts(
    plan: Path,
    google,
    dav,
    radicale: RadicaleServer,  # noqa: F811
) -> None:
    server, google_options, google_env = google
    dav_options, dav_env = dav
    on_google = run("sync", "google", str(plan), *google_options, env=google_env)
    on_dav = run("sync", "caldav", str(plan), *dav_options, env=dav_env)

    assert on_google["counts"]["created"] == on_dav["counts"]["created"] > 0
    assert on_google["conflicts"] == on_dav["conflicts"]
    assert {c["rule"] for c in on_dav["conflicts"]} == {"hypertrophy-ride", "hard-then-easy"}
    calendar_name = dav_options[dav_options.index("--calendar") + 1]
    assert google_sessions(server) == dav_sessions(radicale, calendar_name)


def test_both_make_no_writes_when_nothing_changed_and_only_the_difference_when_a_day_did(
    plan: Path,
    google,
    dav,
    radicale: RadicaleServer,  # noqa: F811
) -> None:
    server, google_options, google_env = google
    dav_options, dav_env = dav
    run("sync", "google", str(plan), *google_options, env=google_env)
    run("sync", "caldav", str(plan), *dav_options, env=dav_env)

    server.reset_counters()
    dav_writes = radicale.writes()
    again = [
        run("sync", "google", str(plan), *google_options, env=google_env),
        run("sync", "caldav", str(plan), *dav_options, env=dav_env),
    ]
    assert server.writes == 0 and radicale.writes() == dav_writes
    assert [a["counts"]["unchanged"] for a in again] == [again[0]["counts"]["unchanged"]] * 2

    plan.write_text(plan.read_text().replace("2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]"))
    changed = [
        run("sync", "google", str(plan), *google_options, env=google_env),
        run("sync", "caldav", str(plan), *dav_options, env=dav_env),
    ]
    # Wednesday's intervals give way to a morning ride. That week then has 3 days hard on
    # the legs, not 4, so a reorder can keep them apart: the hard-then-easy warning in the
    # events it names (Sun 6 Dec, Mon 7 Dec) loses its "no order" clause, and both are
    # updated. (Events carry their conflicts, not the hints that name other days.)
    for report in changed:
        counts = report["counts"]
        assert (counts["created"], counts["updated"], counts["deleted"]) == (1, 2, 1)
    calendar_name = dav_options[dav_options.index("--calendar") + 1]
    assert google_sessions(server) == dav_sessions(radicale, calendar_name)


def test_a_wrong_password_is_one_clear_line_and_exit_1(
    plan: Path,
    dav,
    radicale: RadicaleServer,  # noqa: F811
) -> None:
    dav_options, dav_env = dav
    result = CliRunner().invoke(
        cli,
        ["sync", "caldav", str(plan), *dav_options, *RANGE],
        env={**dav_env, "CALSYNC_TEST_PASSWORD": "wrong-password"},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "wrong-password" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
