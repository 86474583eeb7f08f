"""Sessions on daylight-saving nights (issue 12, item 1): every reader gets the right instants.

A 30-minute `mob 02:30` in Brussels on 2027-10-31 starts at the first 02:30 and ends
at the second 02:00, an hour of local time that happens twice. Written as local
text, every RFC 5545 reader takes the first 02:00 and puts the end before the
start. Each kind of DST edge, in two zones, is read back by three independent
parsers (icalendar, allenporter's ical, vobject) and round-tripped through a real
CalDAV server. The expected instants are written out in UTC by hand.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
import time_machine
import vobject
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from calsync.cli.main import cli
from calsync.core.expand import expand
from calsync.core.instants import as_written
from calsync.core.loader import parse_plan
from calsync.core.model import Plan
from calsync.io.plans import load_plan
from calsync.sync.engine import Outcome, run_sync
from calsync.targets.caldav import CalDAVBackend, Retry, Transport, make_client
from calsync.targets.ics import render
from fakes.fakegoogle import FakeGoogleCalendar
from fakes.radicale_server import RadicaleServer
from tests.google_helpers import calendar_named, instant, write_token


@dataclass(frozen=True)
class Edge:
    zone: str
    day: date  # a Sunday when the clocks change
    at: str
    duration: str
    start: str  # the right instants, in UTC
    end: str


EDGES = {
    # Brussels: forward 2027-03-28 02:00 CET -> 03:00 CEST; back 2027-10-31 03:00 CEST -> 02:00 CET.
    "brussels start in the skipped hour": Edge(
        "Europe/Brussels", date(2027, 3, 28), "02:30", "30m", "01:30", "02:00"
    ),
    "brussels end in the skipped hour": Edge(
        "Europe/Brussels", date(2027, 3, 28), "01:30", "1h", "00:30", "01:30"
    ),
    "brussels spanning the spring change": Edge(
        "Europe/Brussels", date(2027, 3, 28), "01:30", "2h", "00:30", "02:30"
    ),
    "brussels start in the repeated hour": Edge(
        "Europe/Brussels", date(2027, 10, 31), "02:30", "30m", "00:30", "01:00"
    ),
    "brussels end in the repeated hour": Edge(
        "Europe/Brussels", date(2027, 10, 31), "02:45", "30m", "00:45", "01:15"
    ),
    "brussels spanning the autumn change": Edge(
        "Europe/Brussels", date(2027, 10, 31), "01:30", "2h", "-23:30", "01:30"
    ),
    # New York: forward 2027-03-14 02:00 EST -> 03:00 EDT; back 2027-11-07 02:00 EDT -> 01:00 EST.
    "new york start in the skipped hour": Edge(
        "America/New_York", date(2027, 3, 14), "02:30", "30m", "07:30", "08:00"
    ),
    "new york end in the skipped hour": Edge(
        "America/New_York", date(2027, 3, 14), "01:30", "1h", "06:30", "07:30"
    ),
    "new york spanning the spring change": Edge(
        "America/New_York", date(2027, 3, 14), "01:30", "2h", "06:30", "08:30"
    ),
    "new york start in the repeated hour": Edge(
        "America/New_York", date(2027, 11, 7), "01:30", "30m", "05:30", "06:00"
    ),
    "new york end in the repeated hour": Edge(
        "America/New_York", date(2027, 11, 7), "01:45", "30m", "05:45", "06:15"
    ),
    "new york spanning the autumn change": Edge(
        "America/New_York", date(2027, 11, 7), "00:30", "2h", "04:30", "06:30"
    ),
}


def utc_on(day: date, hhmm: str) -> datetime:
    """`-HH:MM` is that time on the day before (a Brussels night starts the evening before)."""
    before = hhmm.startswith("-")
    hour, minute = map(int, hhmm.lstrip("-").split(":"))
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    return moment - timedelta(days=1) if before else moment


def expected(edge: Edge) -> tuple[datetime, datetime]:
    return utc_on(edge.day, edge.start), utc_on(edge.day, edge.end)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def plan_text(edge: Edge) -> str:
    return f"""\
plan: night
title: Night mobility
timezone: {edge.zone}
starts: {monday_of(edge.day).isoformat()}
sessions:
  mob: {{kind: mobility, title: Mobility, duration: {edge.duration}, load: easy}}
week:
  sun: [mob {edge.at}]
rules:
  dst: off
