"""icalendar alone building the same events: the library's floor for `calsync ics`.

    python bench/ics_floor.py events.json out.ics

events.json holds each event's fields as calsync wrote them (`fields` reads them
out of calsync's own export, outside the timing); this script imports only
icalendar, builds the same VCALENDAR (its time zone, each VEVENT with its alarm)
and writes it: what any tool on top of the library pays at least.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

Fields = dict[str, Any]


def fields(ics: Path) -> list[Fields]:
    """Each VEVENT of an export as plain values (read once, not timed)."""
    found = []
    for event in Calendar.from_ical(ics.read_bytes()).walk("VEVENT"):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        alarm = next(iter(event.walk("VALARM")), None)
        found.append(
            {
                "uid": str(event["UID"]),
                "summary": str(event["SUMMARY"]),
                "description": str(event.get("DESCRIPTION", "")),
                "start": start.replace(tzinfo=None).isoformat(),
                "end": end.replace(tzinfo=None).isoformat(),
                "zone": str(getattr(start.tzinfo, "key", "UTC")),
                "stamp": event.decoded("DTSTAMP").isoformat(),
                "sequence": int(event.get("SEQUENCE", 0)),
                "categories": [str(c) for c in getattr(event["CATEGORIES"], "cats", [])],
                "extra": {k: str(v) for k, v in event.items() if k.startswith("X-")},
                "alarm": None if alarm is None else -alarm.decoded("TRIGGER").total_seconds(),
            }
        )
    return found


def build(events: list[Fields]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//calsync bench//icalendar alone//EN")
    calendar.add("version", "2.0")
    for item in events:
        zone = ZoneInfo(item["zone"])
        event = Event()
        event.add("summary", item["summary"])
        event.add("dtstart", datetime.fromisoformat(item["start"]).replace(tzinfo=zone))
        event.add("dtend", datetime.fromisoformat(item["end"]).replace(tzinfo=zone))
        event.add("dtstamp", datetime.fromisoformat(item["stamp"]))
        event.add("uid", item["uid"])
        event.add("sequence", item["sequence"])
        event.add("categories", item["categories"])
        event.add("description", item["description"])
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        for name, value in item["extra"].items():
            event.add(name, value)
        if item["alarm"] is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", item["summary"])
            alarm.add("trigger", -timedelta(seconds=item["alarm"]))
            event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_bytes(build(json.loads(source.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
