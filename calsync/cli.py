"""The command line: the imperative shell around the pure core.

Exit statuses: 0 fine, 1 a failure outside the user's input, 2 bad input or
usage, 3 conflicts at level error (or warn with --fail-on warn), 75 another
run holds the lock.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import click

from .expand import expand, monday
from .loader import PlanError, load_plan
from .model import Busy, Level, Plan, Schedule
from .report import conflict_lines, schedule_json, totals_line, week_grid

EXIT_FAILURE, EXIT_USAGE, EXIT_CONFLICTS, EXIT_LOCKED = 1, 2, 3, 75


class Failure(Exception):
    """A failure outside the user's input (network, disk, a server): exit 1."""

    exit_code = EXIT_FAILURE


class BadInput(Exception):
    """Input the user can fix (a file, an option value): exit 2."""

    exit_code = EXIT_USAGE


class CalsyncGroup(click.Group):
    """Turns the project's own errors into one clear message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PlanError as err:
            for problem in err.problems:
                click.echo(str(problem), err=True)
            ctx.exit(EXIT_USAGE)
        except (BadInput, Failure) as err:
            click.echo(f"calsync: {err}", err=True)
            ctx.exit(err.exit_code)
        except _busy_error() as err:
            click.echo(f"calsync: {err}", err=True)
            ctx.exit(EXIT_USAGE)
        except BrokenPipeError:
            # `calsync show | head`: the reader has gone, so has the need to print.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            ctx.exit(EXIT_FAILURE)
        except OSError as err:
            click.echo(
                f"calsync: {err.strerror or err}: {err.filename or ''}".rstrip(": "), err=True
            )
            ctx.exit(EXIT_FAILURE)


def _busy_error() -> type[Exception]:
    from .busy import BusyFileError

    return BusyFileError


@click.group(cls=CalsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calsync")
def cli() -> None:
    """Training plans for people who lift and ride, checked and put in their calendar."""


# --- shared options ---------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    start: date
    weeks: int

    @property
    def end(self) -> date:
        return self.start + timedelta(weeks=self.weeks)


def range_options(command: Callable) -> Callable:
    command = click.option(
        "--weeks", type=click.IntRange(1, 520), default=4, show_default=True, help="How many weeks."
    )(command)
    command = click.option(
        "--from",
        "from_",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="First day (YYYY-MM-DD); default: Monday of this week.",
    )(command)
    return command


def busy_option(command: Callable) -> Callable:
    return click.option(
        "--busy",
        "busy_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="An .ics file of other appointments (repeatable); sessions avoid them.",
    )(command)


def fail_on_option(command: Callable) -> Callable:
    return click.option(
        "--fail-on",
        type=click.Choice(["error", "warn"]),
        default="error",
        show_default=True,
        help="Lowest conflict level that makes the exit status 3.",
    )(command)


plan_argument = click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))


def make_range(from_: datetime | None, weeks: int, today: date | None = None) -> Range:
    start = from_.date() if from_ else monday(today or date.today())
    return Range(start, weeks)


def read_busy_files(paths: tuple[Path, ...], plan: Plan, span: Range) -> tuple[Busy, ...]:
    if not paths:
        return ()
    from .busy import read_busy

    zone = plan.zone
    start = datetime.combine(span.start, time(), tzinfo=zone)
    end = datetime.combine(span.end, time(), tzinfo=zone)
    return tuple(b for path in paths for b in read_busy(path, start, end, zone))


def schedule_for(plan_path: Path, span: Range, busy_files: tuple[Path, ...] = ()) -> Schedule:
    plan = load_plan(plan_path)
    return expand(plan, span.start, span.end, read_busy_files(busy_files, plan, span))


def exit_status(schedule: Schedule, fail_on: str) -> int:
    threshold = Level(fail_on)
    return EXIT_CONFLICTS if schedule.worst().rank >= threshold.rank else 0


def echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def echo_conflicts(schedule: Schedule, err: bool = False) -> None:
    for line in conflict_lines(schedule.conflicts):
        click.echo(line, err=err)


# --- commands ---------------------------------------------------------------------


@cli.command()
@plan_argument
@busy_option
@fail_on_option
def validate(plan_path: Path, busy_files: tuple[Path, ...], fail_on: str) -> None:
    """Load and check a plan over one whole cycle from its start."""
    plan = load_plan(plan_path)
    cycle_weeks = sum(p.weeks for p in plan.cycle) or 1
    last_exception = max((d for d, _ in plan.exceptions), default=plan.starts)
    weeks = max(cycle_weeks, 4, (last_exception - plan.starts).days // 7 + 1)
    span = Range(plan.starts, weeks)
    schedule = expand(plan, span.start, span.end, read_busy_files(busy_files, plan, span))
    per_week = sum(len(day) for day in plan.week)
    cycle = ", ".join(f"{p.name} {p.weeks}w" for p in plan.cycle) or "none"
    click.echo(f"{plan_path}: plan '{plan.id}' ({plan.title}), {plan.timezone}, goal {plan.goal}")
    click.echo(
        f"{len(plan.sessions)} sessions in the library, {per_week} a week; cycle: {cycle}; "
        f"{len(plan.exceptions)} exception{'s' * (len(plan.exceptions) != 1)}"
    )
    click.echo(totals_line(schedule))
    echo_conflicts(schedule)
    sys.exit(exit_status(schedule, fail_on))


@cli.command()
@plan_argument
@range_options
@busy_option
@fail_on_option
def show(
    plan_path: Path, from_: datetime | None, weeks: int, busy_files: tuple[Path, ...], fail_on: str
) -> None:
    """The weeks as a readable grid: days, times, titles, cycle phase, conflicts."""
    schedule = schedule_for(plan_path, make_range(from_, weeks), busy_files)
    for line in week_grid(schedule):
        click.echo(line)
    click.echo(totals_line(schedule))
    sys.exit(exit_status(schedule, fail_on))


@cli.command()
@plan_argument
@range_options
@busy_option
@fail_on_option
@click.option("--json", "as_json", is_flag=True, help="A JSON document instead of a table.")
def check(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    busy_files: tuple[Path, ...],
    fail_on: str,
    as_json: bool,
) -> None:
    """The conflict report for a range."""
    schedule = schedule_for(plan_path, make_range(from_, weeks), busy_files)
    if as_json:
        echo_json(schedule_json(schedule, sessions=False))
    else:
        echo_conflicts(schedule)
        click.echo(totals_line(schedule))
    sys.exit(exit_status(schedule, fail_on))


@cli.command("plan")
@plan_argument
@range_options
@busy_option
@fail_on_option
@click.option("--json", "as_json", is_flag=True, required=True, help="Print the sessions as JSON.")
def plan_command(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    busy_files: tuple[Path, ...],
    fail_on: str,
    as_json: bool,
) -> None:
    """The expanded sessions (and conflicts) as JSON."""
    schedule = schedule_for(plan_path, make_range(from_, weeks), busy_files)
    echo_json(schedule_json(schedule, sessions=True))
    sys.exit(exit_status(schedule, fail_on))


@cli.command()
@plan_argument
@range_options
@busy_option
@fail_on_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    show_default=True,
    help="The .ics file to write (- for stdout). Its previous version keeps SEQUENCE and DTSTAMP.",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="DTSTAMP for changed events (default: SOURCE_DATE_EPOCH, else the clock).",
)
def ics(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    busy_files: tuple[Path, ...],
    fail_on: str,
    output: Path,
    now: datetime | None,
) -> None:
    """Write the sessions as an RFC 5545 .ics file to import or subscribe to."""
    from .ics import NotOurFile, now_from, read_previous, render, write_atomic

    schedule = schedule_for(plan_path, make_range(from_, weeks), busy_files)
    to_stdout = str(output) == "-"
    previous = None
    if not to_stdout and output.exists():
        zone = schedule.plan.zone
        first = datetime.combine(schedule.start, time(), tzinfo=zone)
        try:
            previous = read_previous(output.read_bytes(), schedule.plan.id, first, str(output))
        except NotOurFile as err:
            raise BadInput(str(err)) from None
    data = render(schedule, now_from(now, os.environ), previous)
    if to_stdout:
        click.get_binary_stream("stdout").write(data)
    else:
        write_atomic(output, data)
        click.echo(f"wrote {output}: {totals_line(schedule)}", err=True)
    echo_conflicts(schedule, err=True)
    sys.exit(exit_status(schedule, fail_on))


# --- templates --------------------------------------------------------------------


def shipped_templates() -> dict[str, Any]:
    folder = resources.files("calsync") / "templates"
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def _template_summary(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


@cli.command()
def templates() -> None:
    """List the shipped plan templates."""
    for name, entry in shipped_templates().items():
        click.echo(f"{name:<22} {_template_summary(entry.read_text(encoding='utf-8'))}")


@cli.command()
@click.argument("name")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(name: str, path: Path | None, force: bool) -> None:
    """Copy the shipped template NAME to PATH (default: NAME.yaml) to start from."""
    found = shipped_templates()
    if name not in found:
        raise BadInput(f"no template '{name}' (shipped: {', '.join(found)})")
    target = path or Path(f"{name}.yaml")
    if target.is_dir():
        target = target / f"{name}.yaml"
    if target.exists() and not force:
        raise BadInput(f"{target} exists; use --force to overwrite it")
    with resources.as_file(found[name]) as source:
        shutil.copyfile(source, target)
    click.echo(f"wrote {target}; check it with: calsync validate {target}")


def main() -> None:
    cli(prog_name="calsync")
