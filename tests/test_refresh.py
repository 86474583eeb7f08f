"""`calsync refresh` and `calsync cron`: the unattended weekly job.

Google is the fake server from fakes/fakegoogle.py; dates are simulated with
--today/--now, never by sleeping. Lock tests run the real command in
subprocesses, since the lock is there for separate processes.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from croniter import croniter
from filelock import FileLock
from icalendar import Calendar

from calsync.cli.cron import parse_at
from calsync.cli.main import cli
from calsync.cli.refresh_run import Run, TargetRun
from fakes.fakegoogle import FakeGoogleCalendar
from fakes.radicale_server import RadicaleServer
from tests.google_helpers import write_token

pytestmark = pytest.mark.any_date  # see tests/conftest.py

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Setup:
    """A plan, a token, a config and the environment a refresh runs in."""

    folder: Path
    plan: Path
    config: Path
    ics: Path
    env: dict[str, str]

    def write_config(self, targets: str, weeks: int = 2) -> Path:
        self.config.write_text(f'plan = "plan.yaml"\nweeks = {weeks}\n{targets}', encoding="utf-8")
        return self.config

    def invoke(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli, ["refresh", "--config", str(self.config), *args], env=self.env
        )

    def on(self, day: str, *args: str) -> Result:
        """A refresh as if run at 04:00 UTC on `day`."""
        return self.invoke("--today", day, "--now", f"{day}T04:00:00+00:00", *args)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "calsync.cli.main",
                "refresh",
                "--config",
                str(self.config),
                *args,
            ],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def lock(self) -> Path:
        return Path(self.env["CALSYNC_STATE_DIR"]) / "refresh.lock"


ICS_AND_GOOGLE = """
[[target]]
type = "ics"
path = "out/training.ics"

[[target]]
type = "google"
token = "token.json"
busy = ["primary"]
"""


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as server:
        yield server


@pytest.fixture
def setup(tmp_path: Path, templates_dir: Path, fake: FakeGoogleCalendar) -> Setup:
    shutil.copyfile(templates_dir / "hybrid-hypertrophy.yaml", tmp_path / "plan.yaml")
    write_token(tmp_path / "token.json")
    (tmp_path / "out").mkdir()
    env = {
        "CALSYNC_GOOGLE_ENDPOINT": fake.root_url,
        "CALSYNC_STATE_DIR": str(tmp_path / "state"),
    }
    found = Setup(
        tmp_path,
        tmp_path / "plan.yaml",
        tmp_path / "refresh.toml",
        tmp_path / "out" / "training.ics",
        env,
    )
    found.write_config(ICS_AND_GOOGLE)
    return found


def google_events(fake: FakeGoogleCalendar) -> dict[str, dict[str, Any]]:
    """The managed events of the plan's calendar, by session key."""
    (calendar,) = [c for c in fake.calendar_ids() if c != fake.owner]
    events: dict[str, dict[str, Any]] = {}
    for event in fake.events(calendar):
        key = event["extendedProperties"]["private"]["calsyncKey"]
        assert key not in events, f"two events for {key}"
        events[key] = event
    return events


def ics_events(path: Path) -> dict[str, bytes]:
    """The file's events by session key, each as its exact text."""
    calendar = Calendar.from_ical(path.read_bytes())
    events: dict[str, bytes] = {}
    for event in calendar.walk("VEVENT"):
        key = str(event["X-CALSYNC-KEY"])
        assert key not in events, f"two events for {key}"
        events[key] = event.to_ical()
    return events


def day_of(key: str) -> date:
    return date.fromisoformat(key.split("/")[1])


# --- (a) the rolling window ---------------------------------------------------------


