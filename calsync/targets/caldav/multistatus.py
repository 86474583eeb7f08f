"""Reading a WebDAV multistatus answer (RFC 4918 13, RFC 4791 7.8-7.9): what calsync needs
of a PROPFIND and of a calendar-query or calendar-multiget REPORT.

Parsed with the standard library's expat-based ElementTree: it fetches no external
entity, and expat (2.4.1 and later, as bundled with Python 3.11) refuses the
exponential entity expansion of a "billion laughs" document.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from calsync.targets.caldav.xml import (
    CALENDAR_DATA,
    ETAG,
    HREF,
    MULTISTATUS,
    PROP,
    PROPSTAT,
    RESOURCE_TYPE,
    RESPONSE,
    STATUS,
    SYNC_TOKEN,
)


class NotXML(ValueError):
    """A body that says it is XML, and is not."""


@dataclass(frozen=True)
class PropfindResult:
    """One resource of a PROPFIND answer: its href (decoded) and the properties found."""

    href: str
    properties: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class CalendarQueryResult:
    """One resource of a calendar-query or calendar-multiget answer."""

    href: str
    etag: str | None = None
    calendar_data: str | None = None
    status: int = 200


@dataclass(frozen=True)
class SyncChanges:
    """A sync-collection answer (RFC 6578 3.5): the members changed since the token sent,
    by href with their ETags, those removed, and the token to send next time."""

    token: str
    changed: dict[str, str | None]
    gone: frozenset[str]
    complete: bool  # False: the server cut the answer short (507 on the collection)


def parse(body: bytes, says_xml: bool) -> ET.Element | None:
    """The document in `body`; None when it is not XML and does not say it is (an
    iCalendar GET, an HTML error page). A body that says it is XML and is not: `NotXML`."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"<"):
        if says_xml and start:
            raise NotXML("not XML")
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        if says_xml:
            raise NotXML("not XML") from None
        return None


def _responses(tree: ET.Element | None) -> list[ET.Element]:
    if tree is None:
        return []
    if tree.tag == RESPONSE:
        return [tree]  # a bare response, without its multistatus
    if tree.find(RESPONSE) is None and (inner := tree.find(MULTISTATUS)) is not None:
        tree = inner  # a multistatus wrapped in one more element
    return [child for child in tree if child.tag == RESPONSE]


def status_code(text: str | None) -> int:
    """200 from "HTTP/1.1 200 OK" (200 when there is none, as RFC 4918 reads it)."""
    parts = (text or "").split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return 200


def normal_href(text: str) -> str:
    """An href decoded, as a path: an absolute URL is cut to its path."""
    if "%2540" in text:  # a doubly encoded "@" (Confluence)
        text = text.replace("%2540", "%40")
    href = unquote(text)
    if "://" in href:
        href = unquote(urlsplit(href).path)
    return href


def _parts(response: ET.Element) -> tuple[str, list[ET.Element], int]:
    """The href, the propstats whose status is a success, and the response's status."""
    href = response.findtext(HREF) or ""
    status = status_code(response.findtext(STATUS))
    good = [p for p in response.iter(PROPSTAT) if 200 <= status_code(p.findtext(STATUS)) < 300]
    return normal_href(href.strip()), good, status


def _value(element: ET.Element) -> Any:
    """A property's value: its text, the types of a resourcetype, or the href(s) inside."""
    children = list(element)
    if not children:
        return element.text
    if element.tag == RESOURCE_TYPE:
        return [child.tag for child in children]
    hrefs = [(child.text or "").strip() for child in children if child.tag == HREF]
    if hrefs:
        return hrefs[0] if len(hrefs) == 1 else hrefs
    return [child.tag for child in children]


def propfind(tree: ET.Element | None) -> list[PropfindResult]:
    found = []
    for response in _responses(tree):
        href, propstats, status = _parts(response)
        properties = {
            child.tag: _value(child)
            for propstat in propstats
            for prop in propstat.iter(PROP)
            for child in prop
        }
        found.append(PropfindResult(href, properties, status))
    return found


def calendar_query(tree: ET.Element | None) -> list[CalendarQueryResult]:
    found = []
    for response in _responses(tree):
        href, propstats, status = _parts(response)
        etag = data = None
        for propstat in propstats:
            for prop in propstat.iter(PROP):
                etag = prop.findtext(ETAG) or etag
                data = prop.findtext(CALENDAR_DATA) or data
        found.append(CalendarQueryResult(href, etag, data, status))
    return found


def sync_collection(tree: ET.Element | None, collection: str) -> SyncChanges | None:
    """The changes a sync-collection REPORT on `collection` (a decoded path) answers;
    None without a new token (not an answer calsync can use)."""
    inner = tree.find(MULTISTATUS) if tree is not None else None
    top = inner if inner is not None else tree
    token = (top.findtext(SYNC_TOKEN) or "").strip() if top is not None else ""
    if not token:
        return None
    changed: dict[str, str | None] = {}
    gone: set[str] = set()
    complete = True
    for result in calendar_query(top):
        # A collection is never a member (iCloud lists the calendar itself among the
        # changes); 507 on it says the answer was cut short (RFC 6578 3.6).
        if result.href.endswith("/") or result.href == collection.rstrip("/"):
            complete = complete and result.status != 507
        elif result.status in (404, 410):
            gone.add(result.href)
        else:
            changed[result.href] = result.etag if result.status == 200 else None
    return SyncChanges(token, changed, frozenset(gone), complete)
