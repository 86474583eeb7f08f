"""What the commands share: the options every command takes (the plan, the range, --now,
--busy, --fail-on), the schedule they give, and how results are printed."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from calsync import errors
from calsync.cli.report import (
    conflict_lines,
    input_warning_lines,
)
from calsync.core.expand import monday
from calsync.core.model import Busy, InputWarning, Level, Plan, Schedule
from calsync.io.clock import NOW_FORMATS, instant, today_in
from calsync.io.plans import load_plan
from calsync.sync.request import Range

F = TypeVar("F", bound=Callable[..., Any])  # a command function, before click wraps it

if TYPE_CHECKING:
    _DayType = click.ParamType[datetime | str, Any]
else:
    _DayType = click.ParamType  # generic for the type checker only: click 8.1 is not


class Day(_DayType):
    """`--from`: 2026-11-30, today, tomorrow, a weekday name, +2w (calsync/dates.py)."""

    name = "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime | str:
        """A date as a datetime; a word (`fri`, `+2w`) checked and kept, for `first_day`
        to count from the command's today (which --now may set)."""
        if isinstance(value, datetime):
            return value
        from calsync.core.dates import parse_day

        try:  # whether a word is a date does not depend on the day it is counted from
            parse_day(str(value), date(2000, 1, 3))
        except ValueError as err:
            self.fail(str(err), param, ctx)
        text = str(value).strip()
        if len(text) == 10 and text[4] == "-":
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        return text.lower()


def first_day(from_: Any, today: date) -> date | None:
    """--from as a date: a date as given, or a word (`fri`, `+2w`) counted from today."""
    if from_ is None:
        return None
    if isinstance(from_, datetime):
        return from_.date()
    from calsync.core.dates import parse_day

    return parse_day(str(from_), today)


def now_option(command: F) -> F:
    return click.option(
        "--now",
        type=click.DateTime(formats=[*NOW_FORMATS, "%Y-%m-%d"]),
        metavar="YYYY-MM-DD[THH:MM[:SS][+HH:MM]]",
        default=None,
        help="Take this instant as now (YYYY-MM-DDTHH:MM[:SS][+HH:MM]; no offset: the plan's "
        "zone). Default: SOURCE_DATE_EPOCH, else the clock.",
    )(command)


def range_options(command: F) -> F:
    command = now_option(command)
    command = click.option(
        "--weeks",
        type=click.IntRange(1, 520),
        metavar="N",
        default=4,
        show_default=True,
        help="How many weeks (1 to 520).",
    )(command)
    command = click.option(
        "--from",
        "from_",
        type=Day(),
        default=None,
        help="First day: YYYY-MM-DD, today, tomorrow, a weekday (fri) or +2w, counted "
        "from --now; default: Monday of this week.",
    )(command)
    return command


def busy_option(command: F) -> F:
    return click.option(
        "--busy",
        "busy_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="An .ics file of other appointments (repeatable); sessions avoid them.",
    )(command)


def fail_on_option(command: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(["error", "warn"]),
        default="error",
        show_default=True,
        help="Lowest conflict level that makes the exit status 3.",
    )(command)


plan_argument = click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))


def make_range(from_: datetime | None, weeks: int, now: datetime, plan: Plan) -> Range:
    """From --from, else from the Monday of the week `now` falls in, where the athlete lives."""
    today = today_in(now, plan.zone)
    start = first_day(from_, today) or monday(today)
    return Range(start, weeks)


def read_busy_files(
    paths: tuple[Path, ...], plan: Plan, span: Range
) -> tuple[tuple[Busy, ...], tuple[InputWarning, ...]]:
    """Busy time from --busy files, and what was assumed reading them (also on stderr)."""
    if not paths:
        return (), ()
    from calsync.cli.busy_files import read_busy

    start, end = plan.midnight(span.start), plan.midnight(span.end)
    read = [read_busy(path, start, end, plan.zone) for path in paths]
    warnings = tuple(w for r in read for w in r.warnings)
    for line in input_warning_lines(warnings):
        click.echo(line, err=True)
    return tuple(b for r in read for b in r.busy), warnings


def schedule_with_busy(
    plan: Plan,
    span: Range,
    busy_files: tuple[Path, ...],
    now: datetime | None = None,
    output: Path | None = None,
) -> Schedule:
    from calsync.cli.weekly import ics_present
    from calsync.core.weekly import arranged

    busy, warnings = read_busy_files(busy_files, plan, span)
    present = ics_present(plan, output)
    return replace(arranged(plan, span.start, span.end, busy, present, now), warnings=warnings)


def schedule_for(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    now: datetime | None,
    busy_files: tuple[Path, ...] = (),
    output: Path | None = None,
) -> tuple[Schedule, datetime]:
    """The plan expanded over the range the options give, and the instant the range
    was taken from (read once, here)."""
    plan = load_plan(plan_path)
    moment = instant(now, plan.zone)
    span = make_range(from_, weeks, moment, plan)
    return schedule_with_busy(plan, span, busy_files, moment, output), moment


def exit_status(schedule: Schedule, fail_on: str) -> int:
    return errors.exit_status([c.level.rank for c in schedule.conflicts], Level(fail_on).rank)


def echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def terminal_width(err: bool = False) -> int | None:
    """Columns to wrap to on a terminal (COLUMNS, else its size); None (no wrap) in a pipe."""
    stream = sys.stderr if err else sys.stdout
    return shutil.get_terminal_size().columns if stream.isatty() else None


def echo_conflicts(schedule: Schedule, err: bool = False) -> None:
    for line in conflict_lines(schedule.conflicts, terminal_width(err)):
        click.echo(line, err=err)


def echo_load_table(schedule: Schedule, cycle: bool = False) -> None:
    """The weekly load, one line a week; with `cycle`, what the cycle's lighter weeks are."""
    from calsync.cli.load_report import cycle_line, load_table, schedule_weeks

    rows = load_table(schedule_weeks(schedule))
    for line in ["", *rows] if rows else []:
        click.echo(line)
    if cycle:
        click.echo(cycle_line(schedule.plan))


def warn(message: str) -> None:
    """A warning a target gives while it runs (red on a terminal); the run goes on."""
    click.secho(f"calsync: WARNING: {message}", err=True, fg="red", bold=True)


def progress_bar(writes: int) -> Any:
    """A bar on a terminal when more than a handful of writes are due; silence for cron."""

    if writes > 5 and sys.stderr.isatty():
        return click.progressbar(length=writes, label="writing", file=sys.stderr)
    from calsync.sync.engine import Silent

    return Silent()
