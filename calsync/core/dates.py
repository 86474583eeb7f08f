"""Dates as people type them on a command line: `2026-11-30`, `today`, `tomorrow`,
`friday`, `+2w`, and wall-clock times that DST makes ambiguous. Pure: the caller says
what day today is."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

EXPECTED = "expected YYYY-MM-DD, today, tomorrow, a weekday such as mon, or +2w, -3d"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<count>\d{1,4})(?P<unit>[dw])$")


def parse_day(text: str, today: date) -> date:
    """The day `text` names, counted from `today`; ValueError with what was expected.

    A weekday name (`fri`, `friday`) is the next such day, today included; `+2w` is
    two weeks from today and `-3d` three days ago.
    """
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word == "yesterday":
        return today - timedelta(days=1)
    for number, name in enumerate(_WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return today + timedelta(days=(number - today.weekday()) % 7)
    offset = _OFFSET.match(word)
    if offset:
        days = int(offset["count"]) * (7 if offset["unit"] == "w" else 1)
        return today + timedelta(days=days if offset["sign"] == "+" else -days)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            raise ValueError(f"'{text}' is not a date ({EXPECTED})") from None
    raise ValueError(f"'{text}' is not a date ({EXPECTED})")


def reads_once(moment: datetime) -> bool:
    """Its wall-clock time names one instant: not repeated when the clocks go back, nor
    skipped when they go forward (a UTC or floating time always does)."""
    return moment.replace(fold=0).utcoffset() == moment.replace(fold=1).utcoffset()
