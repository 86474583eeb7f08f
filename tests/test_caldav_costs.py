"""What a CalDAV run costs on the wire, counted by a proxy between calsync and a real Radicale.

The proxy (bench/proxy.py, the benchmarks' own) sees every exchange, with its method and bytes,
and can break any one of them: refused, answer lost, or the link dead from
there on. A rerun that changes nothing is one small listing; one change is the
listing and one PUT; an owner's edit is read and kept; writing four at a time
leaves the same calendar and the same report as one at a time; and a fault at
any request, with the pool at four, is repaired by the next run with nothing
doubled.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import caldav
import pytest
from icalendar import Calendar

from bench.proxy import Fault, LatencyProxy
from calsync.cli.sync_report import sync_counts
from calsync.core.model import Plan
from calsync.errors import Failure
from calsync.io.plans import load_plan
from calsync.sync.engine import SyncReport
from calsync.sync.request import Range, SyncRequest
from calsync.targets import caldav as cs
from calsync.targets.caldav.memory import KnownEvents
from calsync.targets.caldav.pool import JOBS_VARIABLE
from fakes.radicale_server import RadicaleServer
from tests.places import read_by_owner

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
START = date(2026, 11, 30)
NO_WAIT = cs.Retry(sleep=lambda seconds: None)


@pytest.fixture
def proxy(radicale: RadicaleServer) -> Iterator[LatencyProxy]:  # noqa: F811
    with LatencyProxy(radicale.root) as counting:
        yield counting


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(TEMPLATE)


@pytest.fixture
def calendar(radicale: RadicaleServer) -> str:  # noqa: F811
    """A fresh calendar's URL on the server itself (not through the proxy)."""
    name = f"t{uuid.uuid4().hex[:12]}"
    owner().principal().make_calendar(name=f"Test {name}", cal_id=name)
    return f"{radicale.home}{name}/"


_server: list[RadicaleServer] = []


@pytest.fixture(autouse=True)
def _remember_server(radicale: RadicaleServer) -> None:  # noqa: F811
    _server[:] = [radicale]


def owner() -> caldav.DAVClient:
    """The calendar owner's other client (a phone), straight to the server."""
    server = _server[0]
    return caldav.DAVClient(url=server.home, username=server.user, password=server.password)


def request(plan: Plan, weeks: int) -> SyncRequest:
    moment = datetime.combine(START, datetime.min.time(), tzinfo=plan.zone)
    return SyncRequest(
        span=Range(START, weeks),
        now=moment,
        not_before=moment,
        overwrite_edits=False,
        restore_deleted=False,
        annotate=True,
        dry_run=False,
    )


def sync(
    server: RadicaleServer,
    proxy: LatencyProxy,
    plan: Plan,
    calendar: str,
    state: Path,
    weeks: int = 4,
    **options: Any,
) -> SyncReport:
    """`sync caldav` as the command runs it, through the proxy, with a fresh count."""
    proxy.reset(options.pop("fault_at", None), options.pop("fault", "refuse"))
    return cs.caldav_target(
        plan,
        request(plan, weeks),
        proxy.through(calendar),
        None,
        server.user,
        server.password,
        (),
        False,
        state_path=state,
        retry=options.pop("retry", NO_WAIT),
        **options,
    )


def methods(proxy: LatencyProxy) -> dict[str, int]:
    """Requests by method since the proxy's last reset."""
    return dict(Counter(e.method for e in proxy.exchanges()))


def counts(report: SyncReport) -> dict[str, int]:
    return {k: v for k, v in sync_counts(report).items() if v}


@dataclass(frozen=True)
class Target:
    """One calendar synced through the proxy, its known events kept in one state file."""

    server: RadicaleServer
    proxy: LatencyProxy
    calendar: str
    state: Path

    def sync(self, plan: Plan) -> SyncReport:
        return sync(self.server, self.proxy, plan, self.calendar, self.state)

    def counted(self, plan: Plan) -> tuple[dict[str, int], dict[str, int]]:
        """A sync: what its report counts, and its requests by method."""
        return counts(self.sync(plan)), methods(self.proxy)


@pytest.fixture
def target(radicale: RadicaleServer, proxy: LatencyProxy, calendar: str, tmp_path: Path) -> Target:
    return Target(radicale, proxy, calendar, tmp_path / "known.json")


def on_server(calendar: str) -> dict[str, str]:
    """UID -> the event as the server holds it, less DTSTAMP; a duplicate UID fails."""
    found: dict[str, str] = {}
    for item in caldav.Calendar(client=owner(), url=calendar).search(event=True):
        for event in Calendar.from_ical(item.data).walk("VEVENT"):
            uid = str(event["UID"])
            assert uid not in found, f"duplicate UID {uid}"
            event.pop("DTSTAMP")
            found[uid] = event.to_ical().decode()
    return found


