"""The known-events memory: what calsync has put into one calendar, kept in the state folder.

One JSON file per calendar (named after its URL, never holding a password):

- `events`: the keys calsync created, with their href, start, summary,
  fingerprint and SEQUENCE. CalDAV keeps no tombstones, so this is how a later
  run tells "the user deleted it" (do not recreate) from "it was never there";
- `listing`: what the last run read of each href in its range, at which ETag,
  so a rerun lists ETags only and reads (calendar-multiget) only what moved;
  with the server's sync token from before that listing (RFC 6578), so a rerun
  over the same range asks only what changed since.

Several writing threads remember and forget at once (`lock`); the file is
written atomically, once, at the end of the writes. A damaged file is said
once and the run starts afresh from a full listing (safe: nothing duplicated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from calsync.core.content import EventContent
from calsync.sync.engine import Remote
from calsync.sync.made import MadeSessions
from calsync.targets.caldav.events import READER, Reading, Seen, seen_from_json, seen_to_json
from calsync.targets.caldav.http import public_url


def default_state_path(calendar_url: str) -> Path:
    from calsync.io.places import state_dir

    digest = hashlib.sha256(public_url(calendar_url).encode()).hexdigest()[:32]
    return state_dir() / "caldav" / f"{digest}.json"


class KnownEvents(MadeSessions):
    """The keys calsync has put into one calendar, with where and when they are (see
    `calsync.sync.made`), and the last listing (see `readings`)."""

    NAME = "CalDAV state file"
    REF = "href"
    TEXTS = ("summary", "hash")
    # The last listing: what was read of each href at which ETag (see `readings`).
    listing: Any = None

    def read_extra(self, document: Mapping[str, Any]) -> None:
        self.listing = document.get("listing")

    def usable(self, entry: Any) -> bool:
        if not super().usable(entry):
            return False
        try:
            int(entry.get("sequence", 0))
        except (TypeError, ValueError):
            return False
        return True

    def remember(
        self, plan: str, remote_or_content: Remote | EventContent, href: str, sequence: int
    ) -> None:
        item = remote_or_content
        stored = item.stored if isinstance(item, Remote) else item.fingerprint
        entry = {
            "plan": plan,
            "href": href,
            "start": item.start.isoformat(),
            "summary": item.summary,
            "hash": stored,
            "sequence": sequence,
        }
        self.keep(item.key, entry)

    def clear(self) -> None:
        if self.entries or self.listing:
            self.entries = {}
            self.listing = None
            self.dirty = True

    # --- the last listing: what was read of each href, at which ETag ---

    def _own_listing(self, plan_id: str, zone: str) -> dict[str, Any] | None:
        listing = self.listing
        if not isinstance(listing, dict) or (
            listing.get("plan"),
            listing.get("zone"),
            listing.get("reader"),
        ) != (plan_id, zone, READER):
            return None
        return listing

    def sync_point(self, plan_id: str, zone: str) -> tuple[str | None, list[str] | None]:
        """The sync token the server gave before the kept listing was made ("": it offers
        none; None: not known) and the range that listing covers (ISO texts)."""
        listing = self._own_listing(plan_id, zone)
        if listing is None:
            return None, None
        token, span = listing.get("token"), listing.get("span")
        usable = isinstance(span, list) and all(isinstance(t, str) for t in span)
        return (token if isinstance(token, str) else None), (span if usable else None)

    def readings(self, plan_id: str, zone: str) -> dict[str, Reading]:
        """The events read by the last listing of this plan in this zone, by href: the
        ETag they were read at and what was read. Empty when there is none, or when it
        was kept by another plan, zone or reader; a damaged one is said once and dropped."""
        listing = self._own_listing(plan_id, zone)
        if listing is None:
            return {}
        found: dict[str, Reading] = {}
        try:
            for href, item in listing["hrefs"].items():
                etag = item["etag"]
                if not isinstance(etag, str) or not isinstance(item["events"], list):
                    raise TypeError("an ETag that is not text")
                found[href] = (etag, [seen_from_json(e, href, etag) for e in item["events"]])
        except (AttributeError, KeyError, TypeError, ValueError):
            self.warn(
                f"the CalDAV state file {self.path} has a damaged list of the calendar's "
                "events; every event is read afresh on this run"
            )
            self.listing = None
            self.dirty = True
            return {}
        return found

    def keep_listing(
        self,
        plan_id: str,
        zone: str,
        readings: Mapping[str, tuple[str, Sequence[Seen]]],
        token: str | None = None,
        span: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Keep what a listing read; `token` is the server's sync token from before it
        was made, `span` the range it covers."""
        listing: dict[str, Any] = {
            "plan": plan_id,
            "zone": zone,
            "reader": READER,
            **({"token": token} if token is not None else {}),
            **({"span": [t.isoformat() for t in span]} if span is not None else {}),
            "hrefs": {
                href: {"etag": etag, "events": [seen_to_json(e) for e in events]}
                for href, (etag, events) in sorted(readings.items())
            },
        }
        with self.lock:
            if listing != self.listing:
                self.listing = listing
                self.dirty = True

    def note_written(self, href: str, etag: str | None, seen: Seen) -> None:
        """An event calsync has just written, as the next listing will show it."""
        with self.lock:
            hrefs = self.listing.get("hrefs") if isinstance(self.listing, dict) else None
            if not isinstance(hrefs, dict):
                return
            if etag is None:  # the server changed what it stored: read it next time
                hrefs.pop(href, None)
            else:
                hrefs[href] = {"etag": etag, "events": [seen_to_json(seen)]}
            self.dirty = True

    def note_gone(self, href: str) -> None:
        with self.lock:
            hrefs = self.listing.get("hrefs") if isinstance(self.listing, dict) else None
            if isinstance(hrefs, dict) and hrefs.pop(href, None) is not None:
                self.dirty = True

    def extra(self) -> dict[str, Any]:
        return {"listing": self.listing} if self.listing is not None else {}