"""


@pytest.fixture(params=list(EDGES), ids=list(EDGES))
def edge(request: pytest.FixtureRequest) -> Edge:
    return EDGES[request.param]


@pytest.fixture
def night_plan(edge: Edge, tmp_path: Path) -> Path:
    path = tmp_path / "night.yaml"
    path.write_text(plan_text(edge), encoding="utf-8")
    return path


@pytest.fixture
def written(edge: Edge, night_plan: Path, tmp_path: Path) -> str:
    """The .ics `calsync ics` writes for the week of the change."""
    out = tmp_path / "night.ics"
    args = ["ics", str(night_plan), "-o", str(out), "--from", monday_of(edge.day).isoformat()]
    result = CliRunner().invoke(cli, [*args, "--weeks", "1", "--now", "2027-01-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def by_icalendar(text: str) -> tuple[datetime, datetime]:
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return event.decoded("DTSTART"), event.decoded("DTEND")


def by_ical(text: str) -> tuple[datetime, datetime]:
    (event,) = IcsCalendarStream.calendar_from_ics(text).events
    return event.dtstart, event.dtend


def by_vobject(text: str) -> tuple[datetime, datetime]:
    event = vobject.readOne(text).vevent
    return event.dtstart.value, event.dtend.value


def in_utc(pair: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """Compared in UTC: Python never calls a repeated local time equal to another zone's."""
    return pair[0].astimezone(UTC), pair[1].astimezone(UTC)


PARSERS = {"icalendar": by_icalendar, "ical": by_ical, "vobject": by_vobject}


@pytest.mark.parametrize("parser", PARSERS)
def test_every_parser_reads_the_right_instants(edge: Edge, written: str, parser: str) -> None:
    start, end = in_utc(PARSERS[parser](written))
    assert (start, end) == expected(edge)
    assert end > start


def test_plan_json_agrees(edge: Edge, night_plan: Path) -> None:
    args = ["plan", str(night_plan), "--json", "--from", monday_of(edge.day).isoformat()]
    result = CliRunner().invoke(cli, [*args, "--weeks", "1"])
    (session,) = json.loads(result.output)["sessions"]
    start = datetime.fromisoformat(session["start"]).astimezone(UTC)
    end = datetime.fromisoformat(session["end"]).astimezone(UTC)
    assert (start, end) == expected(edge)


def test_only_values_a_reader_would_misplace_are_in_utc(edge: Edge, written: str) -> None:
    """The plan's wall-clock times stay local (with TZID) wherever the text is unambiguous."""
    lines = {line.split(";")[0].split(":")[0]: line for line in written.splitlines()}
    start, end = expected(edge)
    zone = load_plan_text(edge).zone
    for name, moment in (("DTSTART", start), ("DTEND", end)):
        local = moment.astimezone(zone)
        repeated = local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
        second = repeated and local.fold == 1
        assert lines[name].endswith("Z") == second, lines[name]


def load_plan_text(edge: Edge) -> Plan:
    return parse_plan(plan_text(edge))


# --- a CalDAV round trip ----------------------------------------------------------------


def caldav_sync(server: RadicaleServer, plan: Plan, url: str, state: Path, day: date):
    client = make_client(url, server.user, server.password, insecure=False)
    backend = CalDAVBackend(
        Transport(client, Retry(sleep=lambda s: None)),
        url,
        state,
        stamp=datetime(2027, 1, 1, tzinfo=UTC),
        zone=plan.zone,
    )
    first = monday_of(day)
    schedule = expand(plan, first, first + timedelta(weeks=1))
    return run_sync(schedule, backend, "caldav:night", plan.midnight(first))


@pytest.fixture
def calendar_url(radicale: RadicaleServer) -> str:
    name = f"night{uuid.uuid4().hex[:10]}"
    other = caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)
    other.principal().make_calendar(name=f"Test {name}", cal_id=name)
    return f"{radicale.home}{name}/"


def server_events(server: RadicaleServer, url: str) -> list[str]:
    other = caldav.DAVClient(url=server.home, username=server.user, password=server.password)
    return [item.data for item in caldav.Calendar(client=other, url=url).search(event=True)]


def test_a_caldav_round_trip_keeps_the_instants_and_the_rerun_writes_nothing(
    edge: Edge,
    night_plan: Path,
    radicale: RadicaleServer,
    calendar_url: str,
    tmp_path: Path,
) -> None:
    plan = load_plan(night_plan)
    state = tmp_path / "known.json"
    first = caldav_sync(radicale, plan, calendar_url, state, edge.day)
    assert [r.outcome for r in first.results] == [Outcome.DONE]

    writes = radicale.writes()
    again = caldav_sync(radicale, plan, calendar_url, state, edge.day)
    assert radicale.writes() == writes
    assert again.changes.unchanged == 1 and not again.changes.kept_edited
    assert not [c for c in again.conflicts if c.rule == "edited"]
    (data,) = server_events(radicale, calendar_url)
    for parser in PARSERS.values():
        assert in_utc(parser(data)) == expected(edge)


