"""Regenerating an .ics over the previous file reads it with a line scanner, and every
event is written as text line by line (issue 15): the bytes are the same as through
icalendar objects, and a damaged previous file is refused exactly as before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Alarm, Event
from icalendar.parser import Contentline

from calsync.core.content import EventContent
from calsync.core.instants import _repeated, as_written
from calsync.core.loader import PlanError, parse_plan
from calsync.core.model import Schedule
from calsync.errors import BadInput
from calsync.targets.ics import (
    Previous,
    parse_previous,
    read_previous,
    render,
    scan_previous,
)
from calsync.targets.ics.text import event_text, fold
from tests.plan_texts import FIRST_NOW, LATER_NOW, first_instant, schedule
from tests.strategies import plans

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = "training.ics"


def has_ambiguous_local_time(data: bytes) -> bool:
    """A repeated or skipped local time: the one case the scanner leaves to icalendar."""
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return any(_repeated(e, name) for e in events for name in ("DTSTART", "DTEND"))


@st.composite
def edits(draw: st.DrawFn, text: str) -> str:
    """The plan as the user might change it between two runs."""
    kind = draw(st.sampled_from(["none", "title", "duration", "time", "another plan"]))
    if kind == "title":
        return text.replace("title: Session s0", 'title: "Session s0, renamed; again"', 1)
    if kind == "duration":
        return text.replace("duration: ", "duration: 1", 1)
    if kind == "time":
        return text.replace(":00]", ":30]", 1).replace(":15,", ":45,", 1)
    if kind == "another plan":
        return draw(plans())
    return text


@SETTINGS
@given(data=st.data())
def test_regenerating_over_the_previous_file_gives_the_bytes_icalendar_gives(
    data: st.DataObject,
) -> None:
    text = data.draw(plans())
    start = date(2026, 11, 30)
    before = schedule(text, start, data.draw(st.integers(1, 6)))
    previous = render(before, FIRST_NOW)

    edited = data.draw(edits(text))
    try:
        parse_plan(edited, "plan.yaml")
    except PlanError:
        assume(False)  # an edit the plan format refuses (a session made too long)
    after = schedule(
        edited,
        start + timedelta(weeks=data.draw(st.integers(0, 3))),
        data.draw(st.integers(1, 6)),
    )
    first = first_instant(after)
    now = data.draw(st.sampled_from([FIRST_NOW, LATER_NOW]))
    scanned = read_previous(previous, after.plan.id, first, SOURCE)
    parsed = parse_previous(previous, after.plan.id, first, SOURCE)

    assert render(after, now, scanned) == render(after, now, parsed)
    assert scanned.held == parsed.held  # each session's key and start, with its zone
    # The scanner really read it (else this compares icalendar with itself).
    read = scan_previous(previous, after.plan.id, first) is not None
    assert read or has_ambiguous_local_time(previous)


@SETTINGS
@given(text=plans(), weeks=st.integers(1, 6))
def test_an_unchanged_plan_changes_no_byte(text: str, weeks: int) -> None:
    s = schedule(text, date(2026, 11, 30), weeks)
    previous = render(s, FIRST_NOW)
    scanned = scan_previous(previous, s.plan.id, first_instant(s))
    if scanned is None:
        assert has_ambiguous_local_time(previous)
        return
    assert render(s, LATER_NOW, scanned) == previous
    assert set(scanned.stamps) == {o.uid for o in s.occurrences}
    assert [(h.key, h.start) for h in scanned.held] == [(o.key, o.start) for o in s.occurrences]


ZONES = ["Europe/Brussels", "America/New_York", "Asia/Kolkata", "UTC"]
TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from("\n;,\\"))


@st.composite
def contents(draw: st.DrawFn) -> EventContent:
    zone = draw(st.sampled_from(ZONES))
    start = datetime(2026, 11, 30, tzinfo=ZoneInfo(zone)) + timedelta(
        minutes=15 * draw(st.integers(0, 4 * 24 * 400))
    )
    end = start + timedelta(minutes=5 * draw(st.integers(1, 60)))
    key = f"p/{start:%Y-%m-%d}/{draw(st.sampled_from(['legs', 'z2', 'long run']))}"
    return EventContent(
        uid=key.replace("/", "-") + "@calsync",
        key=key,
        plan="p",
        summary=draw(TEXT),
        description=draw(TEXT),
        start=start,
        end=end,
        timezone=zone,
        location=draw(st.none() | TEXT),
        categories=(draw(st.sampled_from(["strength", "ride"])), "hard"),
        reminder=draw(st.none() | st.integers(0, 3000)),
    )


def icalendar_event(content: EventContent, dtstamp: datetime, sequence: int) -> bytes:
    """The reference: the same event built with icalendar's objects, as calsync once wrote it."""
    event = Event()
    event.add("UID", content.uid)
    event.add("DTSTAMP", dtstamp)
    event.add("SEQUENCE", sequence)
    event.add("DTSTART", as_written(content.start))
    event.add("DTEND", as_written(content.end))
    event.add("SUMMARY", content.summary)
    event.add("DESCRIPTION", content.description)
    if content.location:
        event.add("LOCATION", content.location)
    event.add("CATEGORIES", list(content.categories))
    event.add("STATUS", "CONFIRMED")
    event.add("TRANSP", "OPAQUE")
    event.add("X-CALSYNC-PLAN", content.plan)
    event.add("X-CALSYNC-KEY", content.key)
    event.add("X-CALSYNC-HASH", content.fingerprint)
    if content.reminder is not None:
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", content.summary)
        alarm.add("TRIGGER", timedelta(minutes=-content.reminder))
        event.add_component(alarm)
    text: bytes = event.to_ical()
    return text


