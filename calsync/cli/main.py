"""The command line: the imperative shell around the pure core.

Exit statuses: 0 fine, 1 a failure outside the user's input, 2 bad input or
usage, 3 conflicts at level error (or warn with --fail-on warn), 75 another
run holds the lock.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from calsync import errors
from calsync.cli.report import (
    FORMAT,
    conflict_lines,
    input_warning_lines,
    plural,
    schedule_json,
    totals_line,
    week_grid,
)
from calsync.core.expand import expand, monday
from calsync.core.loader import load_plan
from calsync.core.model import Busy, InputWarning, Level, Plan, Schedule
from calsync.errors import EXIT_FAILURE, EXIT_USAGE, BadInput, Failure, InputProblems
from calsync.io.clock import NOW_FORMATS, instant, today_in
from calsync.sync.engine import Silent
from calsync.sync.request import Range, SyncRequest
from calsync.targets.open import CalDAVTarget, GoogleTarget, IntervalsTarget, SyncTarget


class CalsyncGroup(click.Group):
    """Turns the project's own errors into one clear message and an exit status.

    Commands that live in other modules are imported only when they are run (or
    listed in --help), so every other command starts without them.
    """

    LAZY = {
        "refresh": "calsync.cli.refresh:refresh_command",
        "cron": "calsync.cli.refresh:cron_command",
        "fit": "calsync.cli.fit:fit_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            module, attribute = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a reader that went away is seen here, not at exit
        except KeyboardInterrupt:
            click.echo("calsync: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except InputProblems as err:  # the plan's or the config's, one line each
            for problem in err.problems:
                click.echo(str(problem), err=True)
            ctx.exit(EXIT_USAGE)
        except (BadInput, Failure) as err:
            click.echo(f"calsync: {err}", err=True)
            ctx.exit(err.exit_code)
        except BrokenPipeError:
            # `calsync show | head`: the reader has gone, so has the need to print;
            # that is what the reader wanted, not a failure.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as err:
            click.echo(
                f"calsync: {err.strerror or err}: {err.filename or ''}".rstrip(": "), err=True
            )
            ctx.exit(EXIT_FAILURE)


EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT


@click.group(cls=CalsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calsync")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colours in the output; auto: on a terminal, unless NO_COLOR is set or TERM=dumb.",
)
@click.pass_context
def cli(ctx: click.Context, color: str) -> None:
    """Training plans for people who lift and ride, checked and put in their calendar."""
    if color == "always":
        ctx.color = True
    elif color == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        ctx.color = False


# --- shared options ---------------------------------------------------------------


class Day(click.ParamType):
    """`--from`: 2026-11-30, today, tomorrow, a weekday name, +2w (calsync/dates.py)."""

    name = "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
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


def now_option(command: Callable) -> Callable:
    return click.option(
        "--now",
        type=click.DateTime(formats=[*NOW_FORMATS, "%Y-%m-%d"]),
        metavar="YYYY-MM-DD[THH:MM[:SS][+HH:MM]]",
        default=None,
        help="Take this instant as now (YYYY-MM-DDTHH:MM[:SS][+HH:MM]; no offset: the plan's "
        "zone). Default: SOURCE_DATE_EPOCH, else the clock.",
    )(command)


def range_options(command: Callable) -> Callable:
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
    from calsync.core.busy import read_busy

    start, end = plan.midnight(span.start), plan.midnight(span.end)
    read = [read_busy(path, start, end, plan.zone) for path in paths]
    warnings = tuple(w for r in read for w in r.warnings)
    for line in input_warning_lines(warnings):
        click.echo(line, err=True)
    return tuple(b for r in read for b in r.busy), warnings


def schedule_with_busy(plan: Plan, span: Range, busy_files: tuple[Path, ...]) -> Schedule:
    busy, warnings = read_busy_files(busy_files, plan, span)
    return replace(expand(plan, span.start, span.end, busy), warnings=warnings)


def schedule_for(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    now: datetime | None,
    busy_files: tuple[Path, ...] = (),
) -> tuple[Schedule, datetime]:
    """The plan expanded over the range the options give, and the instant the range
    was taken from (read once, here)."""
    plan = load_plan(plan_path)
    moment = instant(now, plan.zone)
    span = make_range(from_, weeks, moment, plan)
    return schedule_with_busy(plan, span, busy_files), moment


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


# --- commands ---------------------------------------------------------------------


@cli.command()
@plan_argument
@busy_option
@fail_on_option
def validate(plan_path: Path, busy_files: tuple[Path, ...], fail_on: str) -> None:
    """Load and check a plan over one whole cycle from its start.

    \b
    Examples:
      calsync validate my-plan.yaml
      calsync validate my-plan.yaml --busy work.ics --fail-on warn
    """
    plan = load_plan(plan_path)
    cycle_weeks = sum(p.weeks for p in plan.cycle) or 1
    last_exception = max((d for d, _ in plan.exceptions), default=plan.starts)
    weeks = max(cycle_weeks, 4, (last_exception - plan.starts).days // 7 + 1)
    schedule = schedule_with_busy(plan, Range(plan.starts, weeks), busy_files)
    per_week = sum(len(day) for day in plan.week)
    cycle = ", ".join(f"{p.name} {p.weeks}w" for p in plan.cycle) or "none"
    click.echo(f"{plan_path}: plan '{plan.id}' ({plan.title}), {plan.timezone}, goal {plan.goal}")
    click.echo(
        f"{plural(len(plan.sessions), 'session')} in the library, {per_week} a week; cycle: {cycle}; "
        f"{len(plan.exceptions)} exception{'s' * (len(plan.exceptions) != 1)}"
    )
    click.echo(totals_line(schedule))
    from calsync.core.checked import held

    if held(schedule):
        click.echo(held(schedule))
    echo_conflicts(schedule)
    echo_load_table(schedule, cycle=True)
    sys.exit(exit_status(schedule, fail_on))


@cli.command()
@plan_argument
@range_options
@busy_option
@fail_on_option
def show(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    now: datetime | None,
    busy_files: tuple[Path, ...],
    fail_on: str,
) -> None:
    """The weeks as a readable grid: days, times, titles, cycle phase, conflicts.

    \b
    Examples:
      calsync show my-plan.yaml                       # this week and the next 3
      calsync show my-plan.yaml --from +1w --weeks 1  # next week only
    """
    plan = load_plan(plan_path)
    span = make_range(from_, weeks, instant(now, plan.zone), plan)
    if span.start < plan.starts:
        click.echo(f"The plan starts on {plan.starts:%a %d %b %Y}: showing from there.\n")
        span = Range(plan.starts, weeks)
    schedule = schedule_with_busy(plan, span, busy_files)
    for line in week_grid(schedule, terminal_width()):
        click.echo(line)
    click.echo(totals_line(schedule))
    from calsync.cli.load_report import schedule_weeks, trend_line

    trend = trend_line(schedule_weeks(schedule))
    if trend:
        click.echo(trend)
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
    now: datetime | None,
    busy_files: tuple[Path, ...],
    fail_on: str,
    as_json: bool,
) -> None:
    """The conflict report for a range.

    \b
    Examples:
      calsync check my-plan.yaml --from 2026-11-30 --weeks 8
      calsync check my-plan.yaml --json | jq '.conflicts[].hint'
    """
    schedule, _ = schedule_for(plan_path, from_, weeks, now, busy_files)
    if as_json:
        echo_json(schedule_json(schedule, sessions=False))
    else:
        echo_conflicts(schedule)
        click.echo(totals_line(schedule))
        echo_load_table(schedule)
    sys.exit(exit_status(schedule, fail_on))


@cli.command("plan")
@plan_argument
@range_options
@busy_option
@fail_on_option
@click.option("--json", "as_json", is_flag=True, help="JSON (the default and only output).")
def plan_command(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    now: datetime | None,
    busy_files: tuple[Path, ...],
    fail_on: str,
    as_json: bool,
) -> None:
    """The expanded sessions (and conflicts) as JSON.

    \b
    Examples:
      calsync plan my-plan.yaml --from today --weeks 1
      calsync plan my-plan.yaml | jq '.sessions[] | .start + " " + .title'
    """
    schedule, _ = schedule_for(plan_path, from_, weeks, now, busy_files)
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
def ics(
    plan_path: Path,
    from_: datetime | None,
    weeks: int,
    now: datetime | None,
    busy_files: tuple[Path, ...],
    fail_on: str,
    output: Path,
) -> None:
    """Write the sessions as an RFC 5545 .ics file to import or subscribe to.

    DTSTAMP of new and changed events is the instant --now gives (else
    SOURCE_DATE_EPOCH, else the clock); unchanged events keep theirs.

    \b
    Examples:
      calsync ics my-plan.yaml -o training.ics
      calsync ics my-plan.yaml --weeks 12 --busy work.ics -o ~/public_html/training.ics
    """
    from calsync.targets.ics import export, render

    schedule, stamp = schedule_for(plan_path, from_, weeks, now, busy_files)
    if str(output) == "-":
        sys.stdout.buffer.write(render(schedule, stamp))
        sys.stdout.flush()
    else:
        done = export(schedule, output, stamp)
        click.echo(
            f"wrote {output}: {done.created} created, {done.updated} updated, "
            f"{done.unchanged} unchanged; {totals_line(schedule)}",
            err=True,
        )
    echo_conflicts(schedule, err=True)
    sys.exit(exit_status(schedule, fail_on))


# --- sync -------------------------------------------------------------------------


@cli.group()
def sync() -> None:
    """Keep a calendar in step with a plan (Google Calendar, CalDAV, intervals.icu)."""


def sync_options(command: Callable) -> Callable:
    for option in reversed(
        [
            click.option(
                "--from",
                "from_",
                type=Day(),
                default=None,
                help="First day: YYYY-MM-DD, today, tomorrow, a weekday (fri) or +2w, "
                "counted from --now; default: today.",
            ),
            click.option(
                "--weeks",
                type=click.IntRange(1, 520),
                metavar="N",
                default=4,
                show_default=True,
                help="How many weeks ahead (1 to 520).",
            ),
            click.option(
                "--overwrite-edits",
                is_flag=True,
                help="Replace events you changed in the calendar.",
            ),
            click.option(
                "--restore-deleted",
                is_flag=True,
                help="Recreate events you deleted in the calendar.",
            ),
            click.option(
                "--no-annotate", is_flag=True, help="Do not write conflict warnings into events."
            ),
            click.option("--dry-run", is_flag=True, help="Print the changes; write nothing."),
            click.option("--json", "as_json", is_flag=True, help="The report as JSON."),
        ]
    ):
        command = option(command)
    return now_option(fail_on_option(command))


def sync_request(options: dict[str, Any], plan: Plan) -> SyncRequest:
    """The request the sync options (`sync_options`) make, from the command's one instant."""
    moment = instant(options["now"], plan.zone)
    day = first_day(options["from_"], today_in(moment, plan.zone))
    return SyncRequest.window(
        plan,
        day,
        options["weeks"],
        moment,
        overwrite_edits=options["overwrite_edits"],
        restore_deleted=options["restore_deleted"],
        annotate=not options["no_annotate"],
        dry_run=options["dry_run"],
    )