def test_an_event_an_older_calsync_wrote_as_local_text_is_repaired_not_frozen(
    radicale: RadicaleServer,
    calendar_url: str,
    tmp_path: Path,
) -> None:
    """What was seen: the second sync called the night session `edited`, forever after."""
    edge = EDGES["brussels start in the repeated hour"]
    plan_path = tmp_path / "night.yaml"
    plan_path.write_text(plan_text(edge), encoding="utf-8")
    plan = load_plan(plan_path)
    first = monday_of(edge.day)
    text = render(expand(plan, first, first + timedelta(weeks=1)), datetime(2027, 1, 1, tzinfo=UTC))
    legacy = text.decode().replace(
        "DTEND:20271031T010000Z", "DTEND;TZID=Europe/Brussels:20271031T020000"
    )
    assert legacy != text.decode()
    (event,) = icalendar.Calendar.from_ical(legacy).walk("VEVENT")
    uid = str(event["UID"])
    other = caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)
    caldav.Calendar(client=other, url=calendar_url).save_event(legacy)
    start, end = in_utc(by_icalendar(server_events(radicale, calendar_url)[0]))
    assert end < start  # the damage as every reader sees it

    state = tmp_path / "known.json"
    report = caldav_sync(radicale, plan, calendar_url, state, edge.day)
    assert [(c.action.value, r.outcome) for c, r in zip(report.changes.changes, report.results, strict=True)] == [("update", Outcome.DONE)]  # fmt: skip
    assert not report.changes.kept_edited
    (data,) = server_events(radicale, calendar_url)
    assert uid in data
    assert in_utc(by_icalendar(data)) == expected(edge)
    again = caldav_sync(radicale, plan, calendar_url, state, edge.day)
    assert again.changes.unchanged == 1 and not again.changes.changes


def test_an_ics_an_older_calsync_wrote_is_rewritten_with_a_new_sequence(tmp_path: Path) -> None:
    edge = EDGES["new york start in the repeated hour"]
    plan_path = tmp_path / "night.yaml"
    plan_path.write_text(plan_text(edge), encoding="utf-8")
    out = tmp_path / "night.ics"
    args = ["ics", str(plan_path), "-o", str(out), "--from", monday_of(edge.day).isoformat()]
    args += ["--weeks", "1"]
    assert CliRunner().invoke(cli, [*args, "--now", "2027-01-01T00:00:00Z"]).exit_code == 0
    fixed = out.read_text(encoding="utf-8")
    out.write_text(
        fixed.replace("DTEND:20271107T060000Z", "DTEND;TZID=America/New_York:20271107T010000"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, [*args, "--now", "2027-02-01T00:00:00Z"])
    assert "0 created, 1 updated, 0 unchanged" in result.stderr
    (event,) = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert in_utc(by_icalendar(out.read_text(encoding="utf-8"))) == expected(edge)


# --- Google: the same instants, and a rerun changes nothing ----------------------------


def test_google_gets_the_same_instants_and_the_rerun_writes_nothing(
    edge: Edge, night_plan: Path, tmp_path: Path
) -> None:
    token = write_token(tmp_path / "token.json")
    args = ["sync", "google", str(night_plan), "--token", str(token)]
    args += ["--from", monday_of(edge.day).isoformat(), "--weeks", "1"]
    with (
        FakeGoogleCalendar() as server,
        time_machine.travel(datetime(2027, 1, 1, tzinfo=UTC), tick=True),
    ):
        env = {"CALSYNC_GOOGLE_ENDPOINT": server.root_url}
        first = CliRunner().invoke(cli, args, env=env)
        assert first.exit_code == 0, first.output
        (event,) = server.events(calendar_named(server, "Night mobility"))
        assert (instant(event["start"]), instant(event["end"])) == expected(edge)
        server.reset_counters()
        again = CliRunner().invoke(cli, args, env=env)
        assert "0 created, 0 updated, 0 deleted, 1 unchanged" in again.output, again.output
        assert server.writes == 0


# --- the rule behind it, as a property ---------------------------------------------------

ZONES = ["Europe/Brussels", "America/New_York", "Australia/Lord_Howe", "Europe/Dublin"]


def _changes(zone: str) -> list[datetime]:
    """The instants in 2027 and 2028 when the zone's clocks change (found hour by hour)."""
    tz, found = ZoneInfo(zone), []
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    while moment.year < 2029:
        later = moment + timedelta(hours=1)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            found.append(later)
        moment = later
    return found


CHANGES = [(zone, change) for zone in ZONES for change in _changes(zone)]


@settings(max_examples=300, deadline=None)
@given(
    near=st.sampled_from(CHANGES),
    minutes=st.integers(min_value=-240, max_value=240),
)
def test_any_instant_written_is_read_back_as_that_instant(
    near: tuple[str, datetime], minutes: int
) -> None:
    """Whatever the zone (Lord Howe moves by 30 minutes, Dublin's winter time is its
    "daylight" one), a time near a change written by calsync reads back as that instant."""
    zone, change = near
    moment = change + timedelta(minutes=minutes)
    local = moment.astimezone(ZoneInfo(zone))
    event = icalendar.Event()
    event.add("DTSTART", as_written(local))
    text = event.to_ical().decode()
    read = icalendar.Event.from_ical(text).decoded("DTSTART")
    assert read.astimezone(UTC) == moment
    (line,) = [line for line in text.splitlines() if line.startswith("DTSTART")]
    assert line.endswith("Z") == (local.fold == 1 and _repeated(local))


def _repeated(local: datetime) -> bool:
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
