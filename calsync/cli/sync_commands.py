"""The commands that write a target: ics, and sync google|caldav|intervals."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from calsync import errors
from calsync.cli.options import (
    Day,
    F,
    busy_option,
    echo_conflicts,
    echo_json,
    exit_status,
    fail_on_option,
    first_day,
    now_option,
    plan_argument,
    progress_bar,
    range_options,
    schedule_for,
    terminal_width,
    warn,
)
from calsync.cli.report import (
    FORMAT,
    conflict_lines,
    totals_line,
)
from calsync.core.model import Level, Plan
from calsync.io.clock import instant, today_in
from calsync.io.plans import load_plan
from calsync.sync.request import SyncRequest

if TYPE_CHECKING:
    from calsync.targets.open import SyncTarget


@click.command()
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

    schedule, stamp = schedule_for(plan_path, from_, weeks, now, busy_files, output)
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


@click.group()
def sync() -> None:
    """Keep a calendar in step with a plan (Google Calendar, CalDAV, intervals.icu)."""


def sync_options(command: F) -> F:
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


def run_target(target: SyncTarget, plan_path: Path, options: dict[str, Any]) -> None:
    """What every sync command does: check the target's options, read the plan, sync, report."""
    from calsync.targets.open import check_target, sync_target

    checked = check_target(target)  # before the plan or any secret is read
    plan = load_plan(plan_path)
    request = sync_request(options, plan)
    report = sync_target(checked, plan, request, progress_bar, warn)
    finish_sync(report, options["as_json"], options["fail_on"])


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
    from calsync.targets.open import GoogleTarget

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
    from calsync.targets.open import CalDAVTarget

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
    from calsync.targets.open import IntervalsTarget

    target = IntervalsTarget(
        None, athlete, api_key_file, api_key_env, use_keyring, ride_type, indoor
    )
    run_target(target, plan_path, options)
