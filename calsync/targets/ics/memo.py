"""A memo of the .ics file calsync last wrote, so the next run need not scan it.

The file stays the only truth: the memo (in the state folder, one per output
path) holds the SHA-256 of the bytes calsync wrote and, for each event, what the
scanner would read there (UID, stamp, start, key, zones and its byte range).
It is used only when the file's bytes still hash to it, for the same plan; a
file edited since, a memo missing, damaged or of another format, and the file
is scanned as before (`previous.read_previous`). The memo is only written for a
file made entirely of calsync's plain form (new events, and past events the
scanner read), so it says what the scanner says (tests/test_ics_memo.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calsync.io.atomic import write_atomic
from calsync.io.places import state_dir
from calsync.targets.ics.previous import Held, PastEvent, Previous, Stamp

FORMAT = 1


@dataclass(frozen=True)
class Written:
    """One event as calsync wrote it into the file: what a reader finds, and where."""

    uid: str
    stamp: Stamp
    start: datetime  # as written: in the zone its DTSTART names, or UTC
    key: str
    zones: frozenset[str]
    size: int  # bytes, from BEGIN:VEVENT to END:VEVENT\r\n


def memo_path(output: Path) -> Path:
    where = str(output.expanduser().absolute())
    return state_dir() / "ics" / f"{hashlib.sha256(where.encode()).hexdigest()[:24]}.json"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remember(memo: Path, data: bytes, plan_id: str, first: int, events: list[Written]) -> None:
    """The memo of `data` just written; `first` is where its first event begins. Best
    effort: a memo that cannot be written only means a scan next time."""
    rows = []
    offset = first
    for e in events:
        start = e.start.replace(tzinfo=None).isoformat()
        dtstamp = e.stamp.dtstamp.astimezone(UTC).isoformat()
        stamp = [e.stamp.fingerprint, e.stamp.sequence, dtstamp]
        zones = sorted(e.zones)
        rows.append([e.uid, *stamp, start, str(e.start.tzinfo), e.key, zones, offset, e.size])
        offset += e.size
    doc = {"calsync-ics-memo": FORMAT, "digest": digest(data), "plan": plan_id, "events": rows}
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, json.dumps(doc, separators=(",", ":")).encode())
    except OSError:
        return


def forget(memo: Path) -> None:
    """No memo for a file the scanner would not read as calsync's plain form."""
    try:
        memo.unlink(missing_ok=True)
    except OSError:
        return  # a stale memo names other bytes: it is never used for these


def recalled(memo: Path, data: bytes, plan_id: str, range_start: datetime) -> Previous | None:
    """What the scanner would read in `data`, from the memo of it; None when the memo is
    not of these very bytes and this plan (the caller then scans)."""
    try:
        doc = json.loads(memo.read_bytes())
        if doc.get("calsync-ics-memo") != FORMAT or doc.get("plan") != plan_id:
            return None
        if doc.get("digest") != digest(data):
            return None
        return _previous(doc["events"], data, range_start)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # missing or damaged: a scan answers instead


def _previous(rows: list[list[Any]], data: bytes, range_start: datetime) -> Previous:
    stamps: dict[str, Stamp] = {}
    past: list[PastEvent] = []
    held: list[Held] = []
    zones_by_name: dict[str, ZoneInfo] = {}
    for row in rows:
        uid, fingerprint, sequence, dtstamp, start_text, zone, key, zones, begin, size = row
        tz = zones_by_name.setdefault(zone, ZoneInfo(zone))
        start = datetime.fromisoformat(start_text).replace(tzinfo=tz)
        stamps[uid] = Stamp(fingerprint, int(sequence), datetime.fromisoformat(dtstamp))
        if key:
            held.append(Held(key, start))
        if start < range_start:
            text = data[begin : begin + size]
            past.append(PastEvent(text, start.year, frozenset(zones), uid, start, key))
    return Previous(stamps, tuple(past), tuple(held), plain=True)
