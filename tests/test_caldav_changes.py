"""A rerun asks what changed since the last listing (RFC 6578), on Xandikos and in the answers.

Radicale's side is in test_caldav_costs.py. Xandikos words its answers differently
(its token after the changes, 412 for a token it does not know), so the same runs
are made against it here, through the same counting proxy; then the answers as
each server and RFC 6578 write them, read by `multistatus.sync_collection`.
"""

from __future__ import annotations

import http.client
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.caldav_peers import make_calendar
from bench.proxy import LatencyProxy
from bench.servers import CalDAVServer, caldav_server
from calsync.cli.sync_report import sync_counts
from calsync.core.model import Plan
from calsync.io.plans import load_plan
from calsync.sync.engine import SyncReport
from calsync.sync.request import Range, SyncRequest
from calsync.targets import caldav as cs
from calsync.targets.caldav import multistatus
from calsync.targets.caldav.memory import KnownEvents

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
START = date(2026, 11, 30)
NO_WAIT = cs.Retry(sleep=lambda seconds: None)


@pytest.fixture(scope="module")
def xandikos() -> Iterator[CalDAVServer]:
    with caldav_server("Xandikos") as server:
        yield server


@pytest.fixture
def proxy(xandikos: CalDAVServer) -> Iterator[LatencyProxy]:
    with LatencyProxy(xandikos.root) as counting:
        yield counting


def _put(server: CalDAVServer, path: str, body: str) -> int:
    """An event written straight to the server: the owner's other client."""
    parts = urlsplit(server.root)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request("PUT", path, body.encode(), {"Content-Type": "text/calendar"})
    status = connection.getresponse().status
    connection.close()
    return status


class Calendar:
    """One calendar on Xandikos, synced by calsync through the proxy."""

    def __init__(self, server: CalDAVServer, proxy: LatencyProxy, folder: Path, name: str):
        self.server, self.proxy = server, proxy
        self.path = "/" + make_calendar(server, name)
        self.state = folder / "known.json"
        self.plan: Plan = load_plan(TEMPLATE)

    def sync(self) -> tuple[dict[str, int], dict[str, int]]:
        """One run: what its report counts, and its requests by method."""
        self.proxy.reset()
        moment = datetime.combine(START, datetime.min.time(), tzinfo=self.plan.zone)
        request = SyncRequest(
            span=Range(START, 4), now=moment, not_before=moment, overwrite_edits=False,
            restore_deleted=False, annotate=True, dry_run=False,
        )  # fmt: skip
        report: SyncReport = cs.caldav_target(
            self.plan, request, self.proxy.through(self.server.root + self.path[1:]), None, self.server.user,
            self.server.password, (), False, state_path=self.state, retry=NO_WAIT,
        )  # fmt: skip
        counts = {k: v for k, v in sync_counts(report).items() if v}
        return counts, dict(Counter(e.method for e in self.proxy.exchanges()))

    def down(self) -> int:
        return sum(e.down for e in self.proxy.exchanges())


@pytest.fixture
def calendar(xandikos: CalDAVServer, proxy: LatencyProxy, tmp_path: Path) -> Calendar:
    return Calendar(xandikos, proxy, tmp_path, f"t{tmp_path.name[-12:]}".replace("_", ""))


def test_a_rerun_on_xandikos_asks_only_what_changed(calendar: Calendar) -> None:
    first, done = calendar.sync()
    assert done["PUT"] == first["created"] and done["PROPFIND"] == 2  # the URL, the token
    _, done = calendar.sync()
    assert done == {"REPORT": 1}  # calsync's own writes, each at the ETag its PUT gave
    again, done = calendar.sync()
    assert again == {"unchanged": first["created"]} and done == {"REPORT": 1}
    assert calendar.down() < 1000


