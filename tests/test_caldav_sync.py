"""The CalDAV sync against a real Radicale on 127.0.0.1: no mock of the protocol.

One server for the module (see fakes/radicale_server.py), a fresh calendar per
test. User edits, deletions and unmanaged events come through a second,
independent client (the `caldav` library's own high-level API), the way a
phone or a desktop calendar would make them. Writes are counted in
Radicale's log, not by the client under test. The promises every backend
shares are the contract's (tests/backend_contract.py); these are CalDAV's own.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import caldav
import pytest
from icalendar import Calendar, Event

from calsync.core.expand import expand
from calsync.core.model import Plan
from calsync.errors import BadInput, Failure
from calsync.io.plans import load_plan
from calsync.sync.engine import Outcome, Policy, SyncReport, run_sync
from calsync.sync.request import Range, SyncRequest
from calsync.targets import caldav as cs
from calsync.targets.caldav import CalDAVBackend, Retry, Transport, make_client
from calsync.targets.caldav.events import current_fingerprint
from calsync.targets.caldav.freebusy import BusyReader
from calsync.targets.caldav.names import plain_warning
from calsync.targets.ics import render
from fakes.radicale_server import RadicaleServer, free_port

pytestmark = pytest.mark.any_date  # see tests/conftest.py

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
START = date(2026, 11, 30)  # the template's first Monday
WEEKS = 4  # covers the 24 and 25 December exceptions, and stays fast
NO_RETRY_WAIT = Retry(sleep=lambda seconds: None)


# --- fixtures and helpers ------------------------------------------------------------


class CountingClient:
    """calsync's own client, counting every request it is given, by method."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.inner = make_client(url, username, password, insecure=False)
        self.url = self.inner.url
        self.counts: Counter[str] = Counter()

    def request(self, url: str, method: str = "GET", body: Any = "", headers: Any = None) -> Any:
        self.counts[method] += 1
        return self.inner.request(url, method, body, headers)


def backend_for(
    server: RadicaleServer, plan: Plan, url: str, state: Path, client: Any = None
) -> CalDAVBackend:
    client = client or make_client(url, server.user, server.password, insecure=False)
    transport = Transport(client, NO_RETRY_WAIT)
    return CalDAVBackend(transport, url, state, stamp=not_before(plan), zone=plan.zone)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(TEMPLATE)


def not_before(plan: Plan) -> datetime:
    return datetime.combine(START, datetime.min.time(), tzinfo=plan.zone)


@pytest.fixture
def other(radicale: RadicaleServer) -> caldav.DAVClient:
    """The user's other CalDAV client (a phone, a desktop app)."""
    return caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)


@pytest.fixture
def calendar(radicale: RadicaleServer, other: caldav.DAVClient) -> str:
    """A fresh, empty calendar for this test."""
    name = f"t{uuid.uuid4().hex[:12]}"
    other.principal().make_calendar(name=f"Test {name}", cal_id=name)
    return f"{radicale.home}{name}/"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state" / "known.json"


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Plan:
    """The template with some text replaced: a plan change, as its owner would make it."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"plan-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def sync(
    server: RadicaleServer,
    plan: Plan,
    url: str,
    state: Path,
    policy: Policy | None = None,
    weeks: int = WEEKS,
    client: Any = None,
) -> SyncReport:
    backend = backend_for(server, plan, url, state, client)
    schedule = expand(plan, START, START + timedelta(weeks=weeks))
    return run_sync(schedule, backend, "caldav:test", not_before(plan), policy or Policy())


def counts(report: SyncReport) -> dict[str, int]:
    from calsync.cli.sync_report import sync_counts

    return {k: v for k, v in sync_counts(report).items() if v}


def stored(other: caldav.DAVClient, url: str) -> dict[str, tuple[str, Event]]:
    """Every event in the calendar, by UID: (ETag, VEVENT), read by the other client."""
    found: dict[str, tuple[str, Event]] = {}
    for item in caldav.Calendar(client=other, url=url).search(event=True):
        for event in Calendar.from_ical(item.data).walk("VEVENT"):
            uid = str(event["UID"])
            assert uid not in found, f"duplicate UID {uid}"
            found[uid] = (str(item.props.get("{DAV:}getetag", "")), event)
    return found


def etags(url: str, server: RadicaleServer) -> dict[str, str]:
    """href -> ETag straight from the server, to prove an event was not rewritten."""
    client = caldav.DAVClient(url=url, username=server.user, password=server.password)
    answer = client.report(url, cs.query_body(datetime(2000, 1, 1), datetime(2100, 1, 1)), 1)
    return {r.href: str(r.etag) for r in answer.parse_calendar_query()}


def events_of(backend: CalDAVBackend) -> BusyReader:
    """The busy time reader of a backend's server, to call its event-reading fallback."""
    return BusyReader(backend.transport, backend.calendar_url, None, backend.zone, plain_warning)


