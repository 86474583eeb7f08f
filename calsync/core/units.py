"""Parsing the small textual units a plan is written in: durations, times, windows."""

from __future__ import annotations

import re
from datetime import time, timedelta

_SHORT = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?:in)?)?$")
_TIME = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$")


def parse_duration(text: str) -> timedelta:
    """`45m`, `1h`, `1h30m` or ISO 8601 `PT1H30M`; raises ValueError otherwise."""
    text = text.strip()
    if text.upper().startswith("P"):
        delta = _iso_duration(text.upper())
    else:
        match = _SHORT.match(text)
        if not text or not match or not (match["h"] or match["m"]):
            raise ValueError(
                f"'{text}' is not a duration (expected e.g. 45m, 1h, 1h30m or PT1H30M)"
            )
        delta = timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
    if delta <= timedelta(0):
        raise ValueError(f"'{text}' is not a positive duration")
    return delta


def _iso_duration(text: str) -> timedelta:
    match = re.match(
        r"^PT?(?:(?P<d>\d+)D)?T?(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?$", text
    )
    if not match or not any(match.groupdict().values()) or ("T" not in text and "D" not in text):
        raise ValueError(f"'{text}' is not an ISO 8601 duration (expected e.g. PT1H30M)")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def parse_time(text: str) -> time:
    """`HH:MM` on a 24-hour clock; raises ValueError otherwise."""
    match = _TIME.match(text.strip())
    if not match or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise ValueError(f"'{text}' is not a time of day (expected HH:MM, 00:00 to 23:59)")
    return time(int(match["h"]), int(match["m"]))


def parse_span(text: str) -> tuple[time, time]:
    """`07:00-12:00`: a window within one day, end after start."""
    first, sep, second = text.partition("-")
    if not sep:
        raise ValueError(f"'{text}' is not a time window (expected HH:MM-HH:MM)")
    start, end = parse_time(first), parse_time(second)
    if end <= start:
        raise ValueError(f"window '{text}' ends before it starts (expected start < end, same day)")
    return start, end


def format_duration(delta: timedelta) -> str:
    """The short form a plan uses, e.g. 1h15m; the inverse of `parse_duration`."""
    total = int(delta.total_seconds() // 60)
    hours, mins = divmod(total, 60)
    return (f"{hours}h" if hours else "") + (f"{mins}m" if mins or not hours else "")


def clock(at: time) -> str:
    return at.strftime("%H:%M")