def test_an_owner_edit_on_xandikos_is_read_and_kept(calendar: Calendar) -> None:
    calendar.sync()
    calendar.sync()
    kept = KnownEvents(calendar.state).readings(calendar.plan.id, str(calendar.plan.zone))
    href = next(h for h, (_, seen) in kept.items() if seen and "Legs" in seen[0].remote.summary)
    parts = urlsplit(calendar.server.root)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request("GET", href)
    text = connection.getresponse().read().decode()
    connection.close()
    edited = re.sub(r"(\r\nSUMMARY:[^\r]*)", r"\1 with Anna", text, count=1)
    assert edited != text and _put(calendar.server, href, edited) in (201, 204)

    report, done = calendar.sync()
    assert report.get("kept_edited") == 1 and "updated" not in report
    assert done == {"REPORT": 3}  # what changed, the range's ETags, that one event read
    report, done = calendar.sync()
    assert report.get("kept_edited") == 1 and done == {"REPORT": 1}


def test_a_token_xandikos_does_not_know_means_a_new_one_and_a_listing(
    calendar: Calendar,
) -> None:
    first, _ = calendar.sync()
    document = calendar.state.read_text().replace('"token": "', '"token": "0000', 1)
    calendar.state.write_text(document)
    report, done = calendar.sync()  # Xandikos answers 412 where Radicale answers 403
    assert report == {"unchanged": first["created"]}
    assert done == {"REPORT": 2, "PROPFIND": 1}
    _, done = calendar.sync()
    assert done == {"REPORT": 1}


# --- the answers, as the RFC and each server write them ----------------------------

XANDIKOS = (
    b'<ns0:multistatus xmlns:ns0="DAV:"><ns0:response>'
    b"<ns0:href>/athlete/calendars/t/e0.ics</ns0:href><ns0:propstat>"
    b"<ns0:status>HTTP/1.1 200 OK</ns0:status><ns0:prop>"
    b'<ns0:getetag>"134b"</ns0:getetag></ns0:prop></ns0:propstat></ns0:response>'
    b"<ns0:response><ns0:href>/athlete/calendars/t/e1.ics</ns0:href>"
    b"<ns0:status>HTTP/1.1 404 Not Found</ns0:status></ns0:response>"
    b"<ns0:sync-token>7b9b54</ns0:sync-token></ns0:multistatus>"
)

# RFC 6578 3.6: a truncated answer names the collection itself with 507.
TRUNCATED = (
    b'<d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/e0.ics</d:href>'
    b'<d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop>'
    b"<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    b"<d:response><d:href>/cal/</d:href>"
    b"<d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>"
    b"<d:sync-token>http://example.com/sync/10</d:sync-token></d:multistatus>"
)


def test_changes_are_read_with_the_token_after_them() -> None:
    changes = multistatus.sync_collection(multistatus.parse(XANDIKOS, True), "/athlete/t/")
    assert changes is not None and changes.complete
    assert changes.token == "7b9b54"
    assert changes.changed == {"/athlete/calendars/t/e0.ics": '"134b"'}
    assert changes.gone == {"/athlete/calendars/t/e1.ics"}


def test_a_truncated_answer_is_not_complete() -> None:
    changes = multistatus.sync_collection(multistatus.parse(TRUNCATED, True), "/cal/")
    assert changes is not None and not changes.complete
    assert changes.token == "http://example.com/sync/10"


def test_an_answer_without_a_token_is_not_used() -> None:
    body = XANDIKOS.replace(b"<ns0:sync-token>7b9b54</ns0:sync-token>", b"")
    assert multistatus.sync_collection(multistatus.parse(body, True), "/athlete/t/") is None


def test_the_calendar_itself_among_the_changes_is_not_a_member() -> None:
    """iCloud lists the collection, with an ETag, among the changes."""
    body = XANDIKOS.replace(
        b"<ns0:sync-token>",
        b"<ns0:response><ns0:href>/athlete/calendars/t/</ns0:href><ns0:propstat>"
        b"<ns0:status>HTTP/1.1 200 OK</ns0:status><ns0:prop>"
        b'<ns0:getetag>"c1"</ns0:getetag></ns0:prop></ns0:propstat></ns0:response>'
        b"<ns0:sync-token>",
    )
    changes = multistatus.sync_collection(multistatus.parse(body, True), "/athlete/calendars/t/")
    assert changes is not None and changes.complete
    assert changes.changed == {"/athlete/calendars/t/e0.ics": '"134b"'}