def first_uid(report: SyncReport, title: str) -> str:
    for change in report.changes.changes:
        if title in change.summary:
            assert change.content is not None
            return change.content.uid
    raise AssertionError(title)


def edit(other: caldav.DAVClient, url: str, uid: str, **fields: Any) -> None:
    event = caldav.Calendar(client=other, url=url).get_event_by_uid(uid)
    with event.edit_icalendar_component() as component:
        for name, value in fields.items():
            component.pop(name.upper(), None)
            component.add(name.upper(), value)
    event.save()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def foreign_event(uid: str, day: date, hour: int, extra: str = "") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{day:%Y%m%d}T{hour:02d}0000Z\r\nDTEND:{day:%Y%m%d}T{hour + 1:02d}0000Z\r\n"
        f"SUMMARY:Dentist {uid}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


# --- the scenarios the Google sync has ---------------------------------------------


def test_first_sync_then_a_rerun_writes_nothing(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    expected = len(expand(plan, START, START + timedelta(weeks=WEEKS)).occurrences)
    first = sync(radicale, plan, calendar, state)
    assert counts(first) == {"created": expected}
    assert len(stored(other, calendar)) == expected
    assert json.loads(state.read_text())["events"].keys() == {c.key for c in first.changes.changes}

    writes = radicale.writes()
    client = CountingClient(calendar, radicale.user, radicale.password)
    requests_before = radicale.requests()
    again = sync(radicale, plan, calendar, state, client=client)
    assert counts(again) == {"unchanged": expected}
    assert radicale.writes() == writes  # counted by the server, not by us
    # One REPORT lists the range, with the credentials the first time: no 401 round trip.
    assert client.counts == {"REPORT": 1}
    assert radicale.requests() - requests_before == Counter({"REPORT": 1})


def test_events_are_the_ones_calsync_ics_writes(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    weeks = 6
    sync(radicale, plan, calendar, state, weeks=weeks)
    schedule = expand(plan, START, START + timedelta(weeks=weeks))
    feed = Calendar.from_ical(render(schedule, datetime(2026, 11, 1)))
    from_ics = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    on_server = {uid: event for uid, (_, event) in stored(other, calendar).items()}
    assert on_server.keys() == from_ics.keys()
    for uid, event in on_server.items():
        mine = from_ics[uid]
        for name in ("X-CALSYNC-PLAN", "X-CALSYNC-KEY", "X-CALSYNC-HASH", "SUMMARY", "DESCRIPTION"):
            assert str(event[name]) == str(mine[name]), (uid, name)
        for name in ("DTSTART", "DTEND"):
            assert event.decoded(name) == mine.decoded(name)
            assert event[name].params["TZID"] == "Europe/Brussels"
        assert [a.decoded("TRIGGER") for a in event.walk("VALARM")] == [
            a.decoded("TRIGGER") for a in mine.walk("VALARM")
        ]
        assert current_fingerprint(event) == str(event["X-CALSYNC-HASH"])
    # Each resource carries its VTIMEZONE, as the feed does.
    for item in caldav.Calendar(client=other, url=calendar).search(event=True):
        zones = Calendar.from_ical(item.data).walk("VTIMEZONE")
        assert [str(z["TZID"]) for z in zones] == ["Europe/Brussels"]


def test_a_plan_change_updates_and_bumps_sequence(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
    tmp_path: Path,
) -> None:
    sync(radicale, plan, calendar, state)
    changed = variant(tmp_path, ("title: Zone 2 ride", "title: Zone 2 spin"))
    report = sync(radicale, changed, calendar, state)
    events = [e for _, e in stored(other, calendar).values()]
    spins = [e for e in events if "Zone 2 spin" in str(e["SUMMARY"])]
    bumped = [e for e in events if int(e["SEQUENCE"]) == 1]
    # The renamed rides, and the events whose conflict notes name them.
    assert spins and all(e in bumped for e in spins)
    assert counts(report) == {"updated": len(bumped), "unchanged": len(events) - len(bumped)}
    assert counts(sync(radicale, changed, calendar, state)) == {
        "unchanged": len(report.changes.changes) + report.changes.unchanged
    }


def test_a_removed_session_is_deleted_and_unmanaged_events_are_untouched(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
    tmp_path: Path,
) -> None:
    sync(radicale, plan, calendar, state)
    mine = caldav.Calendar(client=other, url=calendar)
    mine.save_event(foreign_event("dentist-1", date(2026, 12, 1), 9))
    # Another plan's event, and one that only looks like ours by its summary.
    mine.save_event(
        foreign_event("other-plan", date(2026, 12, 2), 9, "X-CALSYNC-PLAN:another-plan\r\n")
    )
    mine.save_event(foreign_event("lookalike", date(2026, 12, 3), 9))
    before = {h: e for h, e in etags(calendar, radicale).items() if "@calsync" not in h}

    fewer = variant(tmp_path, ("tue: [core 10:00, z2 20:00]", "tue: [z2 20:00]"))
    report = sync(radicale, fewer, calendar, state)
    cores = [c for c in report.changes.changes if c.key.endswith("/core")]
    assert counts(report)["deleted"] == len(cores) == WEEKS  # one Tuesday core a week
    after = etags(calendar, radicale)
    assert {h: e for h, e in after.items() if "@calsync" not in h} == before
    assert not [uid for uid in stored(other, calendar) if uid.endswith("-core@calsync")]
    assert counts(sync(radicale, fewer, calendar, state)).keys() == {"unchanged"}


def test_a_create_onto_an_event_moved_out_of_range_is_edited_not_done(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    first = sync(radicale, plan, calendar, state)
    uid = first_uid(first, "Legs")
    later = datetime(2027, 6, 1, 10, 0, tzinfo=plan.zone)
    edit(other, calendar, uid, dtstart=later, dtend=later + timedelta(hours=1))
    state.unlink()  # the memory is lost: the session looks never created, its href is taken
    report = sync(radicale, plan, calendar, state)
    [result] = [r for r in report.results if r.change.action.value == "create"]
    assert result.change.content is not None and result.change.content.uid == uid
    assert result.outcome is Outcome.EDITED  # 412 on create: looked at, not taken as ours
    assert stored(other, calendar)[uid][1].decoded("DTSTART") == later


def test_deleting_a_duplicate_keeps_the_memory_of_the_original(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    first = sync(radicale, plan, calendar, state)
    uid = first_uid(first, "Upper body")
    mine = caldav.Calendar(client=other, url=calendar)
    # A copy (an import, a "duplicate event"): our properties under another UID.
    copy = Calendar.from_ical(mine.get_event_by_uid(uid).data)
    for event in copy.walk("VEVENT"):
        event["UID"] = "copy-of-upper-body"
    mine.save_event(copy.to_ical().decode())

    report = sync(radicale, plan, calendar, state)
    assert counts(report)["deleted"] == 1 and "copy-of-upper-body" not in stored(other, calendar)
    mine.get_event_by_uid(uid).delete()  # then the owner deletes the session
    again = sync(radicale, plan, calendar, state)
    assert counts(again)["kept_deleted"] == 1 and "created" not in counts(again)
    assert uid not in stored(other, calendar)


# --- failures ----------------------------------------------------------------------


class Flaky:
    """Wraps a client's `request`: the n-th call and all later ones fail like a dead link;
    with `lose_answer`, the call goes through but its answer is lost (once)."""

    def __init__(self, client: Any, fail_from: int, lose_answer: bool = False) -> None:
        self.inner = client.request
        self.calls = 0
        self.fail_from = fail_from
        self.lose_answer = lose_answer
        client.request = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from caldav.lib.http_sync import requests as http

        self.calls += 1
        if self.calls < self.fail_from:
            return self.inner(*args, **kwargs)
        if self.lose_answer:
            if self.calls == self.fail_from:
                self.inner(*args, **kwargs)  # it lands on the server...
                raise http.exceptions.ConnectionError("connection reset")  # ...we never hear
            return self.inner(*args, **kwargs)
        raise http.exceptions.ConnectionError("connection refused")


def test_a_failure_in_the_middle_then_a_clean_rerun_converges(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    expected = {o.uid for o in expand(plan, START, START + timedelta(weeks=WEEKS)).occurrences}
    client = make_client(calendar, radicale.user, radicale.password, insecure=False)
    client.request(calendar, "PROPFIND", "", {"Depth": "0"})  # settle auth first
    Flaky(client, fail_from=13)  # the sync token, the REPORT, ten PUTs, then the link dies
    broken = sync(radicale, plan, calendar, state, client=client)
    assert counts(broken)["created"] == 10
    assert counts(broken)["failed"] == len(expected) - 10
    assert "cannot reach the CalDAV server" in (broken.failures[0].error or "")
    assert "not tried" in (broken.failures[-1].error or "")
    assert len(json.loads(state.read_text())["events"]) == 10  # only what landed

    healed = sync(radicale, plan, calendar, state)
    assert counts(healed) == {"created": len(expected) - 10, "unchanged": 10}
    assert set(stored(other, calendar)) == expected
    assert counts(sync(radicale, plan, calendar, state)).keys() == {"unchanged"}


def test_an_update_cancelled_by_the_owner_after_it_landed_is_not_counted_as_done(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
    tmp_path: Path,
) -> None:
    """An update lands, its answer is lost, and the owner cancels the event before the
    retry: the retry meets 412 and the re-check (`calsync.sync.recheck.landed`) finds
    our fingerprint on a cancelled event. calsync never writes one, so it is the owner's
    deletion: kept and reported, as Google does, not counted as updated."""
    sync(radicale, plan, calendar, state)
    changed = variant(tmp_path, ("title: Upper body", "title: Upper body heavy"))
    client = make_client(calendar, radicale.user, radicale.password, insecure=False)
    inner = client.request
    cancelled: list[str] = []
    first_only = threading.Lock()

    def lands_then_owner_cancels(url: str, method: str = "GET", *args: Any) -> Any:
        from caldav.lib.http_sync import requests as http

        answer = inner(url, method, *args)
        with first_only:  # writes go four at a time: only one of them is the first
            first = method == "PUT" and not cancelled
            if first:
                cancelled.append(str(Calendar.from_ical(args[0]).walk("VEVENT")[0]["UID"]))
        if first:
            uid = cancelled[0]
            edit(other, calendar, uid, status="CANCELLED")  # on their phone, meanwhile
            raise http.exceptions.ConnectionError("connection reset")  # we never hear
        return answer

    client.request = lands_then_owner_cancels  # type: ignore[method-assign]
    report = sync(radicale, changed, calendar, state, client=client)

    outcomes = {r.change.content.uid: r.outcome for r in report.results if r.change.content}
    assert outcomes.pop(cancelled[0]) is Outcome.EDITED
    assert set(outcomes.values()) == {Outcome.DONE} and not report.failures
    held = stored(other, calendar)[cancelled[0]][1]
    assert str(held["STATUS"]) == "CANCELLED" and "heavy" in str(held["SUMMARY"])


def test_radicale_killed_mid_run_then_restarted_converges(
    tmp_path: Path, plan: Plan, state: Path
) -> None:
    server = RadicaleServer(tmp_path / "own")
    server.folder.mkdir()
    server.start()
    try:
        url = f"{server.home}training/"
        client = make_client(server.home, server.user, server.password, insecure=False)
        client.request(url, "MKCALENDAR")
        inner = client.request
        puts = 0

        def stop_after_five_puts(url: str, method: str = "GET", *args: Any) -> Any:
            nonlocal puts
            if method == "PUT":
                puts += 1
                if puts == 6:
                    server.stop()  # the server dies under us
            return inner(url, method, *args)

        client.request = stop_after_five_puts  # type: ignore[method-assign]
        broken = sync(server, plan, url, state, client=client)
        # Five PUTs were let through; with writes in parallel, others may have been on their
        # way while the server was stopping, and some of the five not answered yet.
        landed = counts(broken)["created"]
        expected = len(expand(plan, START, START + timedelta(weeks=WEEKS)).occurrences)
        assert landed < expected and broken.failures

        server.start()
        healed = sync(server, plan, url, state)
        assert counts(healed) == {"created": expected - landed, "unchanged": landed}
    finally:
        server.stop()


def lose_first_answer(client: Any, method: str) -> None:
    """The first `method` request lands on the server, but its answer is lost."""
    from caldav.lib.http_sync import requests as http

    inner = client.request
    lost: list[str] = []

    def request(url: str, verb: str = "GET", *args: Any) -> Any:
        answer = inner(url, verb, *args)
        if verb == method and not lost:
            lost.append(url)
            raise http.exceptions.ConnectionError("connection reset")
        return answer

    client.request = request


class Refused:
    """An answer of a server without calendar-multiget."""

    status = 501
    reason = "Not Implemented"


def test_a_failed_multiget_is_a_failure_not_deletions(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    first = sync(radicale, plan, calendar, state)
    # Moved out of the range: only the multiget can tell it is still there.
    uid = first_uid(first, "Legs")
    later = datetime(2027, 6, 1, 10, 0, tzinfo=plan.zone)
    edit(other, calendar, uid, dtstart=later, dtend=later + timedelta(hours=1))
    client = make_client(calendar, radicale.user, radicale.password, insecure=False)
    inner = client.request

    def no_multiget(url: str, method: str, body: Any = "", *args: Any) -> Any:
        if method == "REPORT" and "calendar-multiget" in str(body):
            return Refused()
        return inner(url, method, body, *args)

    client.request = no_multiget  # type: ignore[method-assign]
    with pytest.raises(cs.CalDAVFailure, match=r"calendar-multiget: HTTP 501"):
        sync(radicale, plan, calendar, state, client=client)


def test_retry_after_is_honoured() -> None:
    from calsync.targets.caldav.wire import RateLimitError

    class SlowDown:
        url = "https://cal.example/dav/"
        calls = 0

        def request(self, url: str, method: str, body: Any, headers: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise RateLimitError(429, 7.0)
            return Refused()

    slept: list[float] = []
    answer = Transport(SlowDown(), Retry(sleep=slept.append)).send("GET", SlowDown.url)  # type: ignore[arg-type]
    assert answer.status == 501 and slept == [7.0]


def test_hrefs_to_another_server_or_down_to_http_are_refused() -> None:
    client = make_client("https://cal.example/dav/", "me", "s3cret", insecure=False)
    assert type(client) is cs.wire.Client  # no test instrumentation on the real path
    transport = Transport(client)
    assert transport.url("/dav/me/") == "https://cal.example/dav/me/"
    assert transport.url("https://CAL.example:443/dav/x/") == "https://CAL.example:443/dav/x/"
    for href in ("http://cal.example/dav/me/", "https://evil.example/dav/me/"):
        with pytest.raises(cs.CalDAVFailure, match="refused") as caught:
            transport.url(href)
        assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(cs.CalDAVFailure):
        transport.url("https://cal.example:8443/dav/me/")


def test_a_malformed_sequence_is_kept_as_edited(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    first = sync(radicale, plan, calendar, state)
    uid = first_uid(first, "Intervals")
    event = caldav.Calendar(client=other, url=calendar).get_event_by_uid(uid)
    data = event.data.replace("SEQUENCE:0", "SEQUENCE:two")
    assert "SEQUENCE:two" in data
    answer = other.put(str(event.url), data, {"Content-Type": "text/calendar"})
    assert answer.status in (201, 204)
    before = etags(calendar, radicale)
    report = sync(radicale, plan, calendar, state)
    assert counts(report) == {"unchanged": len(first.changes.changes) - 1, "kept_edited": 1}
    assert etags(calendar, radicale) == before


def test_a_bad_state_entry_is_skipped(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
) -> None:
    first = sync(radicale, plan, calendar, state)
    document = json.loads(state.read_text())
    broken = sorted(document["events"])[:3]
    del document["events"][broken[0]]["start"]
    document["events"][broken[1]]["start"] = "yesterday"
    document["events"][broken[2]] = "not an entry"
    state.write_text(json.dumps(document))
    report = sync(radicale, plan, calendar, state)
    assert counts(report) == {"unchanged": len(first.changes.changes)}
    assert "start" in json.loads(state.read_text())["events"][broken[0]]


# --- the command-line entry: discovery, messages -----------------------------------


def request(plan: Plan, dry_run: bool = False, weeks: int = WEEKS) -> SyncRequest:
    return SyncRequest(
        span=Range(START, weeks),
        now=not_before(plan),
        not_before=not_before(plan),
        overwrite_edits=False,
        restore_deleted=False,
        annotate=True,
        dry_run=dry_run,
    )


def target(server: RadicaleServer, plan: Plan, url: str, state: Path, **options: Any) -> SyncReport:
    values: dict[str, Any] = {
        "calendar": None,
        "username": server.user,
        "password": server.password,
        "busy_calendars": (),
        "insecure": False,
    } | options
    dry_run = values.pop("dry_run", False)
    return cs.caldav_target(
        plan, request(plan, dry_run), url, state_path=state, retry=NO_RETRY_WAIT, **values
    )


def test_home_url_and_calendar_name_find_or_create_the_calendar(
    radicale: RadicaleServer,
    plan: Plan,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    name = f"Plan {uuid.uuid4().hex[:8]}"
    dry = target(radicale, plan, radicale.home, state, calendar=name, dry_run=True)
    assert dry.dry_run and dry.changes.changes and not state.exists()
    names = [c.get_display_name() for c in other.principal().calendars()]
    assert name not in names  # a dry run creates nothing, not even the calendar

    first = target(radicale, plan, radicale.home, state, calendar=name)
    assert first.target == f"caldav:{name}" and counts(first).keys() == {"created"}
    [made] = [c for c in other.principal().calendars() if c.get_display_name() == name]
    writes = radicale.writes()
    again = target(radicale, plan, str(made.url), state)  # the calendar's own URL now
    assert counts(again).keys() == {"unchanged"} and radicale.writes() == writes


def test_a_calendar_made_but_unanswered_is_found_not_refused(
    radicale: RadicaleServer,
    plan: Plan,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    name = f"Lost {uuid.uuid4().hex[:8]}"
    client = make_client(radicale.home, radicale.user, radicale.password, insecure=False)
    lose_first_answer(client, "MKCALENDAR")  # made, then retried: "already there"
    report = target(radicale, plan, radicale.home, state, calendar=name, client=client)
    assert report.target == f"caldav:{name}" and counts(report).keys() == {"created"}
    assert [c.get_display_name() for c in other.principal().calendars()].count(name) == 1


def test_missing_calendar_is_named_after_the_plan_title(
    radicale: RadicaleServer,
    plan: Plan,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    titled = Plan(**{**plan.__dict__, "title": f"Training {uuid.uuid4().hex[:6]}"})
    target(radicale, titled, radicale.root, state)  # the server root leads to the home
    assert titled.title in [c.get_display_name() for c in other.principal().calendars()]


def test_unreachable_server_is_one_clear_failure(plan: Plan, state: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/athlete/"
    with pytest.raises(Failure) as caught:
        target(RadicaleServer(Path("/nonexistent")), plan, url, state, password="s3cret-pw")
    message = str(caught.value)
    assert message.startswith("cannot reach the CalDAV server at http://127.0.0.1:")
    assert "s3cret-pw" not in message and not state.exists()


def test_wrong_password_is_one_clear_failure(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    with pytest.raises(Failure) as caught:
        target(radicale, plan, calendar, state, password="not-the-password")
    message = str(caught.value)
    assert "refused the username or password (HTTP 401)" in message
    assert "not-the-password" not in message and radicale.password not in message
    assert not state.exists() and stored(other, calendar) == {}


@pytest.mark.parametrize("where", ["missing/", "event"])
def test_a_url_that_is_not_a_calendar_is_one_clear_failure(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
    where: str,
) -> None:
    if where == "event":
        caldav.Calendar(client=other, url=calendar).save_event(
            foreign_event("lunch", date(2026, 12, 1), 12)
        )
        url = calendar + "lunch.ics"
        expected = "is not a CalDAV calendar, principal or calendar home"
    else:
        url = calendar + where
        expected = "there is nothing at"
    writes = radicale.writes()
    with pytest.raises(Failure, match=expected):
        target(radicale, plan, url, state)
    assert radicale.writes() == writes and not state.exists()


def test_a_password_in_the_url_is_refused() -> None:
    with pytest.raises(BadInput) as caught:
        cs.check_url("https://me:hunter2@cal.example/")
    assert "hunter2" not in str(caught.value)


# --- busy time from other calendars ------------------------------------------------


def test_busy_calendars_feed_placement_and_the_overlap_rule(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    name = f"Work {uuid.uuid4().hex[:6]}"
    work = other.principal().make_calendar(name=name, cal_id=name.replace(" ", "-").lower())
    # Friday 4 December: the window-placed Zone 2 ride would go at 17:00 (UTC+1).
    work.save_event(foreign_event("late-meeting", date(2026, 12, 4), 16))
    work.save_event(foreign_event("free-time", date(2026, 12, 4), 18, "TRANSP:TRANSPARENT\r\n"))
    work.save_event(foreign_event("cancelled", date(2026, 12, 4), 19, "STATUS:CANCELLED\r\n"))
    # Monday 30 November 10:00 local: the fixed Legs session overlaps this one.
    work.save_event(foreign_event("standup", date(2026, 11, 30), 9))

    backend = backend_for(radicale, plan, calendar, state)
    start, end = not_before(plan), not_before(plan) + timedelta(weeks=1)
    busy = backend.busy((name,), start, end, plan.id)
    assert [(b.start, b.end, b.title) for b in busy] == [
        (utc(2026, 11, 30, 9), utc(2026, 11, 30, 10), f"busy in {name}"),
        (utc(2026, 12, 4, 16), utc(2026, 12, 4, 17), f"busy in {name}"),
    ]
    # The fallback for servers without free-busy-query reads the events: same answer.
    fallback = events_of(backend)._busy_from_events(str(work.url), name, start, end)
    assert sorted((b.start, b.end) for b in fallback) == [(b.start, b.end) for b in busy]

    report = target(radicale, plan, calendar, state, busy_calendars=(name,))
    assert any(c.busy for c in report.conflicts)  # the Monday overlap is reported
    ride = [
        c.start
        for c in report.changes.changes
        if c.start.date() == date(2026, 12, 4) and "Zone 2" in c.summary
    ]
    assert ride and ride[0].astimezone(UTC).hour >= 17  # placed after the meeting


def test_busy_events_in_an_unknown_zone_are_read_as_local_time_with_a_warning(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"Lotus {uuid.uuid4().hex[:6]}"
    work = other.principal().make_calendar(name=name, cal_id=name.replace(" ", "-").lower())
    lotus = foreign_event("supplier-call", date(2026, 12, 1), 13).replace(
        "DTSTART:20261201T130000Z\r\nDTEND:20261201T140000Z",
        "DTSTART;TZID=GMT-05.00/-04.00:20261201T140000\r\n"
        "DTEND;TZID=GMT-05.00/-04.00:20261201T150000",
    )
    work.save_event(lotus)
    backend = backend_for(radicale, plan, calendar, state)
    start, end = not_before(plan), not_before(plan) + timedelta(weeks=1)
    busy = events_of(backend)._busy_from_events(str(work.url), name, start, end)
    # 14:00 in the plan's zone (Brussels, UTC+1), as khal reads it.
    assert [(b.start, b.end) for b in busy] == [(utc(2026, 12, 1, 13), utc(2026, 12, 1, 14))]
    assert "unknown time zone 'GMT-05.00/-04.00'" in capsys.readouterr().err


def test_the_target_calendar_leaves_out_its_sessions_however_they_look(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    first = sync(radicale, plan, calendar, state, weeks=1)
    mine = caldav.Calendar(client=other, url=calendar)
    mine.save_event(foreign_event("dentist", date(2026, 12, 1), 7))
    # A client that dropped our X- properties (known by its UID only)...
    dropped = mine.get_event_by_uid(first_uid(first, "Legs"))
    with dropped.edit_icalendar_component() as component:
        for name in ("X-CALSYNC-PLAN", "X-CALSYNC-KEY", "X-CALSYNC-HASH"):
            component.pop(name)
    dropped.save()
    # ...and one that added a parameter to X-CALSYNC-PLAN.
    tagged = mine.get_event_by_uid(first_uid(first, "Intervals"))
    with tagged.edit_icalendar_component() as component:
        component.pop("X-CALSYNC-PLAN")
        component.add("X-CALSYNC-PLAN", plan.id, parameters={"X-SOURCE": "phone"})
    tagged.save()

    backend = backend_for(radicale, plan, calendar, state)
    start, end = not_before(plan), not_before(plan) + timedelta(weeks=1)
    busy = backend.busy((calendar,), start, end, plan.id)
    assert [(b.start, b.end) for b in busy] == [(utc(2026, 12, 1, 7), utc(2026, 12, 1, 8))]


# --- passwords ---------------------------------------------------------------------


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n", encoding="utf-8")
    url = "https://cal.example/"
    assert cs.resolve_password(secret, None, False, "me", url) == "from-file"
    monkeypatch.setenv("CALSYNC_TEST_PW", "from-env")
    assert cs.resolve_password(None, "CALSYNC_TEST_PW", False, "me", url) == "from-env"
    assert cs.resolve_password(None, None, False, None, url) is None  # no account at all
    with pytest.raises(cs.PasswordError, match="no password given: use --password-file"):
        cs.resolve_password(None, None, False, "me", url)
    with pytest.raises(cs.PasswordError, match="CALSYNC_UNSET_PW is not set"):
        cs.resolve_password(None, "CALSYNC_UNSET_PW", False, "me", url)
    with pytest.raises(cs.PasswordError, match="cannot read the password file"):
        cs.resolve_password(tmp_path / "none", None, False, "me", url)
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)  # not installed
    with pytest.raises(cs.PasswordError, match="pip install keyring"):
        cs.resolve_password(None, None, True, "me", url)


def test_keyring_is_asked_for_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    asked: list[tuple[str, str]] = []
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: asked.append((service, user)) or "from-keyring"  # type: ignore[attr-defined]
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = RuntimeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    assert cs.resolve_password(None, None, True, "me", "https://cal.example/dav/") == "from-keyring"
    assert asked == [("calsync:cal.example", "me")]


# --- the same guarantees as the Google sync ----------------------------------------


def test_same_plan_same_sessions_and_conflicts_as_google(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    other: caldav.DAVClient,
) -> None:
    from calsync.targets import google as g
    from fakes.fakegoogle import FakeGoogleCalendar, build_service

    schedule = expand(plan, START, START + timedelta(weeks=WEEKS))
    with FakeGoogleCalendar(time_zone="Europe/Brussels") as fake:
        google = g.GoogleBackend(
            build_service(fake), "primary", fake.batch_uri, g.Retry(sleep=lambda s: None)
        )
        dav = backend_for(radicale, plan, calendar, state)

        def both() -> tuple[SyncReport, SyncReport]:
            return (
                run_sync(schedule, google, "t", not_before(plan)),
                run_sync(schedule, dav, "t", not_before(plan)),
            )

        def same(a: SyncReport, b: SyncReport) -> None:
            assert counts(a) == counts(b)
            assert [c.message for c in a.conflicts] == [c.message for c in b.conflicts]

        same(*both())
        # The same user edit and the same user delete on both sides.
        g_events = {
            e["extendedProperties"]["private"]["calsyncKey"]: e for e in fake.events("primary")
        }
        keys = sorted(g_events)
        edited, deleted = keys[3], keys[5]
        gservice = build_service(fake)
        gservice.events().patch(
            calendarId="primary", eventId=g_events[edited]["id"], body={"summary": "Moved"}
        ).execute()
        gservice.events().delete(calendarId="primary", eventId=g_events[deleted]["id"]).execute()
        uid = {o.key: o.uid for o in schedule.occurrences}
        edit(other, calendar, uid[edited], summary="Moved")
        caldav.Calendar(client=other, url=calendar).get_event_by_uid(uid[deleted]).delete()
        a, b = both()
        same(a, b)
        assert counts(b) == {"unchanged": len(keys) - 2, "kept_edited": 1, "kept_deleted": 1}


def test_insecure_is_loud(
    radicale: RadicaleServer,
    plan: Plan,
    calendar: str,
    state: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target(radicale, plan, calendar, state, insecure=True, dry_run=True)
    err = capsys.readouterr().err
    assert "WARNING: --insecure" in err and radicale.password not in err
