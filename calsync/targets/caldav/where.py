"""Where the calendar is: remembered between runs, so a rerun starts with its listing.

Finding the calendar from the URL given (a calendar, a principal or a home, with
a calendar name) takes one to three PROPFINDs. Their answer rarely changes, so
it is kept in the state folder, one small file per URL and calendar name given,
and a rerun goes straight to the listing. When the calendar is no longer there
(the listing answers 404, 403, 405 or 410), the file is forgotten and the
calendar found afresh, in the same run.

Kept: the calendar's URL, its name and its home's URL; never a user name or a
password. A damaged file is said once and found afresh (the calendar is still
on the server: nothing is lost).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calsync.io.atomic import WriteFailure, write_atomic

VERSION = 1
MOVED = (403, 404, 405, 410)  # what a listing of a calendar that is no longer there answers


@dataclass(frozen=True)
class Whereabouts:
    calendar_url: str
    name: str
    home_url: str | None


def where_path(identity: str) -> Path:
    """The file for one URL and calendar name given (`identity` holds no password)."""
    from calsync.io.places import state_dir

    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return state_dir() / "caldav" / f"where-{digest}.json"


def recall(path: Path, identity: str, warn: Callable[[str], None]) -> Whereabouts | None:
    """The calendar found by an earlier run for this identity, if any and readable."""
    if not path.exists():
        return None
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != VERSION or document.get("identity") != identity:
            raise ValueError("another version or another URL")
        found = Whereabouts(document["calendar_url"], document["name"], document["home_url"])
        if not isinstance(found.calendar_url, str) or not isinstance(found.name, str):
            raise TypeError("not text")
        if found.home_url is not None and not isinstance(found.home_url, str):
            raise TypeError("not text")
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        warn(f"the CalDAV state file {path} is damaged ({err}); the calendar is looked up afresh")
        return None


def keep(path: Path, identity: str, where: Whereabouts, warn: Callable[[str], None]) -> None:
    document = {
        "version": VERSION,
        "identity": identity,
        "calendar_url": where.calendar_url,
        "name": where.name,
        "home_url": where.home_url,
    }
    data = json.dumps(document, indent=1, ensure_ascii=False).encode()
    try:
        if path.exists() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, data)
    except (OSError, WriteFailure) as err:
        # Only a shortcut is lost: the next run finds the calendar again.
        warn(f"cannot write the CalDAV state file {path}: {getattr(err, 'strerror', None) or err}")


def forget(path: Path) -> None:
    with contextlib.suppress(OSError):  # one that cannot be removed is overwritten later
        path.unlink(missing_ok=True)
