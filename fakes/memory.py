"""An in-memory calendar and the engine's Backend for it: etags, the owner's hand, faults.

`MemoryCalendar` plays the server. Every write gives an event a new etag; a
conditional write whose condition fails is refused with 412 (If-Match: the etag
moved) or 409 (a create onto a ref that is taken). A deleted event stays as a
cancelled tombstone, as in Google Calendar, so the owner deleting an event and
the owner cancelling it read the same. The owner's API (`add_own`, `edit`,
`move`, `delete`, `cancel`) changes events behind calsync's back, and faults
are queued for the writes to come:

- `fail`: the write is refused (HTTP 500), nothing is applied;
- `lose`: the write is applied, but its answer never arrives (once an event: the
  resend is answered);
- `race`: just before the write reaches the event, its owner edits it (so the
  write meets 412: the etag moved between calsync's read and its write).

`MemoryBackend` is written the way the real backends are: a create's ref
derives from the session key, so a resend can never duplicate; a lost answer is
sent again (as httplib2 and the retry do); 409/412 lead to a re-read judged by
the engine's one re-check (`calsync.sync.recheck.landed`), and busy time follows
the one target-calendar rule (`calsync.sync.backend.counts_as_busy`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from calsync.core.content import EventContent, fingerprint
from calsync.core.model import Busy
from calsync.sync.backend import counts_as_busy
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.sync.recheck import landed

OK = 200


@dataclass(frozen=True)
class Item:
    """One event as the calendar holds it; `plan`/`key`/`stored` are calsync's marks."""

    ref: str
    summary: str
    start: datetime
    end: datetime
    etag: str
    description: str = ""
    location: str | None = None
    reminder: int | None = None
    plan: str | None = None  # None: an event of the owner's own
    key: str | None = None
    stored: str = ""  # the fingerprint calsync wrote into it
    cancelled: bool = False
    transparent: bool = False  # shown as free time

    @property
    def current(self) -> str:
        return fingerprint(
            self.summary, self.description, self.start, self.end, self.location, self.reminder
        )

    def remote(self) -> Remote:
        assert self.key is not None
        return Remote(
            self.key, self.ref, self.start, self.summary, self.stored, self.current, self.etag,
            self.cancelled,
        )  # fmt: skip


@dataclass
class Fault:
    kind: str  # "fail", "lose" or "race"
    action: Action | None = None  # None: any write
    key: str | None = None  # None: any event
    times: int = 1
    summary: str = "Changed by its owner"  # what a race writes
    hit: set[str] = field(default_factory=set)  # the refs it hit: a resend is answered


class LostAnswer(Exception):
    """The write reached the calendar (or not); its answer never reached calsync."""


def ref_for(key: str) -> str:
    """The ref of the event of a session key: derived, so a resent create cannot duplicate."""
    return "ev" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass
class MemoryCalendar:
    """The server: events by ref, etags, counters, the owner's API, queued faults."""

    name: str = "Training"
    items: dict[str, Item] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    writes: int = 0  # writes applied, calsync's and not the owner's
    reads: int = 0  # listings asked for
    _etags: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _etag(self) -> str:
        return f'"{next(self._etags)}"'

    # --- the owner, behind calsync's back ---

    def add_own(
        self, summary: str, start: datetime, end: datetime, transparent: bool = False
    ) -> str:
        """An event of the owner's own (a meeting; `transparent`: shown as free)."""
        ref = f"own{len(self.items)}"
        self.items[ref] = Item(ref, summary, start, end, self._etag(), transparent=transparent)
        return ref

    def by_key(self, key: str) -> Item:
        [item] = [i for i in self.items.values() if i.key == key and not i.cancelled]
        return item

    def edit(self, key: str, **fields: Any) -> None:
        """Change what the event shows (summary, description, start, end, location...)."""
        item = self.by_key(key)
        self.items[item.ref] = replace(item, etag=self._etag(), **fields)

    def move(self, key: str, start: datetime) -> None:
        item = self.by_key(key)
        self.edit(key, start=start, end=start + (item.end - item.start))

    def delete(self, key: str) -> None:
        self.cancel(key)  # a tombstone stays, as in Google Calendar

    def cancel(self, key: str) -> None:
        item = self.by_key(key)
        self.items[item.ref] = replace(item, cancelled=True, etag=self._etag())

    # --- faults ---

    def fail(self, action: Action | None = None, key: str | None = None, times: int = 1) -> None:
        self.faults.append(Fault("fail", action, key, times))

    def lose(self, action: Action | None = None, key: str | None = None, times: int = 1) -> None:
        self.faults.append(Fault("lose", action, key, times))

    def race(self, key: str, summary: str = "Changed by its owner") -> None:
        self.faults.append(Fault("race", None, key, 1, summary))

    def _fault(self, action: Action, key: str, ref: str) -> Fault | None:
        for fault in self.faults:
            if fault.action in (None, action) and fault.key in (None, key) and ref not in fault.hit:
                fault.hit.add(ref)
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- the protocol calsync speaks ---

    def list(self, plan_id: str, start: datetime, end: datetime) -> list[Item]:
        """This plan's events (cancelled ones too) that overlap [start, end)."""
        self.reads += 1
        return [
            i for i in self.items.values() if i.plan == plan_id and i.end > start and i.start < end
        ]

    def get(self, ref: str) -> Item | None:
        return self.items.get(ref)

    def write(self, action: Action, ref: str, item: Item | None, if_match: str | None) -> int:
        """Create (If-None-Match: *), update or delete `ref`; the HTTP status of the answer."""
        key = item.key if item and item.key else (self.items[ref].key if ref in self.items else "")
        fault = self._fault(action, key or "", ref)
        if fault is not None and fault.kind == "fail":
            return 500
        if fault is not None and fault.kind == "race" and ref in self.items:
            self.edit(self.items[ref].key or "", summary=fault.summary)
        status = self._apply(action, ref, item, if_match)
        if fault is not None and fault.kind == "lose":
            raise LostAnswer(f"the answer to {action.value} {ref} was lost")
        return status

    def _apply(self, action: Action, ref: str, item: Item | None, if_match: str | None) -> int:
        there = self.items.get(ref)
        if action is Action.CREATE:
            if there is not None:
                return 409
        elif there is None:
            return 404
        elif if_match is not None and there.etag != if_match:
            return 412
        if action is Action.DELETE:
            assert there is not None
            if there.cancelled:
                return 410
            self.items[ref] = replace(there, cancelled=True, etag=self._etag())
        else:
            assert item is not None
            self.items[ref] = replace(item, etag=self._etag())
        self.writes += 1
        return OK


