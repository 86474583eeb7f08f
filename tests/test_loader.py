"""Reading plan templates: the shipped plan loads as written, every mistake is named precisely."""

from __future__ import annotations

import re
import tempfile
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.cli.main import cli
from calsync.core.loader import PlanError, parse_plan
from calsync.core.model import Goal, Kind, Level, Load
from calsync.core.rules.params import GapParams, HypertrophyRideParams, MaxPerDayParams, OrderParams
from calsync.io.plans import load_plan

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"

# A small, valid plan. Line numbers (used by the malformed-plan table below):
#  1 plan   2 title   3 timezone   4 starts   5 goal   6 windows   7 evening
#  8 sessions   9 legs   10 z2   11 week   12 mon   13 wed   14 rules   15 gap
# 16 cycle   17 build   18 deload   19 exceptions   20 2026-12-25
BASE = """\
plan: strength-and-ride
title: Training
timezone: Europe/Brussels
starts: 2026-11-30
goal: balanced
windows:
  evening: "17:00-22:30"
sessions:
  legs: {kind: strength, title: "Legs: squat, RDL", duration: 75m, load: hard, focus: legs}
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  mon: [legs 10:00, z2 evening]
  wed: [z2 18:00]
rules:
  gap: {min: 4h}
cycle:
  - {name: build, weeks: 3}
  - {name: deload, weeks: 1, scale: {strength: 0.6}}
exceptions:
  2026-12-25: rest
"""


def edit(*changes: tuple[str, str]) -> str:
    """BASE with each `old` (which must occur exactly once) replaced by `new`."""
    text = BASE
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} must occur once in BASE"
        text = text.replace(old, new)
    return text


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    return [str(p) for p in caught.value.problems]


# --- the shipped template loads exactly as written ----------------------------------------


@pytest.fixture(scope="module")
def template():
    return load_plan(TEMPLATE)


def test_the_template_header_is_read_as_written(template) -> None:
    assert template.id == "hybrid-hypertrophy"
    assert template.title == "Training"
    assert template.timezone == "Europe/Brussels"
    assert template.starts == date(2026, 11, 30)
    assert template.goal is Goal.HYPERTROPHY
    assert template.source == str(TEMPLATE)


def test_the_template_windows_are_morning_and_evening(template) -> None:
    spans = {w.name: (w.start, w.end) for w in template.windows}
    assert spans == {
        "morning": (time(7, 0), time(12, 0)),
        "evening": (time(17, 0), time(22, 30)),
    }


def test_the_template_session_library_is_read_field_by_field(template) -> None:
    library = {s.name: s for s in template.sessions}
    assert list(library) == ["legs", "upper", "core", "z2", "intervals"]
    legs = library["legs"]
    assert (legs.kind, legs.title, legs.duration, legs.load, legs.focus) == (
        Kind.STRENGTH,
        "Legs: squat, RDL, curls",
        timedelta(minutes=75),
        Load.HARD,
        ("legs",),
    )
    assert (library["upper"].duration, library["upper"].load) == (timedelta(hours=1), Load.MODERATE)
    assert (library["core"].duration, library["core"].load) == (timedelta(minutes=30), Load.EASY)
    assert (library["z2"].kind, library["z2"].title) == (Kind.RIDE, "Zone 2 ride")
    assert library["intervals"].notes == "5x4 min at 110% FTP"
    assert library["intervals"].load is Load.HARD
    assert all(s.reminder == 30 for s in library.values()), "default reminder: 30 minutes"


def _day(template, index: int) -> list[tuple[str, time | None, str | None]]:
    return [
        (e.session.name, e.at, e.window.name if e.window else None) for e in template.week[index]
    ]


def test_the_template_week_is_read_day_by_day(template) -> None:
    assert len(template.week) == 7
    assert _day(template, 0) == [("legs", time(10), None)]
    assert _day(template, 1) == [("core", time(10), None), ("z2", time(20), None)]
    assert _day(template, 2) == [("intervals", time(20), None)]
    assert _day(template, 3) == [("upper", time(10), None), ("z2", time(20), None)]
    assert _day(template, 4) == [("legs", time(10), None), ("z2", None, "evening")]
    assert _day(template, 5) == []
    assert _day(template, 6) == [("upper", time(10), None), ("intervals", None, "evening")]


