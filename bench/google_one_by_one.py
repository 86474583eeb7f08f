"""A one-call-at-a-time Google Calendar client, as `gcalcli import` is.

    CALSYNC_GOOGLE_ENDPOINT=http://127.0.0.1:PORT/ python bench/google_one_by_one.py \
        training.ics token.json CALENDAR_ID

The real google-api-python-client, no batch: it lists the calendar once, then
inserts each event of the .ics file it does not hold, updates each one whose
content changed (a hash kept in a private extended property) and deletes the
ones gone, one request each.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import google_auth_httplib2  # type: ignore[import-untyped]  # no stubs published
import httplib2  # type: ignore[import-untyped]  # no stubs installed
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build  # type: ignore[import-untyped]  # no stubs
from icalendar import Calendar

JSON = dict[str, Any]


def point(moment: datetime) -> JSON:
    return {"dateTime": moment.isoformat(), "timeZone": getattr(moment.tzinfo, "key", "UTC")}


def bodies(ics: Path) -> dict[str, JSON]:
    """The Google event body of each VEVENT, by UID."""
    found: dict[str, JSON] = {}
    for event in Calendar.from_ical(ics.read_bytes()).walk("VEVENT"):
        alarms = [a for a in event.walk("VALARM")]
        minutes = [int(-a.decoded("TRIGGER").total_seconds() // 60) for a in alarms]
        body: JSON = {
            "iCalUID": str(event["UID"]),
            "summary": str(event.get("SUMMARY", "")),
            "description": str(event.get("DESCRIPTION", "")),
            "start": point(event.decoded("DTSTART")),
            "end": point(event.decoded("DTEND")),
            "reminders": {
                "useDefault": False,
                "overrides": [{"method": "popup", "minutes": m} for m in minutes],
            },
        }
        digest = hashlib.sha256(repr(sorted(body.items())).encode()).hexdigest()[:20]
        body["extendedProperties"] = {"private": {"hash": digest}}
        found[body["iCalUID"]] = body
    return found


def main() -> None:
    ics, token, calendar = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    access = json.loads(token.read_text(encoding="utf-8"))["token"]
    credentials = Credentials(token=access)  # type: ignore[no-untyped-call]  # unannotated upstream
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=60))
    endpoint = os.environ["CALSYNC_GOOGLE_ENDPOINT"]
    service = build("calendar", "v3", http=http, client_options={"api_endpoint": endpoint})
    events = service.events()
    held: dict[str, JSON] = {}
    page: str | None = None
    while True:
        answer = events.list(calendarId=calendar, maxResults=2500, pageToken=page).execute()
        held.update({e["iCalUID"]: e for e in answer.get("items", []) if "iCalUID" in e})
        page = answer.get("nextPageToken")
        if not page:
            break
    wanted = bodies(ics)
    for uid, body in wanted.items():
        have = held.get(uid)
        if have is None:
            events.insert(calendarId=calendar, body=body).execute()
        elif have.get("extendedProperties") != body["extendedProperties"]:
            events.update(calendarId=calendar, eventId=have["id"], body=body).execute()
    for uid, have in held.items():
        if uid not in wanted:
            events.delete(calendarId=calendar, eventId=have["id"]).execute()


if __name__ == "__main__":
    main()