def warn(message: str) -> None:
    """A warning a target gives while it runs (red on a terminal); the run goes on."""
    click.secho(f"calsync: WARNING: {message}", err=True, fg="red", bold=True)


def run_target(target: SyncTarget, plan_path: Path, options: dict[str, Any]) -> None:
    """What every sync command does: check the target's options, read the plan, sync, report."""
    from calsync.targets.open import check_target, sync_target

    checked = check_target(target)  # before the plan or any secret is read
    plan = load_plan(plan_path)
    request = sync_request(options, plan)
    report = sync_target(checked, plan, request, progress_bar, warn)
    finish_sync(report, options["as_json"], options["fail_on"])


def progress_bar(writes: int) -> Any:
    """A bar on a terminal when more than a handful of writes are due; silence for cron."""

    if writes > 5 and sys.stderr.isatty():
        return click.progressbar(length=writes, label="writing", file=sys.stderr)
    return Silent()


def finish_sync(report: Any, as_json: bool, fail_on: str) -> None:
    from calsync.cli.sync_report import change_lines, sync_json, sync_line

    if as_json:
        echo_json({"calsync": FORMAT, **sync_json(report)})
    else:
        if report.dry_run or report.failures:
            for line in change_lines(report):
                click.echo(line)
        click.echo(sync_line(report))
        for line in conflict_lines(report.conflicts, terminal_width()):
            click.echo(line)
    levels = [c.level.rank for c in report.conflicts]
    sys.exit(errors.exit_status(levels, Level(fail_on).rank, failed=bool(report.failures)))


