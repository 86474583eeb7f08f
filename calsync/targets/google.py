"""The Google Calendar backend: lists calsync's events and applies the engine's changes.

Imported only by the Google commands, so `calsync --help`, `validate` and `ics`
never pay for googleapiclient. Google's documentation it follows:
events.list/insert/patch/delete, freebusy.query, the batch guide (at most 50
calls a batch), the errors guide (which errors to retry, with exponential
backoff) and the extended-properties guide.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# google-api-core warns on import, from a date that depends on the running Python's end
# of life, that Google will stop supporting it: advice for developers, not for athletes,
# and a line that would appear before calsync's own one-line messages from that day on.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\.")
    import google_auth_httplib2
    import httplib2
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError
    from googleapiclient.http import BatchHttpRequest

from calsync.core.content import EventContent, fingerprint
from calsync.core.model import Busy
from calsync.errors import AuthRefused, RateLimited, Rejected, TargetError, Unreachable, for_status
from calsync.io import limits
from calsync.sync import recheck
from calsync.sync.backend import counts_as_busy
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

ENDPOINT_VARIABLE = "CALSYNC_GOOGLE_ENDPOINT"
GOOGLE_ROOT = "https://www.googleapis.com/"
# The narrowest scopes that do the job: make and fill calsync's own calendar,
# find it by name, write events when the user names another calendar, and read
# free/busy time (never event details) from the calendars given with --busy.
SCOPES = [
    "https://www.googleapis.com/auth/calendar.app.created",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.freebusy",
]
BUSY_SCOPE, OTHER_CALENDARS_SCOPE = SCOPES[3], SCOPES[2]


def scopes_for(busy: bool = False, other_calendars: bool = False) -> list[str]:
    """What `calsync auth google` asks for: calsync's own calendar always, the rest on request."""
    return [
        scope
        for scope in SCOPES
        if (scope != BUSY_SCOPE or busy) and (scope != OTHER_CALENDARS_SCOPE or other_calendars)
    ]


BATCH_LIMIT = 50
DEFAULT_RETRY = Retry()
PAGE_SIZE = 2500
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
PLAN, KEY, HASH = "calsyncPlan", "calsyncKey", "calsyncHash"


# Google refused: one clear sentence for the user. `call` raises the other kinds
# (errors.py: Unreachable, AuthRefused, RateLimited) from what Google answered.
GoogleFailure = Rejected


def event_id(key: str) -> str:
    """A valid Google event id (base32hex: 0-9 a-v) derived from the session key only."""
    return "cs" + hashlib.sha256(key.encode()).hexdigest()[:40]


# --- credentials and service -------------------------------------------------------


def save_token(path: Path, credentials_json: str) -> None:
    """Write a token readable by its owner only, atomically."""
    from calsync.io.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, credentials_json.encode(), mode=0o600)


def load_credentials(token: Path | None, service_account: Path | None) -> Any:
    if service_account is not None:
        from google.oauth2 import service_account as sa

        try:
            return sa.Credentials.from_service_account_file(str(service_account), scopes=SCOPES)
        except (OSError, ValueError) as err:
            raise GoogleFailure(
                f"cannot use the service account file {service_account}: {err}"
            ) from None
    from google.auth.transport.requests import Request

    assert token is not None
    if not token.exists():
        raise GoogleFailure(f"no Google token at {token}: run `calsync auth google` first")
    try:
        text = token.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GoogleFailure(f"cannot read the Google token {token}: {err}") from None
    credentials = _credentials_from(text, token)
    if not credentials.valid and credentials.refresh_token:
        try:
            with limits.request("Google's sign-in server"):
                credentials.refresh(Request())
        except RefreshError:
            raise AuthRefused(expired_message()) from None
        except TransportError as err:
            raise Unreachable(f"cannot reach Google to refresh the token: {err}") from None
        save_token(token, credentials.to_json())
    return credentials