# --- reruns ------------------------------------------------------------------------


def test_a_no_op_rerun_is_one_small_request_with_credentials_sent_first(
    radicale: RadicaleServer,  # noqa: F811
    proxy: LatencyProxy,
    plan: Plan,
    calendar: str,
    target: Target,
) -> None:
    first, done = target.counted(plan)
    sessions = first["created"]
    assert done == {"PROPFIND": 2, "PUT": sessions, "REPORT": 1}  # the URL, the sync token

    again, done = target.counted(plan)
    assert again == {"unchanged": sessions}
    assert done == {"REPORT": 1}  # what changed since: calsync's own writes, nothing read
    assert all(e.authorized for e in proxy.exchanges())  # no 401 round trip
    listing = sum(e.down for e in proxy.exchanges())

    # The same range listed with every event's data, as calsync did before.
    proxy.reset()
    client = cs.make_client(proxy.through(calendar), radicale.user, radicale.password, False)
    body = cs.query_body(datetime(2026, 11, 30), datetime(2026, 12, 28))
    client.request(proxy.through(calendar), "REPORT", body, {"Depth": "1"})
    assert listing * 2 < sum(
        e.down for e in proxy.exchanges()
    )  # both gzipped, as the server sends them

    third, done = target.counted(plan)
    assert third == again and done == {"REPORT": 1}
    assert sum(e.down for e in proxy.exchanges()) < 1000  # nothing changed: a new token


def test_one_change_costs_the_listing_and_one_put(
    plan: Plan, target: Target, tmp_path: Path
) -> None:
    target.sync(plan)
    text = TEMPLATE.read_text(encoding="utf-8").replace(
        "2026-12-24: [z2 09:00]", "2026-12-24: [z2 09:30]"
    )
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
    changed = load_plan(tmp_path / "plan.yaml")
    report, done = target.counted(changed)
    assert report["updated"] == 1
    assert done == {"PUT": 1, "REPORT": 1}
    _, done = target.counted(changed)
    assert done == {"REPORT": 1}  # the PUT's new ETag was kept


def test_an_owner_edit_is_read_by_its_new_etag_and_kept(
    proxy: LatencyProxy, plan: Plan, calendar: str, target: Target
) -> None:
    first = target.sync(plan)
    uid = next(c.content.uid for c in first.changes.changes if c.content and "Legs" in c.summary)
    event = caldav.Calendar(client=owner(), url=calendar).get_event_by_uid(uid)
    with event.edit_icalendar_component() as component:
        component.pop("SUMMARY")
        component.add("SUMMARY", "Legs with Anna")
    event.save()

    report, done = target.counted(plan)
    assert report["kept_edited"] == 1 and "updated" not in report
    # What changed (not calsync's doing), the range's ETags, then that one event read.
    assert done == {"REPORT": 3}
    multiget = [e for e in proxy.exchanges() if e.method == "REPORT"][2]
    assert multiget.up < 2000  # one href asked for
    report, done = target.counted(plan)
    assert report["kept_edited"] == 1 and done == {"REPORT": 1}


def test_an_event_the_owner_adds_is_listed_not_taken_on_trust(
    plan: Plan, calendar: str, target: Target
) -> None:
    first, _ = target.counted(plan)
    target.sync(plan)  # now the kept token is after calsync's own writes
    appointment = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VEVENT\r\n"
        "UID:dentist-1@phone\r\nDTSTAMP:20261201T080000Z\r\n"
        "DTSTART:20261203T080000Z\r\nDTEND:20261203T090000Z\r\n"
        "SUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    caldav.Calendar(client=owner(), url=calendar).save_event(appointment)

    report, done = target.counted(plan)
    assert report == {"unchanged": first["created"]}
    assert done == {"REPORT": 3}  # what changed, the range's ETags, the new event read
    _, done = target.counted(plan)
    assert done == {"REPORT": 1}  # read once: now part of the kept listing


def test_a_session_the_owner_deletes_is_seen_through_the_changes(
    plan: Plan, calendar: str, target: Target
) -> None:
    first = target.sync(plan)
    target.sync(plan)
    uid = next(c.content.uid for c in first.changes.changes if c.content and "Legs" in c.summary)
    caldav.Calendar(client=owner(), url=calendar).get_event_by_uid(uid).delete()

    report, done = target.counted(plan)
    assert report.get("kept_deleted") == 1 and "created" not in report
    assert done == {"REPORT": 2}  # what changed (one href gone), then it is looked for


