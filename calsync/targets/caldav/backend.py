"""The engine's Backend for one CalDAV calendar collection: list, then write.

Listing (RFC 4791 7.8, 7.9): the range's hrefs and ETags only; the events whose
ETag moved since the last run read them, and only those, fetched with
calendar-multiget; the rest as read then (the known-events memory keeps them).
An event the owner edited behind calsync's back has a new ETag, so it is read
and judged as on a first run. Known sessions missing from the range are read
back by href: moved out of the range by the owner, or deleted.

A rerun over the same range first asks what changed since the last listing
(RFC 6578 sync-collection, with the token the server gave before that listing).
When every change is one calsync already knows of (its own writes and deletes),
the kept listing is the calendar's, and nothing else is asked; any other change
(an edit, a new event, a token the server no longer knows) and the range is
listed as above. The token only ever saves a listing: it never stands in for
what the calendar shows.

Writing (RFC 9110 preconditions): a create is `If-None-Match: *` on an href
derived from the UID, an update or a delete `If-Match` the ETag read; a 412 is
re-read to tell our own earlier write (whose answer was lost) from the owner's
edit. Writes go through a small pool of threads (`pool`), each on its own
connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from calsync.core.content import EventContent
from calsync.core.model import Busy
from calsync.errors import TargetError
from calsync.sync import recheck
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.targets.caldav.changes import changed_since, current_token
from calsync.targets.caldav.events import Reading, Seen, read_event, vevents, written
from calsync.targets.caldav.freebusy import BusyReader
from calsync.targets.caldav.http import (
    CalDAVFailure,
    Transport,
    describe,
    ok,
    public_url,
    server_of,
)
from calsync.targets.caldav.memory import KnownEvents, default_state_path
from calsync.targets.caldav.names import Warn, plain_warning
from calsync.targets.caldav.pool import Fatal, apply_all, current_jobs
from calsync.targets.caldav.where import MOVED
from calsync.targets.caldav.wire import Answer
from calsync.targets.caldav.xml import ICALENDAR, etags_body, multiget_body, query_body
from calsync.targets.ics import render_event

MULTIGET_BATCH = 200  # hrefs per calendar-multiget: bodies of a few tens of kB


class CalDAVBackend:
    """The engine's Backend for one CalDAV calendar collection."""

    def __init__(
        self,
        transport: Transport,
        calendar_url: str,
        state_path: Path | None = None,
        *,
        stamp: datetime,
        zone: tzinfo = UTC,
        home_url: str | None = None,
        jobs: int | None = None,
        warn: Warn = plain_warning,
    ) -> None:
        self.transport = transport
        self.warn = warn
        self.jobs = current_jobs() if jobs is None else jobs  # writes at a time
        self.stamp = stamp.astimezone(UTC)  # DTSTAMP of what is written: the command's instant
        self.calendar_url = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
        self._state_path = state_path
        self.known = KnownEvents(state_path or default_state_path(self.calendar_url), warn)
        # Called when the calendar is not where an earlier run found it: finds it afresh
        # and re-points this backend (`point_at`); None: the URL was looked up this run.
        self.relocate: Callable[[], None] | None = None
        self.zone = zone  # floating times and all-day dates of remote events are read here
        self.home_url = home_url
        self.fresh = False  # a calendar created in this run holds nothing yet
        self.absent = False  # not there at all (a dry run did not make it): nothing to ask
        self.label = "caldav"  # the target in reports; `caldav_target` names the calendar
        self._seen: dict[str, Seen] = {}  # by href: what a write needs beyond `Remote`

    def point_at(
        self, calendar_url: str, home_url: str | None, fresh: bool, absent: bool = False
    ) -> None:
        """Use another calendar (before anything is listed or written)."""
        self.calendar_url = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
        self.known = KnownEvents(
            self._state_path or default_state_path(self.calendar_url), self.warn
        )
        self.home_url = home_url
        self.fresh = fresh
        self.absent = absent
        if fresh:
            self.known.clear()  # a new calendar under an old URL holds none of the old keys

    def href_for(self, uid: str) -> str:
        """The deterministic href of a new event, from its UID (decoded, like the hrefs a
        server lists; `Transport.url` quotes it). A "/" could not stay in one segment."""
        return unquote(urlsplit(self.calendar_url).path) + uid.replace("/", "-") + ".ics"

    # --- listing ---

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        if self.fresh:
            self._keep_empty(plan_id, start, end)
            return []
        seen = self._list_range(plan_id, start, end)
        present = {s.remote.key for s in seen}
        gone = self.known.missing(plan_id, start, end, present)
        if gone:
            seen += self._look_for(gone, plan_id)
        # Ours first: when a key has duplicates the engine keeps the first live one and
        # deletes the others, so that first one is the one to remember.
        seen.sort(key=lambda s: (not s.ours, s.remote.ref))
        kept: set[str] = set()
        for item in seen:
            self._seen[item.remote.ref] = item
            if not item.remote.cancelled and item.remote.key not in kept:
                kept.add(item.remote.key)
                self.known.remember(plan_id, item.remote, item.remote.ref, item.sequence)
        self.known.prune(start - timedelta(days=400))
        return [s.remote for s in seen]

    def _list_range(self, plan_id: str, start: datetime, end: datetime) -> list[Seen]:
        """The events in the range: as kept, when nothing but calsync's own writes changed
        since the last listing (`changes.changed_since`); else their ETags listed, then
        only those whose ETag moved since the last run read them fetched (calendar-multiget),
        the others as read then."""
        zone = str(self.zone)
        kept = self.known.readings(plan_id, zone)
        token, span = self.known.sync_point(plan_id, zone)
        if token and span == [start.isoformat(), end.isoformat()]:
            token, current = changed_since(self.transport, self.calendar_url, token, kept)
            if current is not None:
                self.known.keep_listing(plan_id, zone, current, token, (start, end))
                return [item for _, events in current.values() for item in events]
        if token is None:  # asked before the listing, so what changes after, it reports
            token = current_token(self.transport, self.calendar_url)
        answer = self.transport.send(
            "REPORT", self.calendar_url, etags_body(start, end), {"Depth": "1"}
        )
        if answer.status in MOVED and self.relocate is not None:
            relocate, self.relocate = self.relocate, None
            relocate()  # the calendar an earlier run found is gone: find it afresh
            if self.fresh:
                self._keep_empty(plan_id, start, end)
                return []
            return self._list_range(plan_id, start, end)
        answer = self._listed_ok(answer)
        readings: dict[str, Reading] = {}
        stale: list[str] = []
        for result in answer.parse_calendar_query():
            if result.status != 200:
                continue
            before = kept.get(result.href)
            if result.etag and before is not None and before[0] == result.etag:
                readings[result.href] = before
            else:
                stale.append(result.href)
        if stale:
            fetched = self._fetch(stale, plan_id)
            if fetched is None:  # no calendar-multiget here: the range with its events
                return self._read(self._report(query_body(start, end)), plan_id)
            readings.update(fetched)
        listed = {h: r for h, r in readings.items() if r[0]}
        self.known.keep_listing(plan_id, zone, listed, token, (start, end))
        return [item for _, events in readings.values() for item in events]

    def _keep_empty(self, plan_id: str, start: datetime, end: datetime) -> None:
        """A calendar made on this run holds nothing: its listing is empty."""
        token = None if self.absent else current_token(self.transport, self.calendar_url)
        self.known.keep_listing(plan_id, str(self.zone), {}, token, (start, end))

    def _report(self, body: str) -> Answer:
        return self._listed_ok(
            self.transport.send("REPORT", self.calendar_url, body, {"Depth": "1"})
        )

    def _listed_ok(self, answer: Answer) -> Answer:
        if answer.status not in (200, 207):
            raise CalDAVFailure(
                f"the CalDAV server could not list the events of {public_url(self.calendar_url)} "
                f"({describe(answer)})"
            )
        return answer

    def _fetch(self, hrefs: Sequence[str], plan_id: str) -> dict[str, Reading] | None:
        """The events at these hrefs, read, by href with their ETags (None: refused)."""
        found: dict[str, Reading] = {}
        for first in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[first : first + MULTIGET_BATCH]
            answer = self.transport.send("REPORT", self.calendar_url, multiget_body(batch))
            if answer.status not in (200, 207):
                return None
            for result in answer.parse_calendar_query():
                if result.status != 200:
                    continue  # deleted since it was listed
                events = [
                    read_event(event, result.href, result.etag, plan_id, self.zone)
                    for event in vevents(result.calendar_data)
                ]
                found[result.href] = (result.etag or "", [e for e in events if e is not None])
        return found

    def _read(self, answer: Answer, plan_id: str) -> list[Seen]:
        found: list[Seen] = []
        for result in answer.parse_calendar_query():
            if result.status != 200:
                continue
            for event in vevents(result.calendar_data):
                item = read_event(event, result.href, result.etag, plan_id, self.zone)
                if item is not None:
                    found.append(item)
        return found

    def _look_for(self, gone: Mapping[str, Mapping[str, Any]], plan_id: str) -> list[Seen]:
        """Known events missing from the range: moved out of it by the user, or deleted."""
        answer = self.transport.send(
            "REPORT", self.calendar_url, multiget_body(e["href"] for e in gone.values())
        )
        if answer.status not in (200, 207):
            # Without this answer a moved event cannot be told from a deleted one, and
            # taking all for deleted would report the user's sessions as deleted.
            raise CalDAVFailure(
                f"the CalDAV server could not read back the known events of "
                f"{public_url(self.calendar_url)} (calendar-multiget: {describe(answer)})"
            )
        moved = [s for s in self._read(answer, plan_id) if s.remote.key in gone]
        still = {s.remote.key for s in moved}
        deleted = [
            Seen(
                Remote(
                    key=key,
                    ref=entry["href"],
                    start=datetime.fromisoformat(entry["start"]),
                    summary=entry["summary"],
                    stored=entry["hash"],
                    current="",
                    etag=None,
                    cancelled=True,
                ),
                uid="",
                sequence=int(entry.get("sequence", 0)),
                ours=True,
            )
            for key, entry in gone.items()
            if key not in still
        ]
        return moved + deleted

    # --- writing ---

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        try:
            return apply_all(
                changes,
                self._writer,
                progress,
                self.jobs,
                f"the CalDAV server at {server_of(self.calendar_url)}",
            )
        finally:
            self.known.save()  # what landed is remembered even if the run is cut short

    def _writer(self) -> Callable[[Change], Result]:
        """One thread's write function, over its own connection."""
        transport = self.transport.for_worker()

        def write(change: Change) -> Result:
            try:
                return self._apply_one(transport, change)
            except TargetError as err:
                # The server is gone or refuses us: every further write would too.
                raise Fatal(str(err)) from None

        return write

    def _apply_one(self, t: Transport, change: Change) -> Result:
        if change.action is Action.CREATE:
            return self._create(t, change)
        if change.action is Action.UPDATE:
            return self._update(t, change)
        return self._delete(t, change)

    def _create(self, t: Transport, change: Change) -> Result:
        content = change.content
        assert content is not None
        href = self.href_for(content.uid)
        answer = self._put(t, href, render_event(content, self.stamp), {"If-None-Match": "*"})
        if ok(answer):
            self._written(content, href, content.uid, 0, answer)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            # Something is there: our own write whose answer was lost, or an event the
            # owner moved out of the listed range, or an older version of ours.
            return self._recheck(t, change)
        return Result(change, Outcome.FAILED, self._put_error(answer, content.uid))

    def _update(self, t: Transport, change: Change) -> Result:
        content, remote = change.content, change.remote
        assert content is not None and remote is not None
        seen = self._seen.get(remote.ref)
        sequence = seen.sequence if seen else 0
        if seen and seen.uid and seen.uid != content.uid:
            content = replace(content, uid=seen.uid)  # a resource's UID must never change
        body = render_event(content, self.stamp, sequence)
        if remote.etag:
            condition = {"If-Match": remote.etag}
        elif remote.cancelled:
            condition = {"If-None-Match": "*"}  # deleted by the user, restored on request
        else:
            condition = {}
        answer = self._put(t, remote.ref, body, condition)
        if ok(answer):
            self._written(content, remote.ref, content.uid, sequence + 1, answer)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            return self._recheck(t, change)
        return Result(change, Outcome.FAILED, self._put_error(answer, content.uid))

    def _delete(self, t: Transport, change: Change) -> Result:
        remote = change.remote
        assert remote is not None
        headers = {"If-Match": remote.etag} if remote.etag else {}
        answer = t.send("DELETE", t.url(remote.ref, self.calendar_url), "", headers)
        if ok(answer) or answer.status in (404, 410):
            with self.known.lock:
                self.known.forget(remote.key, remote.ref)
                self.known.note_gone(remote.ref)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            return self._recheck(t, change)
        return Result(change, Outcome.FAILED, describe(answer))

    def _put(self, t: Transport, href: str, body: bytes, condition: Mapping[str, str]) -> Answer:
        return t.send("PUT", t.url(href, self.calendar_url), body, {**ICALENDAR, **condition})

    def _written(
        self, content: EventContent, href: str, uid: str, sequence: int, answer: Answer
    ) -> None:
        """Remember a write that landed, with the ETag it has now if the server says (it
        does not when it changed what it stored: then the next run reads it back)."""
        etag = answer.headers.get("ETag") if answer.headers else None
        with self.known.lock:
            self.known.remember(content.plan, content, href, sequence)
            self.known.note_written(href, etag, written(content, href, etag or "", uid, sequence))

    def _put_error(self, answer: Answer, uid: str) -> str:
        if answer.status == 409:
            return f"{describe(answer)}: another event in the calendar already has the UID {uid}"
        return describe(answer)

    def _recheck(self, t: Transport, change: Change) -> Result:
        """412: our own earlier write whose answer was lost, or an edit by someone else?
        The server's answer is read here; `recheck.landed` judges it."""
        content, remote = change.content, change.remote
        if remote is not None:
            ref = remote.ref
        else:
            assert content is not None  # a create: the href it would have
            ref = self.href_for(content.uid)
        answer = t.send("GET", t.url(ref, self.calendar_url), "", {"Accept": "text/calendar"})
        gone = answer.status in (404, 410)  # deleted by our write, or by the owner since
        if not gone and not ok(answer):
            return Result(change, Outcome.FAILED, describe(answer))
        plan_id = content.plan if content is not None else change.key.split("/", 1)[0]
        events = [] if gone else vevents(answer.raw)
        found = [s for e in events if (s := read_event(e, ref, None, plan_id, self.zone))]
        now = found[0] if found else None
        live = not gone and not (now is not None and now.remote.cancelled)
        outcome = recheck.landed(change, now.remote if now else None, live)
        if outcome is Outcome.DONE and change.action is Action.DELETE:
            with self.known.lock:
                self.known.forget(change.key, ref)
                self.known.note_gone(ref)
        elif outcome is Outcome.DONE and content is not None and now is not None:
            self.known.remember(content.plan, content, ref, now.sequence)
        return Result(change, outcome)

    # --- busy time from calendars on the same server ---

    def busy(
        self, calendar_names: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """Busy time of calendars by name or URL (see `freebusy`)."""
        reader = BusyReader(self.transport, self.calendar_url, self.home_url, self.zone, self.warn)
        found = reader.busy(calendar_names, start, end, plan_id)
        self.home_url = reader.home_url
        return found
