"""The small textual units a plan is written in: durations, times of day, windows."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync.core.units import clock, format_duration, parse_duration, parse_span, parse_time

# --- durations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45m", 45),
        ("1h", 60),
        ("1h30m", 90),
        ("75m", 75),
        ("2h", 120),
        ("3h30m", 210),
        ("45min", 45),
        (" 1h ", 60),
        ("PT1H30M", 90),
        ("PT45M", 45),
        ("PT2H", 120),
        ("pt1h", 60),
    ],
)
def test_duration_forms_a_plan_may_use(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "text",
    ["", "45", "1.5h", "1H", "an hour", "45 m", "-45m", "h", "m", "1h30", "PT", "P", "PT1.5H"],
)
def test_text_that_is_not_a_duration_is_refused_with_the_expected_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"45m, 1h, 1h30m|PT1H30M"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0m", "0h", "0h0m", "PT0M", "PT0S"])
def test_a_zero_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("minutes", "text"), [(45, "45m"), (60, "1h"), (75, "1h15m"), (90, "1h30m"), (5, "5m")]
)
def test_durations_are_written_back_in_the_short_form(minutes: int, text: str) -> None:
    assert format_duration(timedelta(minutes=minutes)) == text


@given(st.integers(min_value=1, max_value=24 * 60))
def test_formatting_and_parsing_a_duration_round_trips(minutes: int) -> None:
    delta = timedelta(minutes=minutes)
    assert parse_duration(format_duration(delta)) == delta


# --- times of day ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00", time(10, 0)),
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 20:00 ", time(20, 0)),
    ],
)
def test_times_of_day_on_a_24_hour_clock(text: str, expected: time) -> None:
    assert parse_time(text) == expected
    assert clock(expected) == f"{expected:%H:%M}"


@pytest.mark.parametrize("text", ["25:00", "24:00", "12:60", "1000", "10.00", "10:0", "noon", ""])
def test_text_that_is_not_a_time_of_day_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_time(text)


# --- windows ---------------------------------------------------------------------------


def test_a_window_is_a_start_and_an_end_on_the_same_day() -> None:
    assert parse_span("17:00-22:30") == (time(17, 0), time(22, 30))
    assert parse_span("07:00 - 12:00") == (time(7, 0), time(12, 0))


@pytest.mark.parametrize("text", ["22:30-17:00", "12:00-12:00", "23:00-01:00"])
def test_a_window_that_ends_before_it_starts_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_span(text)


@pytest.mark.parametrize("text", ["evening", "17:00", "17:00-", "-22:30", "17:00-25:00"])
def test_text_that_is_not_a_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_span(text)