def test_the_template_rules_override_order_and_gap_and_keep_goal_defaults(template) -> None:
    order = template.rule("order")
    assert order.level is Level.ERROR
    assert order.params == OrderParams(first=(Kind.STRENGTH,), then=(Kind.RIDE,))
    gap = template.rule("gap")
    assert (gap.level, gap.typed(GapParams).min) == (Level.ERROR, timedelta(hours=4))
    # goal hypertrophy: its defaults
    assert template.rule("legs-then-hard").level is Level.ERROR
    assert template.rule("hypertrophy-ride").level is Level.WARN
    assert template.rule("hypertrophy-ride").typed(HypertrophyRideParams).max == timedelta(
        minutes=20
    )
    assert template.rule("hard-then-easy").level is Level.WARN
    assert template.rule("max-per-day").typed(MaxPerDayParams).count == 2


def test_the_template_cycle_is_three_build_weeks_and_a_deload(template) -> None:
    build, deload = template.cycle
    assert (build.name, build.weeks, build.scale) == ("build", 3, ())
    assert (deload.name, deload.weeks) == ("deload", 1)
    assert deload.factor(Kind.STRENGTH) == 0.6
    assert deload.factor(Kind.RIDE) == 0.8
    assert deload.factor(Kind.RUN) == 1.0


def test_the_template_exceptions_are_christmas_eve_ride_and_christmas_off(template) -> None:
    (eve, eve_entries), (christmas, christmas_entries) = template.exceptions
    assert eve == date(2026, 12, 24)
    assert [(e.session.name, e.at) for e in eve_entries] == [("z2", time(9, 0))]
    assert christmas == date(2026, 12, 25)
    assert christmas_entries == ()


@pytest.mark.parametrize(
    "name", ["hybrid-hypertrophy", "cycling-first", "run-lift-ride", "rider-fit"]
)
def test_every_shipped_template_loads(templates_dir: Path, name: str) -> None:
    plan = load_plan(templates_dir / f"{name}.yaml")
    assert plan.id == name


# --- day entries ---------------------------------------------------------------------------


def test_the_mapping_entry_form_overrides_the_library_session() -> None:
    plan = parse_plan(
        edit(
            (
                "  wed: [z2 18:00]",
                "  wed:\n"
                "    - session: z2\n"
                '      at: "07:30"\n'
                "      duration: 45m\n"
                "      title: Openers\n"
                "      load: moderate\n"
                "      notes: 3x1 min at race pace\n"
                "      location: Turbo trainer",
            )
        )
    )
    (entry,) = plan.week[2]
    assert entry.at == time(7, 30)
    assert entry.window is None
    s = entry.session
    assert (s.name, s.kind, s.title, s.duration, s.load) == (
        "z2",
        Kind.RIDE,
        "Openers",
        timedelta(minutes=45),
        Load.MODERATE,
    )
    assert (s.notes, s.location) == ("3x1 min at race pace", "Turbo trainer")
    library_z2 = next(x for x in plan.sessions if x.name == "z2")
    assert library_z2.title == "Zone 2 ride", "the library itself is unchanged"


def test_the_mapping_entry_form_may_name_a_window() -> None:
    plan = parse_plan(edit(("  wed: [z2 18:00]", "  wed: [{session: z2, window: evening}]")))
    (entry,) = plan.week[2]
    assert (entry.at, entry.window.name) == (None, "evening")


@pytest.mark.parametrize("value", ["rest", "[]", ""])
def test_rest_an_empty_list_or_nothing_is_a_rest_day(value: str) -> None:
    plan = parse_plan(edit(("  wed: [z2 18:00]", f"  wed: {value}".rstrip())))
    assert plan.week[2] == ()


def test_weekdays_not_mentioned_are_rest_days() -> None:
    plan = parse_plan(BASE)
    assert [len(day) for day in plan.week] == [2, 0, 1, 0, 0, 0, 0]


# --- YAML 1.1 pitfalls ------------------------------------------------------------------------