def test_another_range_is_listed_and_the_token_kept(plan: Plan, target: Target) -> None:
    target.sync(plan)
    longer = sync(target.server, target.proxy, plan, target.calendar, target.state, weeks=6)
    assert "created" in counts(longer) and "deleted" not in counts(longer)
    done = methods(target.proxy)
    assert done["REPORT"] == 1 and "PROPFIND" not in done  # listed; the old token still good
    again = sync(target.server, target.proxy, plan, target.calendar, target.state, weeks=6)
    assert counts(again).keys() == {"unchanged"} and methods(target.proxy) == {"REPORT": 1}


def test_a_token_the_server_no_longer_knows_means_a_new_one_and_a_listing(
    plan: Plan, target: Target
) -> None:
    first, _ = target.counted(plan)
    document = json.loads(target.state.read_text())
    document["listing"]["token"] = "http://radicale.org/ns/sync/" + "0" * 64
    target.state.write_text(json.dumps(document))

    report, done = target.counted(plan)
    assert report == {"unchanged": first["created"]}
    assert done == {"REPORT": 2, "PROPFIND": 1}  # refused, a new token, the listing
    _, done = target.counted(plan)
    assert done == {"REPORT": 1}


@pytest.mark.parametrize(
    ("field", "damage"), [("token", 42), ("span", "all of it")], ids=["token", "span"]
)
def test_a_damaged_token_or_span_in_the_state_file_means_a_listing(
    plan: Plan, target: Target, field: str, damage: object
) -> None:
    first, _ = target.counted(plan)
    document = json.loads(target.state.read_text())
    document["listing"][field] = damage
    target.state.write_text(json.dumps(document))

    report, done = target.counted(plan)
    assert report == {"unchanged": first["created"]}
    assert done["REPORT"] == 1 and done.get("PROPFIND", 0) == (field == "token")
    _, done = target.counted(plan)
    assert done == {"REPORT": 1}


def test_a_server_that_offers_no_sync_token_is_listed_and_not_asked_again(
    plan: Plan, target: Target
) -> None:
    first, _ = target.counted(plan)
    document = json.loads(target.state.read_text())
    document["listing"]["token"] = ""  # what `current_token` keeps for such a server
    target.state.write_text(json.dumps(document))

    for _ in range(2):
        report, done = target.counted(plan)
        assert report == {"unchanged": first["created"]}
        assert done == {"REPORT": 1}  # the range's ETags, as before RFC 6578
        assert json.loads(target.state.read_text())["listing"]["token"] == ""


def test_what_is_kept_of_each_event_is_what_reading_it_gives(
    plan: Plan, calendar: str, target: Target
) -> None:
    target.sync(plan)  # kept from the PUTs' answers, unread
    kept = KnownEvents(target.state).readings(plan.id, str(plan.zone))
    span = (datetime(2026, 1, 1), datetime(2028, 1, 1))
    read = {h: seen for h, (_, seen) in read_by_owner(owner(), calendar, plan, *span).items()}
    assert kept.keys() == read.keys() and kept
    for href, (etag, seen) in kept.items():
        assert [s.remote.etag for s in read[href]] == [etag]
        assert seen == read[href]
        assert [s.remote.start.isoformat() for s in seen] == [
            s.remote.start.isoformat() for s in read[href] if s
        ]


def test_a_dry_run_into_a_calendar_not_yet_made_asks_only_where_it_would_be(
    radicale: RadicaleServer,  # noqa: F811
    proxy: LatencyProxy,
    plan: Plan,
    tmp_path: Path,
) -> None:
    proxy.reset()
    dry = replace(request(plan, 4), dry_run=True)
    report = cs.caldav_target(
        plan, dry, proxy.through(radicale.home), f"Plan {uuid.uuid4().hex[:8]}", radicale.user,
        radicale.password, (), False, state_path=tmp_path / "known.json", retry=NO_WAIT,
    )  # fmt: skip
    assert report.dry_run and counts(report).keys() == {"created"}
    assert methods(proxy) == {"PROPFIND": 2}  # the home, its calendars; no sync token


