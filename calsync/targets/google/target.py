"""One Google target from run to run: which calendar, and what the last run saw of it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from calsync.sync.backend import Warn
from calsync.targets.google.backend import GoogleBackend
from calsync.targets.google.calendars import find_or_create_calendar
from calsync.targets.google.calls import CalendarGone
from calsync.targets.google.state import load, save, state_path
from calsync.targets.retry import Retry


def state_file(root: str, account: Path, calendar: str, plan_id: str) -> Path:
    """Where one target's calendar id, sync token and picture are kept between runs."""
    from calsync.io.places import state_dir

    return state_path(state_dir(), root, str(account.absolute()), calendar, plan_id)


def open_backend(
    service: Any,
    wanted: str,
    zone: str,
    plan_id: str,
    start: datetime,
    retry: Retry,
    batch: str,
    dry_run: bool,
    state: Path | None,
    warn: Warn,
) -> GoogleBackend:
    """The backend of one run. With a remembered calendar id and sync token, one listing
    of what changed since is all it asks (no calendarList); without them, or when that
    calendar is gone (404), the calendar is found by name or created as on a first run."""
    remembered = load(state, warn) if state is not None else None
    if remembered is not None:
        backend = GoogleBackend(service, remembered.calendar_id, batch, retry, remembered)
        try:
            backend.refresh(plan_id, start)
            return backend
        except CalendarGone:
            pass  # deleted, or no longer shared with this account: look it up by name
    calendar_id, created = find_or_create_calendar(service, wanted, zone, retry, create=not dry_run)
    backend = GoogleBackend(service, calendar_id or "", batch, retry)
    backend.fresh = created or calendar_id is None
    return backend


def remember(backend: GoogleBackend, state: Path, start: datetime, warn: Warn) -> None:
    """After a run that went through: keep its listing's picture and sync token (its own
    writes come back as changes next time, and are judged like any other).

    Nothing is kept after a run that created the calendar: the next one looks the
    calendar up by name once more, which removes an empty twin a lost answer may have
    made (see `_in_use`), and lists it in full.
    """
    picture = backend.picture
    if backend.fresh or picture is None or picture.token is None:
        return
    picture.prune(start)
    if picture != backend.remembered:  # a quiet calendar: the same token, nothing to write
        save(state, picture, warn)
