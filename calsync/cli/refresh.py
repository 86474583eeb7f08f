"""`calsync refresh`: the weekly job that keeps every calendar in step (`calsync cron`,
in cron.py, writes the line that runs it).

A refresh is meant to run unattended: one lock so two runs never overlap (the
second exits 75 at once), a rolling window from today so the past is never
touched and the newest week appears, every target tried even when one fails,
and output that says nothing on success with --quiet, so cron mails only when
something needs the user.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import click

from calsync.cli.config import Config, load_config
from calsync.cli.refresh_report import append_log, log_summary, run_json, run_lines
from calsync.cli.refresh_run import run_targets
from calsync.cli.report import FORMAT
from calsync.errors import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    PlanError,
)
from calsync.io import places
from calsync.io.clock import NOW_FORMATS

CONFIG_NAME = "refresh.toml"


def lock_path() -> Path:
    return places.state_dir() / "refresh.lock"


def default_config() -> Path:
    return places.config_dir() / CONFIG_NAME


def refresh(
    config: Config,
    today: date | None,
    quiet: bool,
    as_json: bool,
    log: Path | None,
    now: datetime | None = None,
) -> int:
    """One locked run over every target; prints the report and returns the exit status."""
    from calsync.io import limits
    from calsync.io.locks import Locked, StuckLock, holding

    lock = lock_path()
    bounds = limits.Limits.from_environ(os.environ)
    try:
        # flock-based: the kernel drops the lock when its process dies, so a run
        # killed with SIGKILL leaves a file behind but never a held lock. Each target
        # also takes its own lock, which `sync` and `ics` take too (see `locks`).
        with holding(lock, "the refresh", bounds.run), limits.run(bounds):
            run = run_targets(config, today, now)
    except Locked:
        message = f"another calsync refresh is running (lock {lock}); this run did nothing"
        return _stop(EXIT_LOCKED, message, as_json, log)
    except StuckLock as err:
        return _stop(EXIT_FAILURE, str(err), as_json, log)
    except PlanError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        first = err.problems[0] if err.problems else "bad plan"
        return _stop(EXIT_USAGE, f"the plan cannot be used: {first}", as_json, log, echo=False)
    status = run.status
    if as_json:
        click.echo(json.dumps(run_json(run), indent=2, ensure_ascii=False))
    elif not (quiet and status == EXIT_OK):
        for line in run_lines(run):
            click.echo(line)
    append_log(log, status, log_summary(run))
    return status


def _stop(status: int, message: str, as_json: bool, log: Path | None, echo: bool = True) -> int:
    """A run that did not get to the targets: one line on stderr (and JSON for scripts)."""
    if echo:
        click.echo(f"calsync: {message}", err=True)
    if as_json:
        doc = {"calsync": FORMAT, "status": status, "error": message, "targets": []}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    append_log(log, status, message)
    return status


# --- the commands -------------------------------------------------------------------

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The refresh config (default: {default_config()}).",
)


@click.command("refresh")
@config_option
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as if it were the start of this day (YYYY-MM-DD): the window begins there and "
    "every target plans from it (to catch up, or to test).",
)
@click.option(
    "--now",
    type=click.DateTime(formats=list(NOW_FORMATS)),
    default=None,
    help="Run as if it were this instant (no offset: the plan's zone); nothing that began "
    "before it is changed. Default: the start of --today, else SOURCE_DATE_EPOCH, else the clock.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when all is well (for cron).")
@click.option("--json", "as_json", is_flag=True, help="The whole run report as JSON.")
@click.option(
    "--log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append one timestamped line per run to this file.",
)
@click.pass_context
def refresh_command(
    ctx: click.Context,
    config_path: Path | None,
    today: datetime | None,
    now: datetime | None,
    quiet: bool,
    as_json: bool,
    log: Path | None,
) -> None:
    """Bring every target in the config up to date for the next weeks.

    The config is a TOML file; paths may use ~ and are relative to it:

    \b
        plan = "plan.yaml"
        weeks = 4                      # how far ahead, 1..52
        [[target]]
        type = "ics"
        path = "~/public_html/training.ics"
        [[target]]
        type = "google"                # calendar, token, service_account, busy
        busy = ["primary"]
        [[target]]
        type = "caldav"                # url, calendar, username, busy, insecure,
        url = "https://caldav.example.com/dav/"
        username = "me@example.com"    # password_file | password_env | keyring
        password_file = "~/.config/calsync/caldav-password"
        [[target]]
        type = "intervals"             # athlete, ride_type, indoor,
        api_key_env = "INTERVALS_KEY"  # api_key_file | api_key_env | keyring

    Exit status: 0 fine, 1 a target failed, 2 bad config or plan, 3 conflicts at
    level error, 75 another refresh is running.

    \b
    Examples:
      calsync refresh                        # ~/.config/calsync/refresh.toml
      calsync refresh --config ~/training/refresh.toml --quiet --log ~/refresh.log
    """
    try:
        config = load_config(config_path or default_config())
    except ConfigError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        ctx.exit(_stop(EXIT_USAGE, f"bad config: {err.problems[0]}", as_json, log, echo=False))
    day = today.date() if today else None
    ctx.exit(refresh(config, day, quiet, as_json, log, now))
