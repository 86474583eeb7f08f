"""The Google Calendar target.

Imported only by the Google commands, so `calsync --help`, `validate` and `ics`
never pay for googleapiclient. The parts, each after Google's own guides:

- `calls`: the service, one call with its retries, GoogleFailure (errors guide);
- `auth`: scopes, the token file, service accounts;
- `events`: a session as an event body and an event as the engine's `Remote`;
- `backend`: listing (full, or what changed since a sync token), busy time, batched writes;
- `calendars`: the calendar by name or id, made once;
- `state` and `target`: what one target keeps between runs (calendar id, sync token,
  the plan's events as last seen), and opening a run's backend with it.
"""

from __future__ import annotations

from calsync.targets.google.auth import (
    BUSY_SCOPE,
    SCOPES,
    load_credentials,
    save_token,
    scopes_for,
)
from calsync.targets.google.backend import GoogleBackend
from calsync.targets.google.calendars import MARK, find_or_create_calendar, made_by_calsync
from calsync.targets.google.calls import (
    ENDPOINT_VARIABLE,
    GOOGLE_ROOT,
    CalendarGone,
    GoogleFailure,
    batch_uri,
    build_service,
    call,
    endpoint,
)
from calsync.targets.google.events import HASH, KEY, PLAN, event_body, event_id, to_remote
from calsync.targets.google.target import open_backend, remember, state_file
from calsync.targets.retry import Retry

__all__ = [
    "BUSY_SCOPE",
    "ENDPOINT_VARIABLE",
    "GOOGLE_ROOT",
    "HASH",
    "KEY",
    "MARK",
    "PLAN",
    "SCOPES",
    "CalendarGone",
    "GoogleBackend",
    "GoogleFailure",
    "Retry",
    "batch_uri",
    "build_service",
    "call",
    "endpoint",
    "event_body",
    "event_id",
    "find_or_create_calendar",
    "load_credentials",
    "made_by_calsync",
    "open_backend",
    "remember",
    "save_token",
    "scopes_for",
    "state_file",
    "to_remote",
]
