"""The calendars the backend contract (tests/backend_contract.py) runs in, one `Place` each:

- memory: fakes/memory.py, the in-memory calendar with etags and injectable faults;
- google: fakes/fakegoogle.py through the real googleapiclient and `GoogleBackend`;
- caldav: a real Radicale (fakes/radicale_server.py) and `CalDAVBackend`.

On each, the owner acts through a client of their own: the calendar's own API
for memory, a second googleapiclient service, the `caldav` library's high-level
client (as a phone or a desktop calendar would). Used by tests/test_contract.py
and the state machines of tests/test_sync_machine.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from caldav.collection import Calendar as DAVCalendar
from caldav.davclient import DAVClient
from google.oauth2.credentials import Credentials
from icalendar import Calendar

import calsync.targets.google as g
from calsync.core.model import Plan
from calsync.sync.backend import Backend
from calsync.sync.engine import Action
from calsync.targets.caldav import CalDAVBackend, Transport, make_client
from calsync.targets.caldav.events import Reading, read_event, vevents
from calsync.targets.caldav.xml import query_body
from calsync.targets.retry import Retry
from fakes.fakegoogle import FakeGoogleCalendar, Fault, build_service
from fakes.memory import MemoryBackend, MemoryCalendar
from fakes.radicale_server import RadicaleServer
from tests.backend_contract import (
    FIRST_INSTANT,
    PLAN_ID,
    Place,
    Shown,
)
from tests.google_helpers import instant, managed, private, unmanaged

# --- memory ---------------------------------------------------------------------------


class MemoryPlace(Place):
    def __init__(self) -> None:
        self.calendar = MemoryCalendar("Training")
        self.busy_name = self.calendar.name

    def backend(self, plan: Plan) -> Backend:
        return MemoryBackend(self.calendar)

    def managed(self) -> dict[str, Shown]:
        live = [i for i in self.calendar.items.values() if i.plan == PLAN_ID and not i.cancelled]
        found = {i.key: Shown(i.ref, i.summary, i.start, i.stored) for i in live if i.key}
        assert len(found) == len(live), "a session key twice"
        return found

    def own(self) -> Any:
        return {r: i for r, i in self.calendar.items.items() if i.plan != PLAN_ID}

    def writes(self) -> int:
        return self.calendar.writes

    def reads(self) -> int:
        return self.calendar.reads

    def edit(self, key: str, summary: str) -> None:
        self.calendar.edit(key, summary=summary)

    def move(self, key: str, start: datetime) -> None:
        self.calendar.move(key, start)

    def delete(self, key: str) -> None:
        self.calendar.delete(key)

    def cancel(self, key: str) -> None:
        self.calendar.cancel(key)

    def add_own(self, summary: str, start: datetime, end: datetime) -> None:
        self.calendar.add_own(summary, start, end)

    def lose(self, action: Action) -> None:
        self.calendar.lose(action, times=3)  # three writes land unanswered, each sent again


# --- Google ---------------------------------------------------------------------------

PATTERNS = {
    Action.CREATE: r"^POST calendars/[^/]+/events$",
    Action.UPDATE: r"^PATCH calendars/[^/]+/events/",
    Action.DELETE: r"^DELETE calendars/[^/]+/events/",
}


class GooglePlace(Place):
    def __init__(self, server: FakeGoogleCalendar) -> None:
        self.server = server
        self.calendar = server.add_calendar("Training", "Europe/Brussels")["id"]
        self.busy_name = self.calendar
        self.owner = build_service(server).events()  # the owner's phone
        self.base = server.writes

    def backend(self, plan: Plan) -> Backend:
        service = g.build_service(Credentials(token="t"), self.server.root_url)  # type: ignore[no-untyped-call]  # google-auth has no hints
        retry = Retry(sleep=lambda seconds: None)
        return g.GoogleBackend(service, self.calendar, self.server.batch_uri, retry)

    def managed(self) -> dict[str, Shown]:
        return {
            key: Shown(e["id"], e["summary"], instant(e["start"]), private(e)["calsyncHash"])
            for key, e in managed(self.server, self.calendar).items()
        }

    def own(self) -> Any:
        return unmanaged(self.server, self.calendar)

    def writes(self) -> int:
        return self.server.writes - self.base

    def reads(self) -> int:
        return sum(
            1
            for method, path in self.server.api_calls
            if method == "GET" and path == f"calendars/{self.calendar}/events"
        )

    def _patch(self, key: str, body: dict[str, Any]) -> None:
        ref = self.managed()[key].ref
        self.owner.patch(calendarId=self.calendar, eventId=ref, body=body).execute()

    def edit(self, key: str, summary: str) -> None:
        self._patch(key, {"summary": summary})

    def move(self, key: str, start: datetime) -> None:
        shown = managed(self.server, self.calendar)[key]
        end = start + (instant(shown["end"]) - instant(shown["start"]))
        zone = "Europe/Brussels"
        self._patch(
            key,
            {
                "start": {"dateTime": start.isoformat(), "timeZone": zone},
                "end": {"dateTime": end.isoformat(), "timeZone": zone},
            },
        )

    def delete(self, key: str) -> None:
        ref = self.managed()[key].ref
        self.owner.delete(calendarId=self.calendar, eventId=ref).execute()

    def cancel(self, key: str) -> None:
        self._patch(key, {"status": "cancelled"})

    def add_own(self, summary: str, start: datetime, end: datetime) -> None:
        body = {
            "summary": summary,
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Brussels"},
            "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Brussels"},
        }
        self.owner.insert(calendarId=self.calendar, body=body).execute()

    def lose(self, action: Action) -> None:
        # httplib2 resends a batch whose answer is lost once by itself; the second
        # loss is left to calsync's retry, whose resend meets 409/412 and re-reads.
        self.server.inject(Fault(drop=True, times=2, match=PATTERNS[action]))


# --- CalDAV (Radicale) ----------------------------------------------------------------

METHODS = {Action.CREATE: "PUT", Action.UPDATE: "PUT", Action.DELETE: "DELETE"}


def lose_first_answers(client: Any, method: str, times: int = 1) -> None:
    """The first `times` `method` requests land on the server, but their answers are lost."""
    from caldav.lib.http_sync import requests as http

    inner = client.request
    lost: list[str] = []

    def request(url: str, verb: str = "GET", *args: Any) -> Any:
        answer = inner(url, verb, *args)
        if verb == method and len(lost) < times:
            lost.append(url)
            raise http.exceptions.ConnectionError("connection reset")
        return answer

    client.request = request


def read_by_owner(
    client: Any, calendar_url: str, plan: Plan, start: datetime, end: datetime
) -> dict[str, Reading]:
    """The range as the owner's client (the `caldav` library, independent of calsync's)
    reads it, by href: its ETag and what `read_event` makes of each event, as calsync's
    known-events memory keeps them."""
    answer = client.report(calendar_url, query_body(start, end), 1)
    return {
        r.href: (
            r.etag,
            [
                s
                for e in vevents(r.calendar_data)
                if (s := read_event(e, r.href, r.etag, plan.id, plan.zone))
            ],
        )
        for r in answer.parse_calendar_query()
    }


class RadicalePlace(Place):
    def __init__(self, server: RadicaleServer, state: Path) -> None:
        self.server, self.state = server, state
        self.other = cast(
            Any, DAVClient(url=server.home, username=server.user, password=server.password)
        )
        name = f"t{uuid.uuid4().hex[:12]}"
        self.other.principal().make_calendar(name=f"Test {name}", cal_id=name)
        self.url = f"{server.home}{name}/"
        self.busy_name = self.url
        self.losing: str | None = None
        self.base_writes, self.base_reads = server.writes(), server.requests()["REPORT"]

    def backend(self, plan: Plan) -> Backend:
        client = make_client(self.url, self.server.user, self.server.password, insecure=False)
        if self.losing:
            lose_first_answers(client, self.losing)
            self.losing = None
        transport = Transport(client, Retry(sleep=lambda seconds: None))
        return CalDAVBackend(transport, self.url, self.state, stamp=FIRST_INSTANT, zone=plan.zone)

    def _events(self) -> Iterator[tuple[Any, Any]]:
        mine: Any = DAVCalendar(client=self.other, url=self.url)
        for item in mine.search(event=True):
            for event in Calendar.from_ical(item.data).walk("VEVENT"):
                yield item, event

    def _ours(self, event: Any) -> bool:
        live = str(event.get("STATUS", "")).upper() != "CANCELLED"
        return live and str(event.get("X-CALSYNC-PLAN", "")) == PLAN_ID

    def managed(self) -> dict[str, Shown]:
        found: dict[str, Shown] = {}
        for item, event in self._events():
            if self._ours(event):
                key = str(event["X-CALSYNC-KEY"])
                assert key not in found, f"{key} twice"
                found[key] = Shown(
                    str(item.url),
                    str(event["SUMMARY"]),
                    event.decoded("DTSTART"),
                    str(event["X-CALSYNC-HASH"]),
                )
        return found

    def own(self) -> Any:
        return {
            str(item.url): item.data
            for item, event in self._events()
            if str(event.get("X-CALSYNC-PLAN", "")) != PLAN_ID
        }

    def writes(self) -> int:
        return self.server.writes() - self.base_writes

    def reads(self) -> int:
        return self.server.requests()["REPORT"] - self.base_reads

    def _find(self, key: str) -> tuple[Any, Any]:
        [found] = [
            (i, e) for i, e in self._events() if self._ours(e) and str(e["X-CALSYNC-KEY"]) == key
        ]
        return found

    def _item(self, key: str) -> Any:
        return self._find(key)[0]

    def _set(self, key: str, **fields: Any) -> None:
        item = self._item(key)
        with item.edit_icalendar_component() as component:
            for name, value in fields.items():
                component.pop(name.upper(), None)
                component.add(name.upper(), value)
        item.save()

    def edit(self, key: str, summary: str) -> None:
        self._set(key, summary=summary)

    def move(self, key: str, start: datetime) -> None:
        event = self._find(key)[1]
        length = event.decoded("DTEND") - event.decoded("DTSTART")
        self._set(key, dtstart=start, dtend=start + length)

    def delete(self, key: str) -> None:
        self._item(key).delete()

    def cancel(self, key: str) -> None:
        self._set(key, status="CANCELLED")

    def add_own(self, summary: str, start: datetime, end: datetime) -> None:
        DAVCalendar(client=self.other, url=self.url).save_event(
            dtstart=start, dtend=end, summary=summary, uid=f"own-{uuid.uuid4().hex[:8]}"
        )

    def lose(self, action: Action) -> None:
        self.losing = METHODS[action]