def _credentials_from(text: str, token: Path) -> Any:
    """The credentials in a token file's text; BadInput naming the file when it is damaged."""
    from google.oauth2.credentials import Credentials

    from calsync.errors import BadInput

    def damaged(problem: str) -> BadInput:
        return BadInput(
            f"{token}: {problem}; it is not a usable Google token (run `calsync auth google` "
            "to write a new one)"
        )

    try:
        info = json.loads(text)
    except ValueError as err:
        raise damaged(f"not JSON ({err})") from None
    if not isinstance(info, dict):
        raise damaged(f"a JSON {type(info).__name__} where an object was expected")
    try:
        return Credentials.from_authorized_user_info(info)
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        raise damaged(str(err).rstrip(".")) from None


def expired_message() -> str:
    return "Google refused the saved token (expired or revoked): run `calsync auth google` again"


def endpoint() -> str:
    return os.environ.get(ENDPOINT_VARIABLE) or GOOGLE_ROOT


def build_service(credentials: Any, root: str, timeout: float = 60) -> Any:
    authorized = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=timeout)
    )
    options = None if root == GOOGLE_ROOT else {"api_endpoint": root}
    return build("calendar", "v3", http=authorized, static_discovery=True, client_options=options)


def batch_uri(root: str) -> str:
    # googleapiclient builds the batch URL from the discovery document, not from
    # api_endpoint, so an overridden endpoint needs its own batch URI.
    return root.rstrip("/") + "/batch/calendar/v3"


# --- calls, retries --------------------------------------------------------------


def _reason(error: HttpError) -> str:
    try:
        details = json.loads(error.content.decode("utf-8", "replace"))["error"]
        return (details.get("errors") or [{}])[0].get("reason", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def retriable(error: Exception) -> bool:
    if isinstance(error, HttpError):
        status = error.resp.status
        return status in RETRY_STATUSES or (status == 403 and _reason(error) in RATE_REASONS)
    return isinstance(error, OSError | httplib2.HttpLib2Error | TransportError)


def _retry_after(error: Exception) -> float | None:
    if isinstance(error, HttpError):
        value = error.resp.get("retry-after")
        if value and str(value).isdigit():
            return float(value)
    return None


def failure(error: Exception) -> type[TargetError]:
    """The kind of failure an error of Google's client means (errors.py)."""
    if isinstance(error, HttpError):
        if error.resp.status == 403 and _reason(error) in RATE_REASONS:
            return RateLimited
        return for_status(error.resp.status)
    return Unreachable


def describe(error: Exception) -> str:
    if isinstance(error, HttpError):
        return f"HTTP {error.resp.status} {_reason(error) or error.reason}".strip()
    return f"{type(error).__name__}: {error}"


def call(request: Any, retry: Retry, landed: Callable[[], Any] | None = None) -> Any:
    """Execute one request, retrying what Google says may be retried (`Retry.run`).

    `landed`, for a request that is not idempotent, looks before each retry
    whether the failed attempt took effect after all, and returns its result
    (None: send it again).
    """

    def attempt(last: bool) -> Any:
        try:
            with limits.request("Google Calendar"):
                return request.execute(num_retries=0)
        except RefreshError:
            raise AuthRefused(expired_message()) from None
        except Exception as error:
            known = isinstance(error, HttpError | OSError | httplib2.HttpLib2Error | TransportError)
            if retriable(error):
                final = failure(error)(f"Google Calendar: {describe(error)}")
                raise Again(final, _retry_after(error)) from None
            if known:
                raise failure(error)(f"Google Calendar: {describe(error)}") from None
            raise

    return retry.run(attempt, landed)


# --- the backend -------------------------------------------------------------------


def event_body(content: EventContent) -> dict[str, Any]:
    overrides = (
        [] if content.reminder is None else [{"method": "popup", "minutes": content.reminder}]
    )
    body: dict[str, Any] = {
        "summary": content.summary,
        "description": content.description,
        "start": {"dateTime": content.start.isoformat(), "timeZone": content.timezone},
        "end": {"dateTime": content.end.isoformat(), "timeZone": content.timezone},
        "reminders": {"useDefault": False, "overrides": overrides},
        "transparency": "opaque",
        "status": "confirmed",
        "extendedProperties": {
            "private": {PLAN: content.plan, KEY: content.key, HASH: content.fingerprint}
        },
    }
    body["location"] = content.location or ""
    return body


def _instant(value: dict[str, Any]) -> datetime:
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)


