"""Finding the calendar by name or id, or making it (once, whatever answers are lost)."""

from __future__ import annotations

import contextlib
from typing import Any

from calsync.errors import TargetError
from calsync.targets.google.calls import GoogleFailure, call
from calsync.targets.retry import Retry

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