@dataclass
class MemoryBackend:
    """The engine's Backend for a MemoryCalendar."""

    calendar: MemoryCalendar
    others: Mapping[str, Sequence[Busy]] = field(default_factory=dict)  # other calendars' busy time
    attempts: int = 2  # a lost answer is sent again once
    fresh: bool = False  # a calendar created in this run holds nothing yet
    label: str = "memory"  # the target in reports

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        if self.fresh:
            return []
        return [i.remote() for i in self.calendar.list(plan_id, start, end)]

    def busy(
        self, calendars: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """The target calendar's own events (this plan's sessions left out), other calendars'
        busy time as given."""
        found: list[Busy] = []
        for name in calendars:
            if name != self.calendar.name:
                found += [b for b in self.others[name] if b.end > start and b.start < end]
                continue
            found += [
                Busy(i.start, i.end, i.summary)
                for i in self.calendar.items.values()
                if counts_as_busy(
                    ours=i.plan == plan_id, transparent=i.transparent, cancelled=i.cancelled
                )
                and i.end > start
                and i.start < end
            ]
        return tuple(sorted(found, key=lambda b: (b.start, b.end)))

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        results = []
        for change in changes:
            results.append(self._apply_one(change))
            progress(1)
        return results

    def _apply_one(self, change: Change) -> Result:
        for attempt in range(self.attempts):
            try:
                status = self._send(change)
            except LostAnswer as lost:
                if attempt + 1 < self.attempts:
                    continue
                return Result(change, Outcome.FAILED, str(lost))
            if status == OK or (change.action is Action.DELETE and status in (404, 410)):
                return Result(change, Outcome.DONE)
            if status in (409, 412):
                return self._recheck(change)
            return Result(change, Outcome.FAILED, f"HTTP {status}")
        raise AssertionError("unreachable: the last attempt returns")

    def _send(self, change: Change) -> int:
        if change.action is Action.CREATE:
            assert change.content is not None
            ref = ref_for(change.key)
            return self.calendar.write(change.action, ref, _item(ref, change.content), None)
        remote = change.remote
        assert remote is not None
        item = _item(remote.ref, change.content) if change.content else None
        return self.calendar.write(change.action, remote.ref, item, remote.etag)

    def _recheck(self, change: Change) -> Result:
        """409/412: our own earlier write whose answer was lost, or the owner's change?"""
        ref = change.remote.ref if change.remote else ref_for(change.key)
        item = self.calendar.get(ref)
        now = item.remote() if item is not None and item.key is not None else None
        live = item is not None and not item.cancelled
        return Result(change, landed(change, now, live))


def _item(ref: str, content: EventContent) -> Item:
    return Item(
        ref, content.summary, content.start, content.end, "", content.description,
        content.location, content.reminder, content.plan, content.key, content.fingerprint,
    )  # fmt: skip
