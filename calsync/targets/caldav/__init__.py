"""The CalDAV target: lists calsync's events in a calendar and applies the engine's changes.

Imported only by the CalDAV commands. It speaks HTTP itself (`wire`, on the
standard library's `http.client` and `ssl`), and follows RFC 4791 (CalDAV: calendar-query and
calendar-multiget REPORTs, free-busy-query, MKCALENDAR, one VEVENT per
resource) and RFC 9110 preconditions (If-None-Match: * to create without
overwriting, If-Match: ETag to change only what was read).

The events are the ones `calsync ics` writes, rendered by its code (same UID,
X-CALSYNC-PLAN/KEY/HASH, VALARM, and the VTIMEZONE), so moving
from a subscribed feed to CalDAV leaves no duplicates. CalDAV keeps no
tombstones, so a small local state file remembers which keys calsync has put
into each calendar: a key that was there and is gone was deleted by the user.

One module per concern:

- `setup`: the URL and password checked, the backend opened, one sync run;
- `http`: every request, retries, one clear message (`Transport`);
- `xml`: the request bodies;
- `discovery`: finding (or making) the calendar; `where`: remembering it;
- `events`: which events are calsync's, and what is read of them;
- `memory`: the known-events file (created keys, the last listing's ETags);
- `backend`: listing and writing; `pool`: several writes at a time;
- `freebusy`: busy time from the server's calendars;
- `names`: how messages name the settings (flags or config keys).
"""

from calsync.targets.caldav.backend import CalDAVBackend
from calsync.targets.caldav.discovery import Located, locate_calendar
from calsync.targets.caldav.events import Seen, read_event
from calsync.targets.caldav.http import (
    CALDAV_RETRY,
    CalDAVFailure,
    Transport,
    make_client,
    public_url,
)
from calsync.targets.caldav.memory import KnownEvents
from calsync.targets.caldav.names import COMMAND_LINE, CONFIG_FILE, Names
from calsync.targets.caldav.setup import PasswordError, caldav_target, check_url, resolve_password
from calsync.targets.caldav.xml import query_body
from calsync.targets.retry import Retry

__all__ = [
    "CALDAV_RETRY",
    "COMMAND_LINE",
    "CONFIG_FILE",
    "CalDAVBackend",
    "CalDAVFailure",
    "KnownEvents",
    "Located",
    "Names",
    "PasswordError",
    "Retry",
    "Seen",
    "Transport",
    "caldav_target",
    "check_url",
    "locate_calendar",
    "make_client",
    "public_url",
    "query_body",
    "read_event",
    "resolve_password",
]
