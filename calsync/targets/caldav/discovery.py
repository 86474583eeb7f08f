"""Finding the calendar on a CalDAV server, and making it when it is missing.

The URL given may be a calendar, a principal or a calendar home (or the
server's root, which leads to the user's home); with a calendar name, the
calendar is looked up in the home by display name or path segment and made
with MKCALENDAR (RFC 4791 5.3.1) when missing, unless a dry run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from calsync.targets.caldav.http import CalDAVFailure, Transport, describe, public_url
from calsync.targets.caldav.names import Names
from calsync.targets.caldav.xml import (
    CALENDAR_TYPE,
    COLLECTION_TYPE,
    DISPLAY_NAME,
    HOME_SET,
    PROPFIND_BODY,
    RESOURCE_TYPE,
    USER_PRINCIPAL,
    mkcalendar_body,
)


@dataclass(frozen=True)
class Listed:
    url: str
    name: str  # the display name, else the last path segment
    segment: str
    calendar: bool


def _props(transport: Transport, url: str, depth: int) -> tuple[int, list[Any]]:
    answer = transport.send("PROPFIND", url, PROPFIND_BODY, {"Depth": str(depth)})
    if answer.status not in (200, 207):
        return answer.status, []
    try:
        return answer.status, answer.parse_propfind()
    except Exception:  # an answer that is not a multistatus: not a DAV resource
        return answer.status, []


def _href(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _types(properties: Mapping[str, Any]) -> set[str]:
    value = properties.get(RESOURCE_TYPE) or []
    return set(value if isinstance(value, list) else [value])


def same_path(a: str, b: str) -> bool:
    return urlsplit(a).path.rstrip("/") == urlsplit(b).path.rstrip("/")


def _home_from_principal(transport: Transport, principal: str, base: str) -> str | None:
    """The calendar home of a principal (an href in the answer from `base`), as a URL."""
    url = transport.url(principal, base)
    _, results = _props(transport, url, 0)
    home = _href(results[0].properties.get(HOME_SET)) if results else None
    return transport.url(home, url) if home is not None else None


def find_home(transport: Transport, url: str) -> str:
    """The calendar home of the user the client logs in as."""
    _, results = _props(transport, url, 0)
    properties = results[0].properties if results else {}
    home = _href(properties.get(HOME_SET))
    if home is not None:
        return transport.url(home, url)
    principal = _href(properties.get(USER_PRINCIPAL))
    if principal is None:
        raise CalDAVFailure(f"cannot find the calendar home on the server of {public_url(url)}")
    found = _home_from_principal(transport, principal, url)
    if found is None:
        raise CalDAVFailure(f"the server of {public_url(url)} tells no calendar home for this user")
    return found


def list_calendars(transport: Transport, home: str) -> list[Listed]:
    status, results = _props(transport, home, 1)
    if status not in (200, 207):
        raise CalDAVFailure(f"cannot list the calendars in {public_url(home)} (HTTP {status})")
    found = []
    for result in results:
        if same_path(result.href, home):
            continue
        segment = urlsplit(result.href).path.rstrip("/").rsplit("/", 1)[-1]
        name = str(result.properties.get(DISPLAY_NAME) or segment)
        found.append(
            Listed(
                transport.url(result.href, home),
                name,
                segment,
                CALENDAR_TYPE in _types(result.properties),
            )
        )
    return sorted(found, key=lambda c: c.url)


def pick_calendar(listed: Sequence[Listed], wanted: str) -> str | None:
    calendars = [c for c in listed if c.calendar]
    for by_name in (True, False):
        for candidate in calendars:
            if (candidate.name if by_name else candidate.segment) == wanted:
                return candidate.url
    return None


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "calendar"
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


@dataclass(frozen=True)
class Located:
    calendar_url: str | None  # None: missing, and not created (a dry run)
    name: str
    home_url: str | None
    created: bool


def _not_a_calendar(url: str, names: Names) -> CalDAVFailure:
    return CalDAVFailure(
        f"{public_url(url)} is not a CalDAV calendar, principal or calendar home: give a "
        f"calendar's URL, or a principal/home URL with {names.calendar_named}"
    )


def locate_calendar(
    transport: Transport, url: str, wanted: str | None, title: str, create: bool = True
) -> Located:
    """--url as a calendar, or as a principal/home where --calendar (default: the plan's
    title) is found by name, and made with MKCALENDAR when missing (unless a dry run)."""
    status, results = _props(transport, url, 0)
    if status == 404:
        raise CalDAVFailure(
            f"there is nothing at {public_url(url)} (HTTP 404): check {transport.names.url}"
        )
    if not results:
        raise _not_a_calendar(url, transport.names)
    properties = results[0].properties
    types = _types(properties)
    if CALENDAR_TYPE in types:
        name = str(properties.get(DISPLAY_NAME) or "")
        segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        if wanted and wanted not in (name, segment):
            raise CalDAVFailure(
                f"{public_url(url)} is the calendar '{name or segment}', not '{wanted}': "
                f"leave out {transport.names.calendar}, or give the principal or home URL"
            )
        return Located(url if url.endswith("/") else url + "/", name or segment, None, False)
    home = _home_of(transport, url, properties, types)
    name = wanted or title
    listed = list_calendars(transport, home)
    found = pick_calendar(listed, name)
    if found is not None or not create:
        return Located(found, name, home, False)
    return Located(
        make_calendar(transport, home, name, {c.segment for c in listed}), name, home, True
    )


def _home_of(transport: Transport, url: str, properties: Mapping[str, Any], types: set[str]) -> str:
    home = _href(properties.get(HOME_SET))
    if home is not None:
        return transport.url(home, url)  # a principal
    if COLLECTION_TYPE not in types and urlsplit(url).path not in ("", "/"):
        raise _not_a_calendar(url, transport.names)
    principal = _href(properties.get(USER_PRINCIPAL))
    found = _home_from_principal(transport, principal, url) if principal is not None else None
    if found is None:
        raise _not_a_calendar(url, transport.names)
    # The server root leads to the user's home; any other collection must be that home.
    if urlsplit(url).path not in ("", "/") and not same_path(found, url):
        raise _not_a_calendar(url, transport.names)
    return found


def make_calendar(transport: Transport, home: str, name: str, taken: set[str]) -> str:
    url = urljoin(home if home.endswith("/") else home + "/", _slug(name, taken) + "/")
    answer = transport.send("MKCALENDAR", url, mkcalendar_body(name))
    if answer.status in (403, 405, 409):
        # "Something is there" (RFC 4791 and 4918 use 403 and 405, Radicale 409): most
        # likely our own MKCALENDAR, retried after its answer was lost. Use it if so.
        found = pick_calendar(list_calendars(transport, home), name)
        if found is not None:
            return found
    if answer.status != 201:
        raise CalDAVFailure(
            f"the CalDAV server refused to create the calendar '{name}' in "
            f"{public_url(home)} ({describe(answer)})"
        )
    return url