@sync.command("google")
@plan_argument
@click.option(
    "--calendar",
    default=None,
    help="Calendar name or id (default: the plan's title; 'primary' only when named).",
)
@click.option(
    "--busy",
    "busy_calendars",
    multiple=True,
    help="A calendar whose busy time sessions avoid (repeatable).",
)
@click.option(
    "--token",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The token file written by `calsync auth google`.",
)
@click.option(
    "--service-account",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A service account key file, for servers.",
)
@sync_options
def sync_google(
    plan_path: Path,
    calendar: str | None,
    busy_calendars: tuple[str, ...],
    token: Path | None,
    service_account: Path | None,
    **options: Any,
) -> None:
    """Put the plan's sessions into a Google Calendar and keep them in step.

    \b
    Examples:
      calsync sync google my-plan.yaml --dry-run
      calsync sync google my-plan.yaml --busy primary   # after: calsync auth google --busy
    """
    target = GoogleTarget(None, calendar, token, service_account, busy_calendars)
    run_target(target, plan_path, options)


@sync.command("caldav")
@plan_argument
@click.option(
    "--url", required=True, help="A calendar URL, or a principal/home URL with --calendar."
)
@click.option(
    "--calendar",
    default=None,
    help="Calendar name (default: the plan's title; created if missing).",
)
@click.option("--username", default=None, help="The account's user name.")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file whose first line is the password (an app password for iCloud/Fastmail).",
)
@click.option(
    "--password-env",
    metavar="NAME",
    default=None,
    help="An environment variable holding the password.",
)
@click.option(
    "--keyring", "use_keyring", is_flag=True, help="Read the password from the system keyring."
)
@click.option(
    "--busy",
    "busy_calendars",
    multiple=True,
    help="A calendar on the same server whose busy time sessions avoid (repeatable).",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Do NOT verify the server's TLS certificate (loud; never the default).",
)
@sync_options
def sync_caldav(
    plan_path: Path,
    url: str,
    calendar: str | None,
    username: str | None,
    password_file: Path | None,
    password_env: str | None,
    use_keyring: bool,
    busy_calendars: tuple[str, ...],
    insecure: bool,
    **options: Any,
) -> None:
    """Put the plan's sessions into a CalDAV calendar (iCloud, Fastmail, Nextcloud...).

    \b
    Examples:
      calsync sync caldav my-plan.yaml --url https://caldav.icloud.com/ --calendar Training \\
          --username me@icloud.com --password-file ~/.config/calsync/icloud-password
      calsync sync caldav my-plan.yaml --url http://127.0.0.1:5232/me/ --username me \\
          --password-env RADICALE_PASSWORD --dry-run
    """
    target = CalDAVTarget(
        None,
        url,
        calendar,
        username,
        password_file,
        password_env,
        use_keyring,
        busy_calendars,
        insecure,
    )
    run_target(target, plan_path, options)