def test_a_damaged_listing_is_one_warning_and_a_full_read(
    plan: Plan, target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = target.counted(plan)
    document = json.loads(target.state.read_text())
    href = sorted(document["listing"]["hrefs"])[0]
    document["listing"]["hrefs"][href]["events"][0]["start"] = "a Tuesday"
    target.state.write_text(json.dumps(document))

    report, done = target.counted(plan)
    assert report == {"unchanged": first["created"]}
    assert done == {"PROPFIND": 1, "REPORT": 2}  # a sync token, the listing, every event read
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1 and "damaged list of the calendar's events" in err
    _, done = target.counted(plan)
    assert done == {"REPORT": 1} and "WARNING" not in capsys.readouterr().err


def test_a_remembered_calendar_that_is_gone_is_found_afresh(
    radicale: RadicaleServer,  # noqa: F811
    proxy: LatencyProxy,
    plan: Plan,
    tmp_path: Path,
) -> None:
    name = f"Plan {uuid.uuid4().hex[:8]}"
    state = tmp_path / "known.json"

    def run() -> SyncReport:
        proxy.reset()
        return cs.caldav_target(
            plan, request(plan, 1), proxy.through(radicale.home), name, radicale.user,
            radicale.password, (), False, state_path=state, retry=NO_WAIT,
        )  # fmt: skip

    first = run()
    assert counts(first).keys() == {"created"}
    [made] = [c for c in owner().principal().calendars() if c.get_display_name() == name]
    made.delete()  # the owner deletes the whole calendar
    again = run()
    assert counts(again) == counts(first)  # made again, filled again
    assert methods(proxy)["MKCALENDAR"] == 1
    assert [c.get_display_name() for c in owner().principal().calendars()].count(name) == 1


# --- writing four at a time --------------------------------------------------------


def test_four_at_a_time_leaves_the_same_calendar_and_report_as_one(
    radicale: RadicaleServer,  # noqa: F811
    proxy: LatencyProxy,
    plan: Plan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = {}
    contents = {}
    for jobs in ("1", "4"):
        monkeypatch.setenv(JOBS_VARIABLE, jobs)
        url = calendar_url(radicale)
        report = sync(radicale, proxy, plan, url, tmp_path / f"known-{jobs}.json", weeks=8)
        reports[jobs] = (
            counts(report),
            [(r.change.key, r.change.action, r.outcome, r.error) for r in report.results],
            [c.message for c in report.conflicts],
        )
        contents[jobs] = on_server(url)
    assert reports["1"] == reports["4"]
    assert contents["1"] == contents["4"] and contents["1"]


def calendar_url(server: RadicaleServer) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    owner().principal().make_calendar(name=f"Test {name}", cal_id=name)
    return f"{server.home}{name}/"


# --- the fault sweep, with the pool at four -----------------------------------------

SWEEP_WEEKS = 1


def sweep_plan(tmp_path: Path, plan: Plan) -> Plan:
    """The template with one session renamed: the second run updates, deletes nothing."""
    text = TEMPLATE.read_text(encoding="utf-8").replace("title: Core", "title: Core and carries")
    (tmp_path / "changed.yaml").write_text(text, encoding="utf-8")
    return load_plan(tmp_path / "changed.yaml")


@pytest.mark.parametrize("fault", ["refuse", "lose", "dead"])
def test_a_fault_at_any_request_is_repaired_by_the_next_run(
    radicale: RadicaleServer,  # noqa: F811
    proxy: LatencyProxy,
    plan: Plan,
    tmp_path: Path,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(JOBS_VARIABLE, "4")
    changed = sweep_plan(tmp_path, plan)
    # A clean pair of runs, to know how many requests each takes and the end state.
    url = calendar_url(radicale)
    sync(radicale, proxy, plan, url, tmp_path / "clean.json", SWEEP_WEEKS)
    first_requests = len(proxy.exchanges())
    expected = {"first": on_server(url)}
    sync(radicale, proxy, changed, url, tmp_path / "clean.json", SWEEP_WEEKS)
    second_requests = len(proxy.exchanges())
    expected["change"] = on_server(url)
    assert expected["first"] != expected["change"]

    for stage, total in (("first", first_requests), ("change", second_requests)):
        target = plan if stage == "first" else changed
        for n in range(1, total + 1):
            url = calendar_url(radicale)
            state = tmp_path / f"{stage}-{n}.json"
            if stage == "change":
                sync(radicale, proxy, plan, url, state, SWEEP_WEEKS)
            with contextlib.suppress(Failure):  # a failed run is fine: what it leaves counts
                sync(radicale, proxy, target, url, state, SWEEP_WEEKS, fault_at=n, fault=fault)
            healed = sync(radicale, proxy, target, url, state, SWEEP_WEEKS)
            assert not healed.failures, (stage, n)
            assert on_server(url) == expected[stage], (stage, n)
            quiet = sync(radicale, proxy, target, url, state, SWEEP_WEEKS)
            assert counts(quiet).keys() == {"unchanged"}, (stage, n, counts(quiet))


def test_the_pool_benchmark_measures_the_three_runs(
    radicale: RadicaleServer,  # noqa: F811
) -> None:
    from bench.caldav_bench import pool_runs
    from bench.servers import CalDAVServer
    from bench.workload import Workload

    server = CalDAVServer(
        "Radicale", radicale.root, f"{radicale.user}/", radicale.user, radicale.password
    )
    found = pool_runs(Workload(weeks=1, latency=0.0, reps=1), server, [2])
    first, noop, change = found[2]
    calendar = f"{radicale.home}pool-2/"
    assert first.by_method()["PUT"] == first.writes - 1 == len(on_server(calendar)) > 0
    assert noop.by_method() == {"REPORT": 1} and change.by_method() == {"PUT": 1, "REPORT": 1}
