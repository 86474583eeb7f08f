"""The XML the CalDAV target sends (RFC 4791, RFC 4918) and the property names it reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

# What `quote` leaves of a path: RFC 3986's pchar, so an href is spelt as servers do.
PATH_SAFE = "/:@!$&'()*+,;=~"

# The names of what is sent and read, as ElementTree spells them.
DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CALENDAR_TYPE = CALDAV + "calendar"
COLLECTION_TYPE = DAV + "collection"
HOME_SET = CALDAV + "calendar-home-set"
USER_PRINCIPAL = DAV + "current-user-principal"
DISPLAY_NAME = DAV + "displayname"
RESOURCE_TYPE = DAV + "resourcetype"
SYNC_TOKEN = DAV + "sync-token"
MULTISTATUS = DAV + "multistatus"
RESPONSE = DAV + "response"
HREF = DAV + "href"
STATUS = DAV + "status"
PROPSTAT = DAV + "propstat"
PROP = DAV + "prop"
ETAG = DAV + "getetag"
CALENDAR_DATA = CALDAV + "calendar-data"
ERROR = DAV + "error"
# Preconditions (RFC 4918 16) that refuse a request, not the access: a sync token the
# server no longer knows (RFC 6578 3.2), a REPORT it does not offer (RFC 3253 3.6).
REQUEST_PRECONDITIONS = frozenset({DAV + "valid-sync-token", DAV + "supported-report"})
ICALENDAR = {"Content-Type": "text/calendar; charset=utf-8"}

_NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def query_body(start: datetime, end: datetime) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:calendar-query {_NS}>'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    )


def etags_body(start: datetime, end: datetime) -> str:
    """The events in a range, by href and ETag only: what a rerun lists."""
    return query_body(start, end).replace("<c:calendar-data/>", "")


def sync_collection_body(token: str) -> str:
    """What changed in the calendar since `token`, by href and ETag (RFC 6578 3.2)."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><d:sync-collection {_NS}>'
        f"<d:sync-token>{escape(token)}</d:sync-token><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    )


def multiget_body(hrefs: Iterable[str]) -> str:
    refs = "".join(f"<d:href>{escape(quote(h, safe=PATH_SAFE))}</d:href>" for h in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget {_NS}>'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}</c:calendar-multiget>"
    )


def freebusy_body(start: datetime, end: datetime) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:free-busy-query {_NS}>'
        f'<c:time-range start="{_utc(start)}" end="{_utc(end)}"/></c:free-busy-query>'
    )


SYNC_TOKEN_BODY = (
    f'<?xml version="1.0" encoding="utf-8"?><d:propfind {_NS}>'
    "<d:prop><d:sync-token/></d:prop></d:propfind>"
)

PROPFIND_BODY = (
    f'<?xml version="1.0" encoding="utf-8"?><d:propfind {_NS}><d:prop>'
    "<d:resourcetype/><d:displayname/><c:calendar-home-set/><d:current-user-principal/>"
    "</d:prop></d:propfind>"
)


def mkcalendar_body(name: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:mkcalendar {_NS}><d:set><d:prop>'
        f"<d:displayname>{escape(name)}</d:displayname>"
        '<c:supported-calendar-component-set><c:comp name="VEVENT"/>'
        "</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"
    )