@sync.command("intervals")
@plan_argument
@click.option("--athlete", default="0", show_default=True, help="Athlete id; 0 is the key's owner.")
@click.option(
    "--api-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file whose first line is the API key (intervals.icu Settings, Developer Settings).",
)
@click.option(
    "--api-key-env",
    metavar="NAME",
    default=None,
    help="An environment variable holding the API key.",
)
@click.option(
    "--keyring", "use_keyring", is_flag=True, help="Read the API key from the system keyring."
)
@click.option(
    "--ride-type",
    type=click.Choice(["Ride", "VirtualRide"]),
    default="Ride",
    show_default=True,
    help="The intervals.icu type of the plan's rides.",
)
@click.option(
    "--indoor",
    metavar="SESSION",
    multiple=True,
    help="A session of the plan ridden indoors, as a VirtualRide (repeatable).",
)
@sync_options
def sync_intervals(
    plan_path: Path,
    athlete: str,
    api_key_file: Path | None,
    api_key_env: str | None,
    use_keyring: bool,
    ride_type: str,
    indoor: tuple[str, ...],
    **options: Any,
) -> None:
    """Put the plan's sessions into intervals.icu as planned workouts and keep them in step."""
    target = IntervalsTarget(
        None, athlete, api_key_file, api_key_env, use_keyring, ride_type, indoor
    )
    run_target(target, plan_path, options)


# --- auth -------------------------------------------------------------------------


@cli.group()
def auth() -> None:
    """Authorise calsync to write to a calendar service."""