def test_an_unquoted_time_in_the_mapping_form_is_a_time_not_sexagesimal_600() -> None:
    plan = parse_plan(edit(("  wed: [z2 18:00]", "  wed:\n    - session: z2\n      at: 10:00")))
    assert plan.week[2][0].at == time(10, 0)


def test_an_unquoted_window_is_read_as_text() -> None:
    plan = parse_plan(edit(('  evening: "17:00-22:30"', "  evening: 17:00-22:30")))
    assert (plan.windows[0].start, plan.windows[0].end) == (time(17), time(22, 30))


def test_yes_no_and_on_off_stay_words() -> None:
    plan = parse_plan(
        edit(("plan: strength-and-ride", "plan: no"), ("title: Training", "title: yes"))
    )
    assert (plan.id, plan.title) == ("no", "yes")


def test_a_numeric_looking_title_stays_text() -> None:
    plan = parse_plan(edit(("title: Zone 2 ride", "title: 1.10")))
    assert next(s for s in plan.sessions if s.name == "z2").title == "1.10"


# --- every mistake at once -----------------------------------------------------------------------


def test_every_mistake_in_the_file_is_reported_in_line_order() -> None:
    text = edit(
        ("timezone: Europe/Brussels", "timezone: Europe/Brusels"),
        ("goal: balanced", "goal: strength"),
        ("  wed: [z2 18:00]", "  wed: [z2 25:00]"),
        ("{min: 4h}", "{min: soon}"),
    )
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["3", "5", "13", "15"]
    assert "timezone: unknown time zone 'Europe/Brusels'" in found[0]
    assert "goal: unknown value 'strength'" in found[1]
    assert "week.wed[0]: '25:00' is not a time of day" in found[2]
    assert "rules.gap.min: 'soon' is not a duration" in found[3]