def current_fingerprint(event: dict[str, Any]) -> str:
    reminders = event.get("reminders") or {}
    minutes = [o.get("minutes") for o in reminders.get("overrides") or []]
    return fingerprint(
        event.get("summary", ""),
        event.get("description", ""),
        _instant(event["start"]),
        _instant(event["end"]),
        event.get("location"),
        min(minutes) if minutes else None,
    )


def to_remote(event: dict[str, Any]) -> Remote | None:
    private = (event.get("extendedProperties") or {}).get("private") or {}
    if KEY not in private or "start" not in event:
        return None
    return Remote(
        key=private[KEY],
        ref=event["id"],
        start=_instant(event["start"]),
        summary=event.get("summary", ""),
        stored=private.get(HASH, ""),
        current=current_fingerprint(event),
        etag=event.get("etag"),
        cancelled=event.get("status") == "cancelled",
    )


class GoogleBackend:
    def __init__(self, service: Any, calendar_id: str, batch: str, retry: Retry = DEFAULT_RETRY):
        self.service = service
        # Building a resource object parses the discovery document's methods (about
        # 10 ms each time), so the events resource is made once, not once a request.
        self.events = service.events()
        self.calendar_id = calendar_id
        self.batch_uri = batch
        self.retry = retry
        self.fresh = False  # a calendar created in this run holds nothing yet
        self.label = "google"  # the target in reports; the opener names the calendar

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        if self.fresh:
            return []
        remotes: list[Remote] = []
        token = None
        while True:
            request = self.events.list(
                calendarId=self.calendar_id,
                privateExtendedProperty=f"{PLAN}={plan_id}",
                timeMin=start.astimezone(UTC).isoformat(),
                timeMax=end.astimezone(UTC).isoformat(),
                showDeleted=True,
                singleEvents=True,
                maxResults=PAGE_SIZE,
                pageToken=token,
            )
            page = call(request, self.retry)
            remotes += [r for r in map(to_remote, page.get("items", [])) if r is not None]
            token = page.get("nextPageToken")
            if not token:
                return remotes

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
                    _instant({"dateTime": b["start"]}),
                    _instant({"dateTime": b["end"]}),
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
                found.append(Busy(_instant(event["start"]), _instant(event["end"]), title))
            token = page.get("nextPageToken")
            if not token:
                return found

    # --- writing ---

    def _request(self, change: Change) -> Any:
        events = self.events
        if change.action is Action.CREATE:
            body = {"id": event_id(change.key), **event_body(change.content)}  # type: ignore[arg-type]
            return events.insert(calendarId=self.calendar_id, body=body)
        remote = change.remote
        assert remote is not None
        if change.action is Action.UPDATE:
            request = events.patch(
                calendarId=self.calendar_id,
                eventId=remote.ref,
                body=event_body(change.content),  # type: ignore[arg-type]
            )
        else:
            request = events.delete(calendarId=self.calendar_id, eventId=remote.ref)
        if remote.etag:
            request.headers["If-Match"] = remote.etag
        return request

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        results: dict[int, Result] = {}
        pending = list(range(len(changes)))
        for attempt in range(self.retry.attempts):
            retry_after: float | None = None
            again: list[int] = []
            for chunk in _chunks(pending, BATCH_LIMIT):
                answers = self._run_batch([changes[i] for i in chunk])
                for index, error in zip(chunk, answers, strict=True):
                    if error is not None and retriable(error) and attempt < self.retry.attempts - 1:
                        again.append(index)
                        retry_after = max(retry_after or 0, _retry_after(error) or 0) or None
                    else:
                        results[index] = self._judge(changes[index], error)
                progress(len(chunk))
            if not again:
                break
            self.retry.wait(attempt, retry_after)
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
        except (HttpError, OSError, httplib2.HttpLib2Error, TransportError) as error:
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


