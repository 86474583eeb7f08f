"""Dates as a new user types them: `--from 2026-11-31` is refused in words, and `today`,
`tomorrow`, weekday names and `+2w` work as in khal."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.core.dates import parse_day

WEDNESDAY = date(2026, 12, 2)
TEMPLATE = "templates/hybrid-hypertrophy.yaml"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-30", date(2026, 11, 30)),
        ("today", WEDNESDAY),
        ("tomorrow", date(2026, 12, 3)),
        ("yesterday", date(2026, 12, 1)),
        ("wed", WEDNESDAY),  # the next Wednesday, today included
        ("friday", date(2026, 12, 4)),
        ("Mon", date(2026, 12, 7)),
        ("+2w", date(2026, 12, 16)),
        ("+3d", date(2026, 12, 5)),
        ("-1w", date(2026, 11, 25)),
    ],
)
def test_a_day_in_words_is_counted_from_today(text: str, day: date) -> None:
    assert parse_day(text, WEDNESDAY) == day


@pytest.mark.parametrize("text", ["2026-11-31", "2026-13-01", "30/11/2026", "next week", "+2y"])
def test_anything_else_says_what_a_date_looks_like(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_day(text, WEDNESDAY)
    assert str(caught.value) == (
        f"'{text}' is not a date (expected YYYY-MM-DD, today, tomorrow, a weekday such as "
        "mon, or +2w, -3d)"
    )


def test_november_31_on_the_command_line_is_not_a_strftime_pattern() -> None:
    result = CliRunner().invoke(cli, ["show", TEMPLATE, "--from", "2026-11-31"])
    assert result.exit_code == 2
    assert "'2026-11-31' is not a date (expected YYYY-MM-DD" in result.stderr
    assert "%Y" not in result.stderr and "format" not in result.stderr


def test_from_friday_starts_on_the_coming_friday() -> None:
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False):
        result = CliRunner().invoke(cli, ["check", TEMPLATE, "--from", "fri", "--weeks", "1"])
    assert "from Fri 2026-12-04 to Thu 2026-12-10" in result.stdout


@pytest.mark.parametrize("command", [["show"], ["check"], ["plan"], ["ics"], ["sync", "google"]])
def test_help_shows_readable_placeholders(command: list[str]) -> None:
    text = CliRunner().invoke(cli, [*command, "--help"]).stdout
    assert "--from DATE" in text and "--weeks N" in text
    assert "%" not in text and "INTEGER RANGE" not in text