def test_the_command_line_prints_every_mistake(write_plan) -> None:
    path = write_plan(
        edit(("plan: strength-and-ride", "plan: Strength Ride"), ("load: easy", "load: chill"))
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{path}:1: plan: 'Strength Ride' is not a plan id" in lines[0]
    assert f"{path}:10: sessions.z2.load: unknown value 'chill'" in lines[1]


def test_a_broken_session_is_reported_once_not_again_as_unknown_where_it_is_used() -> None:
    found = problems(edit(("duration: 1h,", "duration: 0m,")))
    assert len(found) == 1
    assert "sessions.z2.duration" in found[0]


# --- a table of malformed plans, through the command line -------------------------------------------

LATIN1_TITLE = BASE.replace("Zone 2 ride", "Zone 2 r\xe9de").encode("latin-1")

MALFORMED = [
    # (id, text, line, path, words)
    (
        "yaml-colon-in-plain-value",
        edit(("title: Training", "title: Training: ride")),
        2,
        "",
        ["invalid YAML", "mapping values are not allowed"],
    ),
    ("yaml-tab-indent", edit(("  z2: {kind", "\tz2: {kind")), 10, "", ["invalid YAML", "\\t"]),
    ("yaml-unclosed-flow-mapping", edit(("{min: 4h}", "{min: 4h")), 15, "", ["invalid YAML"]),
    (
        "goal-is-a-list",
        edit(("goal: balanced", "goal: [balanced]")),
        5,
        "goal",
        ["expected text", "a list"],
    ),
    (
        "duration-is-a-list",
        edit(("duration: 1h,", "duration: [1h],")),
        10,
        "sessions.z2.duration",
        ["expected text", "a list"],
    ),
    (
        "sessions-is-a-list",
        edit(
            ("  legs: {kind", "  - {kind"),
            ("  z2: {kind", "  - {kind"),
        ),
        9,
        "sessions",
        ["expected a mapping", "a list"],
    ),
    (
        "unknown-top-level-key",
        edit(("title: Training", "titel: Training")),
        2,
        "titel",
        ["unknown key 'titel'", "title"],
    ),
    (
        "unknown-session-key",
        edit(("load: easy}", "load: easy, durration: 1h}")),
        10,
        "sessions.z2.durration",
        ["unknown key 'durration'", "duration"],
    ),
    (
        "unknown-session-in-week",
        edit(("  wed: [z2 18:00]", "  wed: [z3 18:00]")),
        13,
        "week.wed[0]",
        ["unknown session 'z3'", "known: legs, z2"],
    ),
    (
        "unknown-session-in-exception",
        edit(("2026-12-25: rest", "2026-12-25: [z3 09:00]")),
        20,
        "exceptions.2026-12-25[0]",
        ["unknown session 'z3'"],
    ),
    (
        "time-25-00",
        edit(("z2 18:00", "z2 25:00")),
        13,
        "week.wed[0]",
        ["'25:00' is not a time of day", "HH:MM"],
    ),
    (
        "mapping-at-25-00",
        edit(("  wed: [z2 18:00]", '  wed: [{session: z2, at: "25:00"}]')),
        13,
        "week.wed[0].at",
        ["'25:00' is not a time of day"],
    ),
    (
        "window-name-as-at",
        edit(("  wed: [z2 18:00]", "  wed: [{session: z2, at: evening}]")),
        13,
        "week.wed[0].at",
        ["'evening'", "a time HH:MM"],
    ),
    (
        "unknown-zone",
        edit(("Europe/Brussels", "Europe/Brusels")),
        3,
        "timezone",
        ["unknown time zone 'Europe/Brusels'", "IANA"],
    ),
    pytest.param(
        "zone-is-a-folder-of-zones",
        edit(("Europe/Brussels", "Europe")),
        3,
        "timezone",
        ["unknown time zone 'Europe'"],
        id="zone-is-a-folder-of-zones",
    ),
    (
        "duration-zero",
        edit(("duration: 1h,", "duration: 0m,")),
        10,
        "sessions.z2.duration",
        ["not a positive duration"],
    ),
    (
        "duration-bare-number",
        edit(("duration: 1h,", "duration: 90,")),
        10,
        "sessions.z2.duration",
        ["'90' is not a duration", "45m"],
    ),
    (
        "window-ends-before-start",
        edit(('"17:00-22:30"', '"22:30-17:00"')),
        7,
        "windows.evening",
        ["ends before it starts"],
    ),
    (
        "starts-on-a-tuesday",
        edit(("starts: 2026-11-30", "starts: 2026-12-01")),
        4,
        "starts",
        ["2026-12-01 is a Tuesday", "Monday"],
    ),
    (
        "starts-not-a-date",
        edit(("starts: 2026-11-30", "starts: next monday")),
        4,
        "starts",
        ["'next monday' is not a date", "YYYY-MM-DD"],
    ),
    (
        "bad-plan-id",
        edit(("plan: strength-and-ride", "plan: Strength_Ride")),
        1,
        "plan",
        ["'Strength_Ride' is not a plan id", "lowercase"],
    ),
    (
        "unknown-rule",
        edit(("  gap: {min: 4h}", "  gaps: {min: 4h}")),
        15,
        "rules.gaps",
        ["unknown rule 'gaps'", "gap"],
    ),
    (
        "bad-rule-param-value",
        edit(("{min: 4h}", "{min: soon}")),
        15,
        "rules.gap.min",
        ["'soon' is not a duration"],
    ),
    (
        "unknown-rule-param",
        edit(("{min: 4h}", "{minimum: 4h}")),
        15,
        "rules.gap.minimum",
        ["unknown key 'minimum'", "min"],
    ),
    (
        "bad-rule-level",
        edit(("{min: 4h}", "{min: 4h, level: fatal}")),
        15,
        "rules.gap.level",
        ["unknown value 'fatal'", "error, warn, off"],
    ),
    (
        "bad-rule-level-shorthand",
        edit(("  gap: {min: 4h}", "  gap: maybe")),
        15,
        "rules.gap",
        ["unknown value 'maybe'", "error, warn, off"],
    ),
    (
        "bad-rule-count",
        edit(("  gap: {min: 4h}", "  max-per-day: {count: -1}")),
        15,
        "rules.max-per-day.count",
        ["whole number"],
    ),
    (
        "bad-rule-kind",
        edit(("  gap: {min: 4h}", "  order: {first: lifting}")),
        15,
        "rules.order.first",
        ["kind"],
    ),
    (
        "unknown-kind-in-scale",
        edit(("{strength: 0.6}", "{strenght: 0.6}")),
        18,
        "cycle[1].scale.strenght",
        ["unknown kind 'strenght'"],
    ),
    (
        "scale-factor-out-of-range",
        edit(("{strength: 0.6}", "{strength: 6}")),
        18,
        "cycle[1].scale.strength",
        ["'6' is not a scale factor", "0.1 to 2.0"],
    ),
    (
        "cycle-weeks-zero",
        edit(("weeks: 3}", "weeks: 0}")),
        17,
        "cycle[0].weeks",
        ["whole number from 1 to 52", "'0'"],
    ),
    (
        "cycle-empty",
        edit(
            ("  - {name: build, weeks: 3}\n", ""),
            ("  - {name: deload, weeks: 1, scale: {strength: 0.6}}\n", ""),
            ("cycle:", "cycle: []"),
        ),
        16,
        "cycle",
        ["at least one phase"],
    ),
    (
        "duplicate-session",
        edit(
            (
                "  z2: {kind",
                "  legs: {kind: strength, title: Legs again, duration: 1h, load: hard}\n  z2: {kind",
            )
        ),
        10,
        "sessions.legs",
        ["duplicate key"],
    ),
    ("duplicate-top-level-key", BASE + "goal: endurance\n", 21, "goal", ["duplicate key"]),
    (
        "missing-required-key",
        edit(("timezone: Europe/Brussels\n", "")),
        1,
        "",
        ["missing required key 'timezone'"],
    ),
    (
        "missing-session-field",
        edit((", load: easy}", "}")),
        10,
        "sessions.z2",
        ["missing required key 'load'"],
    ),
    (
        "unknown-kind",
        edit(("kind: ride", "kind: cycling")),
        10,
        "sessions.z2.kind",
        ["unknown value 'cycling'", "strength, ride, run"],
    ),
    (
        "unknown-load",
        edit(("load: easy", "load: chill")),
        10,
        "sessions.z2.load",
        ["unknown value 'chill'", "easy, moderate, hard"],
    ),
    (
        "rest-as-session-name",
        edit(
            ("  z2: {kind", "  rest: {kind"),
            ("z2 evening", "legs 18:00"),
            ("[z2 18:00]", "[legs 18:00]"),
        ),
        10,
        "sessions.rest",
        ["cannot name a session"],
    ),
    (
        "exception-bad-date",
        edit(("2026-12-25: rest", "2026-12-32: rest")),
        20,
        "exceptions.2026-12-32",
        ["'2026-12-32' is not a date", "YYYY-MM-DD"],
    ),
    (
        "entry-with-at-and-window",
        edit(("  wed: [z2 18:00]", '  wed: [{session: z2, at: "18:00", window: evening}]')),
        13,
        "week.wed[0]",
        ["exactly one of 'at'", "'window'"],
    ),
    (
        "entry-mapping-without-session",
        edit(("  wed: [z2 18:00]", '  wed: [{at: "18:00"}]')),
        13,
        "week.wed[0]",
        ["missing required key 'session'"],
    ),
    (
        "entry-without-time",
        edit(("[z2 18:00]", "[z2]")),
        13,
        "week.wed[0]",
        ["'z2' is not a session entry", "NAME HH:MM"],
    ),
    (
        "unknown-window",
        edit(("z2 evening", "z2 lunch")),
        12,
        "week.mon[1]",
        ["'lunch' is not a time or a window", "evening"],
    ),
    (
        "day-is-a-word",
        edit(("  wed: [z2 18:00]", "  wed: lazy")),
        13,
        "week.wed",
        ["expected 'rest' or a list of sessions", "'lazy'"],
    ),
    (
        "unknown-weekday",
        edit(("  wed: [z2", "  wednesday: [z2")),
        13,
        "week.wednesday",
        ["unknown key 'wednesday'", "mon, tue, wed"],
    ),
    (
        "bad-reminder",
        edit(("goal: balanced", "goal: balanced\nreminder: soon")),
        6,
        "reminder",
        ["whole number", "'soon'"],
    ),
    (
        "unknown-goal",
        edit(("goal: balanced", "goal: strength")),
        5,
        "goal",
        ["unknown value 'strength'", "hypertrophy, endurance, balanced"],
    ),
    ("non-utf8-bytes", LATIN1_TITLE, 10, "", ["expected UTF-8 text"]),
    ("empty-file", "", 1, "", ["the file is empty"]),
    ("only-comments", "# my plan, to do\n# more to come\n", 1, "", ["the file is empty"]),
    (
        "list-at-top-level",
        "- legs 10:00\n- z2 18:00\n",
        1,
        "",
        ["expected a mapping, found a list"],
    ),
    (
        "text-at-top-level",
        "legs on monday, ride on wednesday\n",
        1,
        "",
        ["expected a mapping", "'legs on monday"],
    ),
    pytest.param(
        "yaml-unclosed-flow-list",
        edit(("  mon: [legs 10:00, z2 evening]", "  mon: [legs 10:00, z2 evening")),
        12,
        "",
        ["invalid YAML"],
        id="yaml-unclosed-flow-list",
    ),
    (
        "yaml-unclosed-quote-in-flow-mapping",
        edit(("title: Zone 2 ride", "title: 'Zone 2 ride")),
        10,
        "",
        ["invalid YAML"],
    ),
    ("yaml-undefined-alias", edit(("[z2 18:00]", "[*nope]")), 13, "", ["undefined alias 'nope'"]),
    (
        "yaml-bad-escape",
        edit(("title: Zone 2 ride", 'title: "Zone \\q ride"')),
        10,
        "",
        ["invalid YAML", "escape"],
    ),
    *(
        pytest.param(name, text, line, "", ["invalid YAML"], id=name)
        for name, text, line in [
            (
                "yaml-over-indented-key",
                edit(("  wed: [z2 18:00]", "    wed: [z2 18:00]")),
                13,
            ),
            (
                "yaml-under-indented-key",
                edit(("  z2: {kind", " z2: {kind")),
                10,
            ),
            (
                "yaml-stray-closing-bracket",
                edit(("[z2 18:00]", "[z2 18:00]]")),
                13,
            ),
            (
                "yaml-second-document",
                BASE + "---\nplan: other\n",
                21,
            ),
            (
                "yaml-control-character",
                edit(("title: Zone 2 ride", "title: Zone \x07 ride")),
                10,
            ),
        ]
    ),
]


MALFORMED = [c if hasattr(c, "marks") else pytest.param(*c, id=c[0]) for c in MALFORMED]


@pytest.mark.parametrize(("name", "text", "line", "path", "words"), MALFORMED)
def test_a_malformed_plan_is_refused_with_exit_2_and_a_message_naming_the_line(
    write_plan, name: str, text: str | bytes, line: int, path: str, words: list[str]
) -> None:
    plan_file = write_plan(text)
    result = CliRunner().invoke(cli, ["validate", str(plan_file)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == "", "nothing but the problems is printed"
    where = f"{plan_file}:{line}: " + (f"{path}: " if path else "")
    matching = [m for m in result.stderr.splitlines() if m.startswith(where)]
    assert matching, f"no message starting {where!r} in:\n{result.stderr}"
    assert any(all(w in m for w in words) for m in matching), result.stderr


def test_the_malformed_table_is_large_enough() -> None:
    assert len(MALFORMED) >= 25
    assert len({c.id for c in MALFORMED}) == len(MALFORMED)


def test_a_missing_file_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code == 2
    assert "cannot read the plan" in result.stderr
    assert "Traceback" not in result.output


# --- fuzzing: nothing but PlanError, ever ----------------------------------------------------------

TEMPLATE_TEXT = TEMPLATE.read_text(encoding="utf-8")

WORDS = [
    "plan", "title", "timezone", "starts", "goal", "reminder", "windows", "sessions", "week",
    "rules", "cycle", "exceptions", "mon", "tue", "sat", "legs", "z2", "kind", "duration",
    "load", "focus", "session", "at", "window", "evening", "name", "weeks", "scale", "strength",
    "ride", "order", "gap", "min", "level", "first", "then", "count", "max", "kinds",
    "max-per-day", "hard-then-easy", "2026-12-25", "rest",
]  # fmt: skip
SCALARS = st.one_of(
    st.sampled_from(
        [
            "10:00",
            "25:00",
            "75m",
            "0m",
            "PT1H30M",
            "1h",
            "2026-11-30",
            "2026-12-01",
            "Europe/Brussels",
            "Mars/Base",
            "hypertrophy",
            "error",
            "warn",
            "off",
            "strength",
            "ride",
            "hard",
            "easy",
            "legs",
            "legs 10:00",
            "z2 evening",
            "rest",
            "07:00-12:00",
            "12:00-07:00",
            "hybrid-hypertrophy",
            "",
            " ",
            "~",
            "0.6",
            "-1",
        ]
    ),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
)
KEYS = st.one_of(st.sampled_from(WORDS), st.text(max_size=8), st.integers(0, 99))
YAMLISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
PLAN_SHAPED = st.fixed_dictionaries(
    {
        "plan": SCALARS,
        "timezone": st.sampled_from(
            ["Europe/Brussels", "America/New_York", "UTC", "Europe", "Mars/Base"]
        ),
        "starts": st.sampled_from(["2026-11-30", "2027-03-22", "2026-12-01", "x"]),
        "sessions": st.dictionaries(
            st.sampled_from(["legs", "z2", "rest", "a b"]), YAMLISH, max_size=3
        ),
        "week": st.dictionaries(
            st.sampled_from(["mon", "tue", "fri", "sun", "xyz"]), YAMLISH, max_size=3
        ),
    },
    optional={
        "goal": SCALARS,
        "windows": YAMLISH,
        "rules": st.dictionaries(
            st.sampled_from(["order", "gap", "overlap", "max-per-day", "dst", "nope"]),
            YAMLISH,
            max_size=3,
        ),
        "cycle": YAMLISH,
        "exceptions": YAMLISH,
        "reminder": SCALARS,
    },
)


def _parses_or_plan_error(text: str | bytes) -> None:
    try:
        parse_plan(text, "fuzz.yaml")
    except PlanError as err:
        assert err.problems, "a PlanError always names at least one problem"
        for problem in err.problems:
            assert problem.line >= 1
            assert str(problem).startswith("fuzz.yaml:")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_give_a_plan_or_a_plan_error(data: bytes) -> None:
    _parses_or_plan_error(data)


@settings(max_examples=150, deadline=None)
@given(YAMLISH)
def test_random_yaml_gives_a_plan_or_a_plan_error(value: object) -> None:
    _parses_or_plan_error(yaml.safe_dump(value, allow_unicode=True))


@settings(max_examples=150, deadline=None)
@given(PLAN_SHAPED)
def test_random_plan_shaped_yaml_gives_a_plan_or_a_plan_error(value: dict) -> None:
    _parses_or_plan_error(yaml.safe_dump(value, allow_unicode=True, default_flow_style=None))


@st.composite
def mutated_template(draw) -> str:
    lines = TEMPLATE_TEXT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"]))
        text = "".join(lines)
        if action == "delete" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif action == "duplicate" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
        elif action == "swap" and len(text) > 1:
            i = draw(st.integers(0, len(text) - 2))
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            lines = text.splitlines(keepends=True)
        elif action == "insert":
            i = draw(st.integers(0, len(text)))
            char = draw(st.sampled_from(list(":-[]{},#&*!|>'\"%@`\t \n0") + ["\u00e9", "\x00"]))
            text = text[:i] + char + text[i:]
            lines = text.splitlines(keepends=True)
        elif action == "replace" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(
                st.sampled_from(
                    [
                        "",
                        "  mon: [legs 25:00]\n",
                        "week: rest\n",
                        "  z2: 1h\n",
                        "- x\n",
                        "  gap: {min: 0m}\n",
                    ]
                )
            )
    return "".join(lines)


@settings(max_examples=200, deadline=None)
@given(mutated_template())
def test_mutations_of_the_template_give_a_plan_or_a_plan_error(text: str) -> None:
    _parses_or_plan_error(text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(mutated_template(), YAMLISH.map(yaml.safe_dump)))
def test_the_command_line_only_exits_0_2_or_3_on_any_plan_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code in (0, 2, 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert re.match(re.escape(str(path)) + r":\d+: ", result.stderr)