# --- the calendar ------------------------------------------------------------------


# Written into the description of every calendar calsync creates: the mark that lets a
# later run remove an empty twin of it (and never a calendar calsync did not make).
MARK = "(made by calsync)"


def find_or_create_calendar(
    service: Any, wanted: str, zone: str, retry: Retry, create: bool = True
) -> tuple[str | None, bool]:
    """The calendar id for a name or id, creating a calendar by that name if none exists.

    Returns (id, created); (None, False) when it is missing and `create` is off
    (a dry run). `primary` is only ever used when asked for by name.
    """
    if wanted == "primary":
        return "primary", False
    found = _calendars_matching(service, wanted, retry)
    if found:
        return _in_use(service, found, retry, tidy=create), False
    if "@" in wanted:
        raise GoogleFailure(f"no calendar with id '{wanted}' in this account")
    if not create:
        return None, False

    # calendars.insert is not idempotent (Google picks the id): after a lost answer
    # the calendar may exist all the same, so look for it before inserting again.
    def landed() -> dict[str, Any] | None:
        found = _calendars_matching(service, wanted, retry)
        return {"id": _in_use(service, found, retry, tidy=False)} if found else None

    description = f"Training sessions kept in step with a plan by calsync {MARK}"
    body = {"summary": wanted, "timeZone": zone, "description": description}
    created = call(service.calendars().insert(body=body), retry, landed)
    return created["id"], True


def _calendars_matching(service: Any, wanted: str, retry: Retry) -> list[dict[str, Any]]:
    """The calendar with that id, or every calendar with that name, in list order."""
    named: list[dict[str, Any]] = []
    token = None
    while True:
        page = call(service.calendarList().list(pageToken=token, maxResults=250), retry)
        for entry in page.get("items", []):
            if entry.get("id") == wanted:
                return [entry]
            if wanted in (entry.get("summaryOverride"), entry.get("summary")):
                named.append(entry)
        token = page.get("nextPageToken")
        if not token:
            return named


def made_by_calsync(entry: dict[str, Any]) -> bool:
    return MARK in (entry.get("description") or "")


def _in_use(service: Any, entries: list[dict[str, Any]], retry: Retry, tidy: bool) -> str:
    """Of calendars sharing a name, the first that holds events (else the first calsync
    made, else the first); with `tidy`, the empty twins calsync made are removed.

    httplib2 silently resends a request whose answer was lost, so a lost answer to
    calendars.insert leaves two calendars by that name, only one of which the run
    fills. Taking the empty twin would copy the whole plan into it, every session
    twice in the user's view. One look per calendar, only when a name is shared,
    keeps every run on the calendar that holds the events; a calendar calsync did
    not make (no mark in its description) is never removed, empty or not.
    """
    if len(entries) == 1:
        return str(entries[0]["id"])
    holding: dict[str, bool] = {}
    for entry in entries:
        request = service.events().list(calendarId=entry["id"], maxResults=1, showDeleted=True)
        holding[entry["id"]] = bool(call(request, retry).get("items"))
    chosen = next(
        (e for e in entries if holding[e["id"]]),
        next((e for e in entries if made_by_calsync(e)), entries[0]),
    )
    if tidy:
        for entry in entries:
            if entry is not chosen and made_by_calsync(entry) and not holding[entry["id"]]:
                _remove_twin(service, entry["id"], retry)
    return str(chosen["id"])


def _remove_twin(service: Any, calendar_id: str, retry: Retry) -> None:
    """Delete an empty calendar calsync made; a refusal leaves it for the next run."""
    with contextlib.suppress(TargetError):
        call(service.calendars().delete(calendarId=calendar_id), retry)