@auth.command("google")
@click.option(
    "--client-secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The OAuth client file from the Google Cloud console (desktop app).",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the URL to open on another machine instead of opening a browser.",
)
@click.option(
    "--token",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save the token (default: the config folder).",
)
@click.option("--busy", is_flag=True, help="Also read free/busy times (for sync --busy).")
@click.option(
    "--other-calendars",
    is_flag=True,
    help="Also write to calendars calsync did not create (--calendar primary, or yours).",
)
def auth_google(
    client_secrets: Path | None,
    no_browser: bool,
    token: Path | None,
    busy: bool,
    other_calendars: bool,
) -> None:
    """Sign in to Google once; the token is saved with mode 0600 and refreshed automatically.

    \b
    Examples:
      calsync auth google --client-secrets ~/Downloads/client_secret.json
      calsync auth google --no-browser --busy     # on a server; read free/busy too
    """
    import webbrowser

    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2 import MismatchingStateError, MissingCodeError, OAuth2Error
    from requests import RequestException

    from calsync.io.places import google_client_secrets, google_token
    from calsync.targets.google import save_token, scopes_for

    secrets = client_secrets or google_client_secrets()
    if not secrets.exists():
        raise BadInput(
            f"no OAuth client file at {secrets}: create a 'Desktop app' OAuth client in the Google Cloud "
            f"console, download its JSON and pass it with --client-secrets (or save it as {secrets})"
        )
    try:
        flow = InstalledAppFlow.from_client_secrets_file(
            str(secrets), scopes=scopes_for(busy, other_calendars)
        )
    except (ValueError, KeyError, OSError) as err:
        raise BadInput(f"{secrets} is not an OAuth client file ({err})") from None
    try:
        credentials = _sign_in_by_hand(flow) if no_browser else _sign_in_with_browser(flow)
    except webbrowser.Error:
        raise Failure(
            "there is no browser to open here: run `calsync auth google --no-browser` and "
            "open the address it prints on any machine"
        ) from None
    except (MismatchingStateError, MissingCodeError):
        raise BadInput(
            "that is not the address Google redirected you to: copy the whole address from "
            "the browser's address bar after allowing access (it starts with http://localhost:1/?state=)"
        ) from None
    except OAuth2Error as err:
        raise Failure(f"Google refused the sign-in: {err.description or err.error}") from None
    except (RequestException, OSError) as err:
        raise Failure(f"cannot reach Google to sign in: {type(err).__name__}") from None
    target = token or google_token()
    save_token(target, credentials.to_json())
    click.echo(f"saved the Google token to {target} (readable by you only)")


def _sign_in_by_hand(flow: Any) -> Any:
    """For a machine without a browser: the URL is opened elsewhere, the answer pasted back."""
    flow.redirect_uri = "http://localhost:1"
    url, _ = flow.authorization_url(prompt="consent", access_type="offline")
    click.echo(f"Open this URL in a browser on any machine and allow access:\n\n  {url}\n")
    answer = click.prompt(
        "Then paste the address the browser was sent to (it starts with http://localhost:1)"
    )
    # The redirect goes to localhost, never over a network, so plain http is fine there.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # Google answers with every scope granted so far (say, --busy on an earlier sign-in).
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow.fetch_token(authorization_response=answer.strip())
    return flow.credentials


def _sign_in_with_browser(flow: Any) -> Any:
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")  # see _sign_in_by_hand
    return flow.run_local_server(port=0, prompt="consent", access_type="offline")


# --- templates --------------------------------------------------------------------


def shipped_templates() -> dict[str, Any]:
    from importlib import resources

    folder = resources.files("calsync") / "templates"
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def _template_summary(text: str) -> str:
    """The first sentence of the comment the template opens with, however many lines."""
    words = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("# ").strip())
    opening = " ".join(w for w in words if w)
    end = opening.find(". ")
    return opening if end < 0 else opening[: end + 1]


@cli.command()
def templates() -> None:
    """List the shipped plan templates.

    \b
    Example:
      calsync templates && calsync init hybrid-hypertrophy my-plan.yaml
    """
    for name, entry in shipped_templates().items():
        click.echo(f"{name:<22} {_template_summary(entry.read_text(encoding='utf-8'))}")


@cli.command()
@click.argument("name")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(name: str, path: Path | None, force: bool) -> None:
    """Copy the shipped template NAME to PATH (default: NAME.yaml) to start from.

    \b
    Examples:
      calsync init hybrid-hypertrophy                  # writes hybrid-hypertrophy.yaml
      calsync init cycling-first ~/training/plan.yaml
    """
    found = shipped_templates()
    if name not in found:
        raise BadInput(f"no template '{name}' (shipped: {', '.join(found)})")
    target = path or Path(f"{name}.yaml")
    if target.is_dir():
        target = target / f"{name}.yaml"
    if target.exists() and not force:
        raise BadInput(f"{target} exists; use --force to overwrite it")
    from importlib import resources

    with resources.as_file(found[name]) as source:
        shutil.copyfile(source, target)
    click.echo(f"wrote {target}; check it with: calsync validate {target}")


def main() -> None:
    cli(prog_name="calsync")


if __name__ == "__main__":
    main()