STAMPS = st.sampled_from(
    [
        datetime(2026, 11, 25, 23, tzinfo=ZoneInfo("UTC")),
        LATER_NOW,  # datetime.UTC
        datetime(2026, 12, 20, 7, 30, 59, 999999, tzinfo=UTC),  # icalendar drops the microseconds
    ]
)


@settings(max_examples=300, deadline=None)
@given(content=contents(), dtstamp=STAMPS, sequence=st.integers(0, 50))
def test_calsync_writes_an_event_byte_for_byte_as_icalendar_does(
    content: EventContent, dtstamp: datetime, sequence: int
) -> None:
    """calsync writes event text line by line (several times faster); icalendar's objects
    are the reference it must equal, for any text, zone, time and reminder."""
    assert event_text(content, dtstamp, sequence) == icalendar_event(content, dtstamp, sequence)


def test_a_start_in_a_repeated_hour_is_written_in_utc_as_icalendar_writes_it() -> None:
    second_pass = datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Brussels"))
    content = EventContent(
        uid="p-2027-10-31-z2@calsync",
        key="p/2027-10-31/z2",
        plan="p",
        summary="Zone 2 ride",
        description="Easy spin, nose breathing.",
        start=second_pass,
        end=second_pass + timedelta(hours=1),
        timezone="Europe/Brussels",
        location=None,
        categories=("ride", "easy"),
        reminder=30,
    )
    text = event_text(content, LATER_NOW, 2)
    assert b"DTSTART:20271031T013000Z\r\n" in text
    assert text == icalendar_event(content, LATER_NOW, 2)


# --- damage: whatever the scanner sees, the outcome is icalendar's ----------------------


def outcome(read: object, data: bytes, s: Schedule) -> bytes | str:
    """The bytes written over `data`, or the message it was refused with."""
    try:
        previous = read(data, s.plan.id, first_instant(s), SOURCE)  # type: ignore[operator]
        assert isinstance(previous, Previous)
        return render(s, LATER_NOW, previous)
    except Exception as err:  # BadInput; or a fault the icalendar path has as well
        return f"{type(err).__name__}: {err}"


LINE_DAMAGE = st.sampled_from(
    [
        lambda line: b"",  # the line removed
        lambda line: line + b"\r\n" + line,  # written twice
        lambda line: line.split(b":")[0] + b":soon",  # a garbage value
        lambda line: line.lower(),
        lambda line: line.replace(b"Z", b""),  # a UTC time made floating
        lambda line: line.replace(b"TZID=", b"TZID=Mars/"),
        lambda line: line.replace(b":", b";VALUE=DATE:", 1),
        lambda line: line.replace(b":0", b":+0", 1),
        lambda line: line.replace(b":0", b":00", 1),
        lambda line: b" " + line,  # folded into the line before
        lambda line: line[: len(line) // 2],
    ]
)


@SETTINGS
@given(text=plans(), where=st.floats(0, 1), damage=LINE_DAMAGE)
def test_a_damaged_previous_file_gets_the_same_answer_as_through_icalendar(
    text: str, where: float, damage: object
) -> None:
    s = schedule(text, date(2026, 11, 30), 2)
    lines = render(s, FIRST_NOW).split(b"\r\n")[:-1]
    index = min(int(where * len(lines)), len(lines) - 1)
    lines[index] = damage(lines[index])  # type: ignore[operator]
    damaged = b"".join(line + b"\r\n" for line in lines if line)
    later = schedule(text, date(2026, 12, 7), 2)  # past events kept, others read

    assert outcome(read_previous, damaged, later) == outcome(parse_previous, damaged, later)


@pytest.mark.parametrize(
    "damage, message",
    [
        ((b"SEQUENCE:0\r\n", b"SEQUENCE:abc\r\n"), "SEQUENCE 'abc' is not a whole number"),
        ((b"DTSTAMP:20261126T080000Z\r\n", b""), "an event has no DTSTAMP"),
    ],
)
def test_a_damaged_file_is_refused_naming_its_line(
    damage: tuple[bytes, bytes], message: str
) -> None:
    s = schedule(
        "plan: p\ntimezone: Europe/Brussels\nstarts: 2026-11-30\nsessions:\n"
        "  legs: {kind: strength, title: Legs, duration: 1h, load: hard}\n"
        "week:\n  mon: [legs 10:00]\n",
        date(2026, 11, 30),
        2,
    )
    damaged = render(s, FIRST_NOW).replace(*damage, 1)
    line = next(
        n
        for n, text in enumerate(damaged.split(b"\r\n"), start=1)
        if text.startswith(b"SEQUENCE:abc" if b"abc" in damage[1] else b"BEGIN:VEVENT")
    )
    with pytest.raises(BadInput) as refused:
        read_previous(damaged, s.plan.id, first_instant(s), SOURCE)
    assert str(refused.value).startswith(f"{SOURCE}:{line}: {message}; ")


@settings(max_examples=300, deadline=None)
@given(
    line=st.text(alphabet=st.sampled_from("ab ,;\\^é€😀"), max_size=400)
    | st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=300
    )
)
def test_a_line_is_folded_where_icalendar_folds_it(line: str) -> None:
    """calsync's folding (sliced for plain ASCII, char by char otherwise) cuts where
    icalendar does: never inside a character, never after a lone escape."""
    assert fold(line).encode() == Contentline(line).to_ical()
