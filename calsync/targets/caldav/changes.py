"""What changed in a calendar since calsync last listed it (RFC 6578 sync-collection).

The server's sync token is asked before a listing (`current_token`) and kept
with it, so changes made while the listing is read are reported next time,
never missed. `changed_since` then tells a rerun whether the kept listing is
still the calendar's: only when every change is one calsync made itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from calsync.targets.caldav.events import Reading
from calsync.targets.caldav.http import Transport
from calsync.targets.caldav.xml import SYNC_TOKEN, SYNC_TOKEN_BODY, sync_collection_body


def current_token(transport: Transport, calendar_url: str) -> str | None:
    """The calendar's sync token now (RFC 6578 4): "" when the server offers none,
    None when it could not say (asked again next time)."""
    answer = transport.send("PROPFIND", calendar_url, SYNC_TOKEN_BODY, {"Depth": "0"})
    if answer.status not in (200, 207):
        return None
    for result in answer.parse_propfind():
        token = result.properties.get(SYNC_TOKEN)
        if isinstance(token, str) and token.strip():
            return token.strip()
    return ""


def changed_since(
    transport: Transport, calendar_url: str, token: str, kept: Mapping[str, Reading]
) -> tuple[str | None, dict[str, Reading] | None]:
    """The server's next token, and the kept listing brought up to date if every change
    since `token` is one calsync knows of (an event at the ETag calsync wrote or read,
    or gone); None when the range must be listed. The token is None when the server
    no longer knows the one sent (a new one is asked), "" when it does not sync."""
    body = sync_collection_body(token)
    answer = transport.send("REPORT", calendar_url, body, {"Depth": "0"})
    if answer.status not in (200, 207):  # 200: a multistatus all the same, as listings
        forgotten = b"valid-sync-token" in answer.body or answer.status in (404, 410)
        return (None if forgotten or answer.status >= 500 else ""), None
    collection = unquote(urlsplit(calendar_url).path)
    changes = answer.parse_sync_collection(collection)
    if changes is None:
        return None, None
    if not changes.complete:
        return changes.token, None
    current = {h: r for h, r in kept.items() if h not in changes.gone}
    for href, etag in changes.changed.items():
        before = current.get(href)
        if etag is None or before is None or before[0] != etag:
            return changes.token, None  # not calsync's doing, or not in the range as kept
    return changes.token, current
