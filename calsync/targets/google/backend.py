"""The Google Calendar backend: lists the plan's events and applies the engine's changes.

Google's documentation it follows: events.list/insert/patch/delete, freebusy.query,
the batch guide (at most 50 calls a batch), the sync guide (syncToken, 410
fullSyncRequired) and the performance guide (partial responses with `fields`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from calsync.core.model import Busy
from calsync.errors import AuthRefused
from calsync.io import limits
from calsync.sync import recheck
from calsync.sync.backend import counts_as_busy
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.targets.google.calls import (
    HTTP_FAILURES,
    BatchHttpRequest,
    CalendarGone,
    GoogleFailure,
    HttpError,
    RefreshError,
    call,
    describe,
    expired_message,
    retriable,
    retry_after,
)
from calsync.targets.google.events import (
    LIST_FIELDS,
    PLAN,
    event_body,
    event_id,
    instant,
    to_held,
    to_remote,
)
from calsync.targets.google.state import Picture
from calsync.targets.retry import Retry

BATCH_LIMIT = 50
DEFAULT_RETRY = Retry()
PAGE_SIZE = 2500


class GoogleBackend:
    def __init__(
        self,
        service: Any,
        calendar_id: str,
        batch: str,
        retry: Retry = DEFAULT_RETRY,
        remembered: Picture | None = None,
    ):
        self.service = service
        # Building a resource object parses the discovery document's methods (about
        # 10 ms each time), so the events resource is made once, not once a request.
        self.events = service.events()
        self.calendar_id = calendar_id
        self.batch_uri = batch
        self.retry = retry
        self.fresh = False  # a calendar created in this run holds nothing yet
        self.label = "google"  # the target in reports; the opener names the calendar
        self.remembered = remembered  # the previous run's picture, if any
        self.picture: Picture | None = None  # this run's, once listed
        self.applied = False  # written since the picture was listed: list again

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        if self.fresh:
            return []
        picture = self.picture
        if picture is None or self.applied or not picture.covers(self.calendar_id, plan_id, start):
            self.refresh(plan_id, start)
            self.applied = False
        assert self.picture is not None
        return self.picture.within(start, end)

    def refresh(self, plan_id: str, start: datetime) -> None:
        """List the plan's events: the changes since the last sync token laid over the
        picture they complete, else (no usable token, or Google refuses it) in full.

        CalendarGone when the calendar is not there (404).
        """
        current = self.picture or self.remembered
        try:
            if current is not None and current.covers(self.calendar_id, plan_id, start):
                try:
                    self.picture = self._changed_since(current)
                    return
                except GoogleFailure as failure:
                    # 410 fullSyncRequired: the token expired; 400: not a token Google made.
                    if failure.status not in (400, 410):
                        raise
            self.picture = self._full_listing(plan_id, start)
        except GoogleFailure as failure:
            if failure.status == 404:
                raise CalendarGone(str(failure), 404) from None
            raise

    def _pages(self, **query: Any) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            request = self.events.list(
                calendarId=self.calendar_id,
                showDeleted=True,
                singleEvents=True,
                maxResults=PAGE_SIZE,
                fields=LIST_FIELDS,
                pageToken=token,
                **query,
            )
            page: dict[str, Any] = call(request, self.retry)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    def _full_listing(self, plan_id: str, start: datetime) -> Picture:
        """Every event of the plan ending after `start` (no timeMax: later runs move on
        through the calendar and the changes keep the rest of it current)."""
        picture = Picture(self.calendar_id, plan_id, since=start)
        for page in self._pages(
            privateExtendedProperty=f"{PLAN}={plan_id}",
            timeMin=start.astimezone(UTC).isoformat(),
        ):
            for event in page.get("items", []):
                if (held := to_held(event, plan_id)) is not None:
                    picture.events[held.remote.ref] = held
            picture.token = page.get("nextSyncToken")
        return picture

    def _changed_since(self, before: Picture) -> Picture:
        """The events changed since `before.token`, laid over it (a new picture: the old
        one stays as it was if the listing fails part way)."""
        picture = replace(before, events=dict(before.events))
        for page in self._pages(syncToken=before.token):
            for event in page.get("items", []):
                picture.absorb(event, to_held(event, before.plan))
            picture.token = page.get("nextSyncToken")
        return picture

    def busy(
        self, calendars: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """Busy time of other calendars from freebusy; of the target calendar, from its events.

        Freebusy cannot tell calsync's own sessions from the owner's meetings, so
        the target calendar (`--calendar primary --busy primary`) is read as
        events, leaving this plan's sessions out; otherwise each session would be
        busy time for itself on the next run.
        """
        others = [c for c in calendars if c != self.calendar_id]
        found = list(self._freebusy(others, start, end)) if others else []
        if len(others) < len(calendars):
            found += self._event_busy(start, end, plan_id)
        return tuple(sorted(found, key=lambda b: (b.start, b.end)))

    def _freebusy(self, calendars: Sequence[str], start: datetime, end: datetime) -> list[Busy]:
        body = {
            "timeMin": start.astimezone(UTC).isoformat(),
            "timeMax": end.astimezone(UTC).isoformat(),
            "items": [{"id": c} for c in calendars],
        }
        answer = call(self.service.freebusy().query(body=body), self.retry)
        found: list[Busy] = []
        for calendar in calendars:
            entry = answer.get("calendars", {}).get(calendar, {})
            if entry.get("errors"):
                reason = entry["errors"][0].get("reason", "error")
                raise GoogleFailure(f"cannot read free/busy time of '{calendar}': {reason}")
            found += [
                Busy(
                    instant({"dateTime": b["start"]}),
                    instant({"dateTime": b["end"]}),
                    f"busy in {calendar}",
                )
                for b in entry.get("busy", [])
            ]
        return found

    def _event_busy(self, start: datetime, end: datetime, plan_id: str) -> list[Busy]:
        found: list[Busy] = []
        token = None
        while True:
            request = self.events.list(
                calendarId=self.calendar_id,
                timeMin=start.astimezone(UTC).isoformat(),
                timeMax=end.astimezone(UTC).isoformat(),
                singleEvents=True,
                maxResults=PAGE_SIZE,
                pageToken=token,
            )
            page = call(request, self.retry)
            for event in page.get("items", []):
                private = (event.get("extendedProperties") or {}).get("private") or {}
                busy = counts_as_busy(
                    ours=private.get(PLAN) == plan_id,
                    transparent=event.get("transparency") == "transparent",
                    cancelled=event.get("status") == "cancelled",
                )
                if not busy or "start" not in event:
                    continue
                title = event.get("summary") or "busy"
                local = start.tzinfo or UTC
                found.append(
                    Busy(instant(event["start"], local), instant(event["end"], local), title)
                )
            token = page.get("nextPageToken")
            if not token:
                return found

    # --- writing ---

    def _request(self, change: Change) -> Any:
        events = self.events
        if change.action is Action.CREATE:
            body = {"id": event_id(change.key), **event_body(change.content)}  # type: ignore[arg-type]  # a create or update always carries content
            return events.insert(calendarId=self.calendar_id, body=body)
        remote = change.remote
        assert remote is not None
        if change.action is Action.UPDATE:
            request = events.patch(
                calendarId=self.calendar_id,
                eventId=remote.ref,
                body=event_body(change.content),  # type: ignore[arg-type]  # an update always carries content
            )
        else:
            request = events.delete(calendarId=self.calendar_id, eventId=remote.ref)
        if remote.etag:
            request.headers["If-Match"] = remote.etag
        return request

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        self.applied, self.fresh = True, False  # the next listing must see these writes
        results: dict[int, Result] = {}
        pending = list(range(len(changes)))
        for attempt in range(self.retry.attempts):
            wait_hint: float | None = None
            again: list[int] = []
            for chunk in _chunks(pending, BATCH_LIMIT):
                answers = self._run_batch([changes[i] for i in chunk])
                for index, error in zip(chunk, answers, strict=True):
                    if error is not None and retriable(error) and attempt < self.retry.attempts - 1:
                        again.append(index)
                        wait_hint = max(wait_hint or 0, retry_after(error) or 0) or None
                    else:
                        results[index] = self._judge(changes[index], error)
                progress(len(chunk))
            if not again:
                break
            self.retry.wait(attempt, wait_hint)
            pending = again
        return [results[i] for i in range(len(changes))]

    def _run_batch(self, chunk: Sequence[Change]) -> list[Exception | None]:
        errors: dict[str, Exception | None] = {}

        def answered(request_id: str, response: Any, exception: Exception | None) -> None:
            errors[request_id] = exception

        batch = BatchHttpRequest(callback=answered, batch_uri=self.batch_uri)
        for number, change in enumerate(chunk):
            batch.add(self._request(change), request_id=str(number))
        try:
            with limits.request("Google Calendar"):
                batch.execute()
        except RefreshError:
            raise AuthRefused(expired_message()) from None
        except HTTP_FAILURES as error:
            return [error] * len(chunk)  # the whole batch's answer was lost or refused
        return [errors.get(str(number)) for number in range(len(chunk))]

    def _judge(self, change: Change, error: Exception | None) -> Result:
        if error is None:
            return Result(change, Outcome.DONE)
        status = error.resp.status if isinstance(error, HttpError) else None
        if change.action is Action.DELETE and status in (404, 410):
            return Result(change, Outcome.DONE)
        if (change.action is Action.CREATE and status == 409) or (
            change.action in (Action.UPDATE, Action.DELETE) and status == 412
        ):
            return self._recheck(change)
        return Result(change, Outcome.FAILED, describe(error))

    def _recheck(self, change: Change) -> Result:
        """409 on an insert, 412 on a patch or delete: our own earlier write whose answer
        was lost, or the owner's change?

        An insert meets 409 when its id is taken: by our own insert whose answer was
        lost, or by the event the owner moved out of the range that was listed (it is
        theirs now: kept, not counted as created). A delete whose answer was lost is
        sent again (by httplib2 itself, or by the retry) with the etag the event had
        before, so it meets 412, not 410.
        """
        ref = change.remote.ref if change.remote else event_id(change.key)
        event = call(self.events.get(calendarId=self.calendar_id, eventId=ref), self.retry)
        # A deleted event stays, cancelled: get answers it, never 404.
        return Result(
            change, recheck.landed(change, to_remote(event), event.get("status") != "cancelled")
        )


def _chunks(items: Sequence[int], size: int) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