def test_three_weeks_of_refreshes_move_the_window_and_keep_the_past(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    first = setup.on("2026-11-30")
    assert first.exit_code == 0, first.output
    google, ics = google_events(fake), ics_events(setup.ics)
    assert set(google) == set(ics)
    assert min(map(day_of, google)) == date(2026, 11, 30)
    assert max(map(day_of, google)) == date(2026, 12, 13)

    for day, new_week in (("2026-12-07", date(2026, 12, 14)), ("2026-12-14", date(2026, 12, 21))):
        today = date.fromisoformat(day)
        before_google, before_ics = google_events(fake), ics_events(setup.ics)
        result = setup.on(day)
        assert result.exit_code == 0, result.output
        google, ics = google_events(fake), ics_events(setup.ics)
        # The past is untouched, in Google (same etag) and in the file (same bytes).
        for key, event in before_google.items():
            if day_of(key) < today:
                assert google[key]["etag"] == event["etag"], key
                assert ics[key] == before_ics[key], key
        # The newest week appears, in both.
        added = {day_of(k) for k in set(google) - set(before_google)}
        assert added and new_week <= min(added) and max(added) < new_week + timedelta(days=7)
        assert set(google) == set(ics)
        assert f"ics {setup.ics}: " in result.output and "google:Training: " in result.output

        # The same day again: nothing to write anywhere.
        fake.reset_counters()
        data = setup.ics.read_bytes()
        again = setup.on(day)
        assert again.exit_code == 0, again.output
        assert fake.writes == 0
        assert setup.ics.read_bytes() == data
        assert re.search(r"ics .*: 0 created, 0 updated, \d+ unchanged", again.output)
        assert re.search(
            r"google:Training: 0 created, 0 updated, 0 deleted, \d+ unchanged", again.output
        )

    # Cycles count from the plan's start: 2026-12-21 is plan week 4, the deload week,
    # where the 75-minute leg session is scaled to 45 minutes; 2026-12-25 is a day off.
    legs = google_events(fake)["hybrid-hypertrophy/2026-12-21/legs"]
    start = datetime.fromisoformat(legs["start"]["dateTime"])
    end = datetime.fromisoformat(legs["end"]["dateTime"])
    assert (end - start).total_seconds() == 45 * 60
    assert "deload" in legs["description"]
    assert not [k for k in google_events(fake) if day_of(k) == date(2026, 12, 25)]
    assert min(map(day_of, google_events(fake))) == date(2026, 11, 30)


# --- (b) the lock -------------------------------------------------------------------


def test_a_run_while_another_holds_the_lock_exits_75_at_once(setup: Setup) -> None:
    setup.lock.parent.mkdir(parents=True)
    with FileLock(setup.lock, timeout=0):
        started = time.monotonic()
        run = setup.spawn("--today", "2026-11-30")
        out, err = run.communicate(timeout=30)
        elapsed = time.monotonic() - started
    assert run.returncode == 75, err
    assert out == ""
    assert err.count("\n") == 1 and "another calsync refresh is running" in err
    assert elapsed < 15  # exits at once: never waits for the lock
    assert not setup.ics.exists()


def test_two_runs_started_together_exactly_one_runs(setup: Setup, fake: FakeGoogleCalendar) -> None:
    fake.latency = 0.3  # every call is slow, so the first run still holds the lock
    runs = [setup.spawn("--today", "2026-11-30") for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 75], outputs
    fake.latency = 0
    assert len(google_events(fake)) == len(ics_events(setup.ics))


def test_a_run_killed_while_holding_the_lock_does_not_block_the_next(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    fake.latency = 1.0
    run = setup.spawn("--today", "2026-11-30")
    deadline = time.monotonic() + 30
    # The run talks to the server only once it holds the lock.
    while fake.round_trips == 0 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert fake.round_trips > 0 and run.poll() is None
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    assert run.returncode == -signal.SIGKILL
    assert setup.lock.exists()  # the file stays; the lock on it died with the process

    fake.latency = 0
    again = setup.spawn("--today", "2026-11-30")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err
    assert len(google_events(fake)) == len(ics_events(setup.ics)) > 0


# --- (c) one target fails, the others still run -------------------------------------


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port held bound but never listening: every connection to it is refused, and no
    other test's server can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/"


def test_a_failing_target_does_not_stop_the_others(
    setup: Setup, refused_url: str, retry_sleeps: list[float]
) -> None:
    # Retries without their waits: the server is down for good.
    setup.env["CALSYNC_GOOGLE_ENDPOINT"] = refused_url
    log = setup.folder / "refresh.log"
    result = setup.on("2026-11-30", "--log", str(log))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"ics .*training.ics: \d+ created, 0 updated, 0 unchanged", lines[0])
    assert lines[1].startswith("google:Training: FAILED: ")
    assert "Traceback" not in result.output
    # The good target is whole: every session of the two weeks is in the file.
    from calsync.core.expand import expand
    from calsync.io.plans import load_plan

    expected = expand(load_plan(setup.plan), date(2026, 11, 30), date(2026, 12, 14))
    assert set(ics_events(setup.ics)) == {o.key for o in expected.occurrences}
    assert "exit 1" in log.read_text() and "google:Training: FAILED" in log.read_text()

    report = json.loads(setup.on("2026-11-30", "--json").stdout)
    assert report["status"] == 1
    assert [(t["type"], t["status"]) for t in report["targets"]] == [
        ("ics", "ok"),
        ("google", "failed"),
    ]
    assert report["targets"][1]["error"]


def test_a_file_calsync_did_not_write_fails_that_target_only(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    setup.ics.write_text("my own notes\n", encoding="utf-8")
    result = setup.on("2026-11-30")
    assert result.exit_code == 1
    assert "FAILED: " in result.stdout and "not an iCalendar file" in result.stdout
    assert setup.ics.read_text(encoding="utf-8") == "my own notes\n"  # not overwritten
    assert len(google_events(fake)) > 0


def test_an_unreachable_caldav_server_fails_its_target_only(setup: Setup) -> None:
    setup.write_config(
        '[[target]]\ntype = "caldav"\nurl = "http://127.0.0.1:1/"\n'
        '[[target]]\ntype = "ics"\npath = "out/training.ics"\n'
    )
    result = setup.on("2026-11-30")
    assert result.exit_code == 1
    (failed,) = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed.startswith("caldav") and "127.0.0.1:1" in failed
    # stdout only: in-process test servers of other tests may print to the shared stderr
    assert "Traceback" not in result.stdout
    assert setup.ics.exists()


def test_a_caldav_target_s_messages_name_the_config_keys_not_flags(setup: Setup) -> None:
    """A refresh user fixes refresh.toml, so the message names its keys (issue 13)."""
    setup.write_config(
        '[[target]]\ntype = "caldav"\nurl = "http://127.0.0.1:1/"\nkeyring = true\n'
        '[[target]]\ntype = "ics"\npath = "out/training.ics"\n'
    )
    result = setup.on("2026-11-30")
    (failed,) = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed.startswith("caldav")
    assert "the keyring needs username to know whose password" in failed
    assert "--username" not in failed


def test_caldav_target_with_ics_and_google(
    setup: Setup,
    fake: FakeGoogleCalendar,
    radicale: RadicaleServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CalDAV keeps its memory of created events in the state folder: keep it in tmp.
    monkeypatch.setenv("XDG_STATE_HOME", str(setup.folder / "xdg-state"))
    setup.env["CALDAV_TEST_PASSWORD"] = radicale.password
    name = f"Refresh test {setup.folder.name}"  # the server outlives the test: its own calendar
    setup.write_config(
        ICS_AND_GOOGLE
        + f'''
[[target]]
type = "caldav"
url = "{radicale.home}"
calendar = "{name}"
username = "{radicale.user}"
password_env = "CALDAV_TEST_PASSWORD"
'''
    )
    first = setup.on("2026-11-30")
    assert first.exit_code == 0, first.output
    sessions = len(ics_events(setup.ics))
    assert f"caldav:{name}: {sessions} created, 0 updated" in first.output
    writes = radicale.writes()
    again = setup.on("2026-11-30")
    assert again.exit_code == 0, again.output
    assert f"caldav:{name}: 0 created, 0 updated, 0 deleted, {sessions} unchanged" in again.output
    assert radicale.writes() == writes

    del setup.env["CALDAV_TEST_PASSWORD"]
    missing = setup.on("2026-11-30")
    assert missing.exit_code == 1
    assert f"caldav:{name}: FAILED: the environment variable CALDAV_TEST_PASSWORD" in missing.output
    assert "Error:" not in missing.output


def test_a_target_s_warnings_are_in_the_json(
    setup: Setup, radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(setup.folder / "xdg-state"))
    setup.env["CALDAV_TEST_PASSWORD"] = radicale.password
    setup.write_config(
        f'''
[[target]]
type = "caldav"
url = "{radicale.home}"
calendar = "Warned {setup.folder.name}"
username = "{radicale.user}"
password_env = "CALDAV_TEST_PASSWORD"
insecure = true
'''
    )
    result = setup.on("2026-11-30", "--json")
    assert result.exit_code == 0, result.output
    (caldav,) = json.loads(result.stdout)["targets"]
    assert len(caldav["warnings"]) == 1, caldav
    assert "TLS certificate is NOT checked" in caldav["warnings"][0]
    assert caldav["warnings"][0] in result.stderr


def test_the_worst_status_wins() -> None:
    ok = TargetRun("a", "ics", True, "a: fine")
    failed = TargetRun("b", "google", False, "b: FAILED", error="down")
    from calsync.core.model import Conflict, Level

    error = Conflict("order", Level.ERROR, date(2026, 12, 1), "ride before lift")
    warn = Conflict("gap", Level.WARN, date(2026, 12, 1), "short gap")
    start, end = date(2026, 11, 30), date(2026, 12, 14)
    assert Run(Path("p"), start, end, (ok,), (warn,)).status == 0
    assert Run(Path("p"), start, end, (ok,), (error,)).status == 3
    assert Run(Path("p"), start, end, (failed, ok), (error,)).status == 1
    assert Run(Path("p"), start, end, (), ()).status == 0


# --- (g) output for cron and scripts ------------------------------------------------


def ics_only(setup: Setup, count: int = 1) -> None:
    setup.write_config(
        "".join(f'[[target]]\ntype = "ics"\npath = "out/t{i}.ics"\n' for i in range(count))
    )


def test_quiet_says_nothing_when_all_is_well(setup: Setup) -> None:
    ics_only(setup)
    result = setup.on("2026-11-30", "--quiet")
    assert result.exit_code == 0
    assert result.output == ""
    assert (setup.folder / "out" / "t0.ics").exists()


def test_quiet_says_everything_when_something_needs_the_user(setup: Setup) -> None:
    # A ride before the lift on Tuesdays: an error-level conflict every week.
    text = setup.plan.read_text(encoding="utf-8")
    setup.plan.write_text(
        text.replace("tue: [core 10:00, z2 20:00]", "tue: [z2 08:00, core 10:00]"), encoding="utf-8"
    )
    ics_only(setup, count=2)
    result = setup.on("2026-11-30", "--quiet")
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ics ") and lines[1].startswith("ics ")
    # each Tuesday's error, or one line for all the Tuesdays ("every Tue from 1 Dec ...")
    errors = [
        line
        for line in lines
        if line.startswith("error") and ("Tue 2026-12-01" in line or "every Tue from 1 Dec" in line)
    ]
    assert len(errors) >= 1
    assert len(errors) == len(set(errors))  # each conflict once, not once per target


def test_json_is_the_whole_run_report(setup: Setup, fake: FakeGoogleCalendar) -> None:
    result = setup.on("2026-11-30", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["status"] == 0
    assert (report["from"], report["to"]) == ("2026-11-30", "2026-12-13")
    ics, google = report["targets"]
    assert ics["type"] == "ics" and ics["status"] == "ok" and ics["counts"]["created"] > 0
    assert google["name"] == "google:Training" and google["counts"]["created"] == len(
        google_events(fake)
    )
    assert all(
        {"rule", "level", "date", "message", "target"} <= set(c) for c in report["conflicts"]
    )


def test_log_appends_one_line_per_run(setup: Setup) -> None:
    ics_only(setup)
    log = setup.folder / "logs" / "refresh.log"
    for _ in range(2):
        assert setup.on("2026-11-30", "--quiet", "--log", str(log)).exit_code == 0
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    for line in lines:
        stamp, rest = line.split(" ", 1)
        datetime.fromisoformat(stamp)
        assert rest.startswith("exit 0: window 2026-11-30..2026-12-13; ics ")
    assert "1 created" not in lines[1] and "0 created" in lines[1]


def test_a_locked_run_is_logged_and_reported_as_json(setup: Setup) -> None:
    log = setup.folder / "refresh.log"
    setup.lock.parent.mkdir(parents=True)
    with FileLock(setup.lock, timeout=0):
        result = setup.on("2026-11-30", "--json", "--log", str(log))
    assert result.exit_code == 75
    assert json.loads(result.stdout)["status"] == 75
    assert "exit 75" in log.read_text(encoding="utf-8")


def test_a_bad_plan_exits_2_without_a_traceback(setup: Setup) -> None:
    setup.plan.write_text("plan: [unclosed\n", encoding="utf-8")
    result = setup.on("2026-11-30")
    assert result.exit_code == 2
    assert f"{setup.plan}:" in result.stderr and "Traceback" not in result.output


def test_the_lock_lives_in_the_state_folder(setup: Setup) -> None:
    ics_only(setup)
    assert setup.on("2026-11-30").exit_code == 0
    assert setup.lock.exists()
    with FileLock(setup.lock, timeout=0):
        pass  # released after the run


# --- (d) cron and systemd -----------------------------------------------------------


def cron(setup: Setup, *args: str) -> Result:
    return CliRunner().invoke(cli, ["cron", "--config", str(setup.config), *args], env=setup.env)


def crontab_entry(output: str) -> tuple[str, list[str]]:
    (line,) = [line for line in output.splitlines() if line and not line.startswith("#")]
    fields = line.split(None, 5)
    return " ".join(fields[:5]), shlex.split(fields[5])


def test_the_crontab_line_runs_weekly_on_monday_at_five(setup: Setup) -> None:
    result = cron(setup)
    assert result.exit_code == 0, result.output
    expression, command = crontab_entry(result.stdout)
    assert croniter.is_valid(expression)
    following = croniter(expression, datetime(2026, 11, 26, 12, 0)).get_next(datetime)
    assert following == datetime(2026, 11, 30, 5, 0)
    assert following.weekday() == 0
    program = Path(command[0])
    assert program.is_absolute() and program.name == "calsync" and os.access(program, os.X_OK)
    assert command[1:] == ["refresh", "--quiet", "--config", str(setup.config.absolute())]
    assert ">" not in result.stdout.splitlines()[-1]  # nothing redirected: cron mails output


@pytest.mark.parametrize(
    "at, expected",
    [
        ("thu 18:30", datetime(2026, 11, 26, 18, 30)),
        ("daily 05:00", datetime(2026, 11, 27, 5, 0)),
        ("* 5:00", datetime(2026, 11, 27, 5, 0)),
        ("SUN 07:15", datetime(2026, 11, 29, 7, 15)),
        ("MON,FRI 05:00", datetime(2026, 11, 27, 5, 0)),
    ],
)
def test_other_times(setup: Setup, at: str, expected: datetime) -> None:
    result = cron(setup, "--at", at)
    assert result.exit_code == 0, result.output
    expression, _ = crontab_entry(result.stdout)
    assert croniter(expression, datetime(2026, 11, 26, 12, 0)).get_next(datetime) == expected


@pytest.mark.parametrize("at", ["MOO 05:00", "MON 25:00", "MON 05:61", "05:00", "MON"])
def test_a_bad_time_is_a_usage_error(setup: Setup, at: str) -> None:
    result = cron(setup, "--at", at)
    assert result.exit_code == 2
    assert "--at" in result.output and "Traceback" not in result.output


def systemd_units(output: str) -> dict[str, configparser.ConfigParser]:
    units: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        heading = re.fullmatch(r"# ~/\.config/systemd/user/(\S+)", line)
        if heading:
            current = heading.group(1)
            units[current] = []
        elif current:
            units[current].append(line)
    parsed = {}
    for name, lines in units.items():
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string("\n".join(lines))
        parsed[name] = parser
    return parsed


def test_the_systemd_units(setup: Setup) -> None:
    result = cron(setup, "--systemd")
    assert result.exit_code == 0, result.output
    units = systemd_units(result.stdout)
    assert set(units) == {"calsync-refresh.service", "calsync-refresh.timer"}
    service, timer = units["calsync-refresh.service"], units["calsync-refresh.timer"]
    assert service["Service"]["Type"] == "oneshot"
    command = shlex.split(service["Service"]["ExecStart"])
    assert Path(command[0]).is_absolute() and Path(command[0]).name == "calsync"
    assert command[1:] == ["refresh", "--config", str(setup.config.absolute())]
    assert timer["Timer"]["OnCalendar"] == "Mon *-*-* 05:00:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    daily = systemd_units(cron(setup, "--systemd", "--at", "daily 06:30").stdout)
    assert daily["calsync-refresh.timer"]["Timer"]["OnCalendar"] == "*-*-* 06:30:00"


def test_percent_signs_are_escaped_for_cron_and_systemd(setup: Setup) -> None:
    folder = setup.folder / "100%"
    folder.mkdir()
    setup.config = folder / "refresh.toml"
    assert "100\\%" in cron(setup).stdout
    assert "100%%" in cron(setup, "--systemd").stdout


def test_parse_at() -> None:
    assert parse_at("mon 05:00").crontab() == "0 5 * * 1"
    assert parse_at("sunday 5:07").crontab() == "7 5 * * 0"
    assert parse_at("mon,wed 05:00").on_calendar() == "Mon,Wed *-*-* 05:00:00"


# --- (e) the GitHub Actions workflow ------------------------------------------------

WORKFLOW = REPO / ".github" / "workflows" / "weekly-refresh.yml"


@pytest.mark.parametrize("workflow", [WORKFLOW, WORKFLOW.with_name("ci.yml")], ids=lambda p: p.name)
def test_the_workflows_are_valid_for_github_actions(workflow: Path) -> None:
    checker = shutil.which("check-jsonschema")
    command = [checker] if checker else [sys.executable, "-m", "check_jsonschema"]
    done = subprocess.run(
        [*command, "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_refreshes_weekly_with_the_token_from_a_secret() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in triggers
    (schedule,) = triggers["schedule"]
    assert croniter.is_valid(schedule["cron"])
    steps = doc["jobs"]["refresh"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "calsync refresh --config calsync/refresh.toml" in runs
    # calsync is not on PyPI: it installs from the repository the user names
    assert "pip install calsync" not in runs
    assert 'pip install "$CALSYNC_SOURCE"' in runs
    install = next(s for s in steps if "CALSYNC_SOURCE" in s.get("env", {}))
    assert install["env"]["CALSYNC_SOURCE"] == "${{ vars.CALSYNC_SOURCE }}"
    token_step = next(s for s in steps if "GOOGLE_TOKEN" in s.get("env", {}))
    assert token_step["env"]["GOOGLE_TOKEN"] == "${{ secrets.GOOGLE_TOKEN }}"
    assert "umask 077" in token_step["run"]
    assert 'echo "$GOOGLE_TOKEN' not in token_step["run"] and "set -x" not in token_step["run"]


def test_source_date_epoch_is_the_runs_instant_when_no_day_is_given(setup: Setup) -> None:
    setup.write_config('[[target]]\ntype = "ics"\npath = "out/training.ics"\n')
    epoch = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # Tuesday of the plan's first week
    setup.env["SOURCE_DATE_EPOCH"] = str(int(epoch.timestamp()))
    result = setup.invoke("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["from"] == "2026-12-01"
    events = Calendar.from_ical(setup.ics.read_bytes()).walk("VEVENT")
    assert {e.decoded("DTSTAMP") for e in events} == {epoch}


def test_today_wins_over_source_date_epoch(setup: Setup) -> None:
    setup.write_config('[[target]]\ntype = "ics"\npath = "out/training.ics"\n')
    setup.env["SOURCE_DATE_EPOCH"] = "1780000000"  # 2026-05-28, before the plan starts
    result = setup.invoke("--today", "2026-11-30")
    assert result.exit_code == 0, result.output
    events = Calendar.from_ical(setup.ics.read_bytes()).walk("VEVENT")
    assert min(e.decoded("DTSTART").date() for e in events) == date(2026, 11, 30)
    # --today is the start of that day in the plan's zone (Europe/Brussels, UTC+1).
    assert {e.decoded("DTSTAMP") for e in events} == {datetime(2026, 11, 29, 23, 0, tzinfo=UTC)}


def test_today_plans_every_target_from_that_day(
    setup: Setup, fake: FakeGoogleCalendar, time_machine: Any
) -> None:
    # The machine's clock says Thursday; --today says the Monday before. Every target,
    # the Google calendar as much as the file, gets the whole week from Monday.
    time_machine.move_to(datetime(2026, 12, 3, 9, 30, tzinfo=UTC), tick=False)
    result = setup.invoke("--today", "2026-11-30")
    assert result.exit_code == 0, result.output
    google, ics = google_events(fake), ics_events(setup.ics)
    assert set(google) == set(ics) and len(google) == 20
    assert min(map(day_of, google)) == date(2026, 11, 30)
