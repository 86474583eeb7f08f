"""`calsync refresh` and `calsync cron`: the weekly job that keeps every calendar in step.

A refresh is meant to run unattended: one lock so two runs never overlap (the
second exits 75 at once), a rolling window from today so the past is never
touched and the newest week appears, every target tried even when one fails,
and output that says nothing on success with --quiet, so cron mails only when
something needs the user.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from calsync.cli.config import (
    CalDAVTarget,
    Config,
    GoogleTarget,
    IcsTarget,
    IntervalsTarget,
    Target,
    load_config,
)
from calsync.cli.report import FORMAT
from calsync.core.model import Conflict, Level, Plan, Schedule
from calsync.errors import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    PlanError,
    exit_status,
)
from calsync.io import places
from calsync.io.clock import NOW_FORMATS
from calsync.sync.request import SyncRequest

CONFIG_NAME = "refresh.toml"


def lock_path() -> Path:
    return places.state_dir() / "refresh.lock"


def default_config() -> Path:
    return places.config_dir() / CONFIG_NAME


# --- one run ------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRun:
    """What happened to one target: for the summary line, the JSON and the log."""

    name: str
    kind: str
    ok: bool
    line: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    failures: tuple[dict[str, Any], ...] = ()
    conflicts: tuple[Conflict, ...] = ()  # the target's own (edits, busy time), not the plan's


@dataclass(frozen=True)
class Run:
    plan: Path
    start: date
    end: date  # exclusive
    targets: tuple[TargetRun, ...]
    conflicts: tuple[Conflict, ...]  # the plan's own conflicts in the window, once

    @property
    def status(self) -> int:
        every = self.conflicts + tuple(c for t in self.targets for c in t.conflicts)
        levels = (c.level.rank for c in every)
        return exit_status(levels, Level.ERROR.rank, failed=not all(t.ok for t in self.targets))


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


def run_targets(config: Config, today: date | None, now: datetime | None) -> Run:
    """Load the plan, plan the window [today, today + weeks) and run each target in turn.

    The run's instant (see `calsync.io.clock`) is --now, else the start of --today, else
    SOURCE_DATE_EPOCH or the clock; every target plans, stamps and leaves the past
    alone from that one instant."""
    from calsync.core.expand import expand
    from calsync.core.loader import load_plan
    from calsync.io.clock import instant, today_in

    plan = load_plan(config.plan)
    if now is None and today is not None:
        moment = instant(plan.midnight(today))
    else:
        moment = instant(now, plan.zone)
    today = today or today_in(moment, plan.zone)
    end = today + timedelta(weeks=config.weeks)
    # Expansion counts weeks and cycles from the plan's `starts`, whatever the window,
    # so a late or skipped run still puts the deload week where it belongs.
    schedule = expand(plan, today, end)
    results = tuple(
        run_target(t, plan, schedule, today, moment, config.weeks) for t in config.targets
    )
    return Run(config.plan, today, end, results, schedule.conflicts)


def run_target(
    target: Target,
    plan: Plan,
    schedule: Schedule,
    today: date,
    now: datetime,
    weeks: int,
) -> TargetRun:
    """One target; whatever goes wrong becomes a failed TargetRun so the others still run."""
    from calsync.errors import BadInput, Failure

    name = target_label(target, plan)
    kind = target_kind(target)
    try:
        if isinstance(target, IcsTarget):
            return ics_run(target, name, schedule, now)
        request = SyncRequest.window(plan, today, weeks, now)
        return sync_run(target, name, plan, schedule, request)
    except (Failure, BadInput) as err:
        message = str(err)
    except OSError as err:
        message = f"{err.strerror or err}: {err.filename}" if err.filename else str(err)
    except Exception as err:  # noqa: BLE001 - the last resort: one target must not stop the rest
        message = f"{type(err).__name__}: {err}"
    message = " ".join(message.split())  # one line, for the summary and the log
    return TargetRun(name, kind, False, f"{name}: FAILED: {message}", error=message)


def ics_run(target: IcsTarget, name: str, schedule: Schedule, now: datetime) -> TargetRun:
    from calsync.targets.ics import export

    done = export(schedule, target.path, now)
    counts = {"created": done.created, "updated": done.updated, "unchanged": done.unchanged}
    line = f"{name}: {done.created} created, {done.updated} updated, {done.unchanged} unchanged"
    return TargetRun(name, "ics", True, line, counts)


def sync_run(
    target: GoogleTarget | CalDAVTarget | IntervalsTarget,
    name: str,
    plan: Plan,
    schedule: Schedule,
    request: SyncRequest,
) -> TargetRun:
    from calsync.cli.main import progress_bar, warn
    from calsync.cli.sync_report import sync_counts, sync_json, sync_line
    from calsync.targets.open import check_target, sync_target

    report = sync_target(check_target(target), plan, request, progress_bar, warn)
    report = replace(report, target=name)
    failures = tuple(sync_json(report)["failures"])
    error = None
    if report.failures:
        count = len(report.failures)
        error = f"{count} write{'s' * (count != 1)} failed: {report.failures[0].error}"
    plan_conflicts = {_conflict_key(c) for c in schedule.conflicts}
    own = tuple(c for c in report.conflicts if _conflict_key(c) not in plan_conflicts)
    return TargetRun(
        name,
        target_kind(target),
        not failures,
        sync_line(report),
        sync_counts(report),
        error,
        failures,
        own,
    )


def target_kind(target: Target) -> str:
    kinds = {IcsTarget: "ics", GoogleTarget: "google", CalDAVTarget: "caldav"}
    return {**kinds, IntervalsTarget: "intervals"}[type(target)]


def target_label(target: Target, plan: Plan) -> str:
    """The name a target goes by in the summary: its `name`, else what it writes to."""
    if target.name:
        return target.name
    if isinstance(target, IcsTarget):
        return f"ics {_tilde(target.path)}"
    if isinstance(target, IntervalsTarget):
        return "intervals.icu" + ("" if target.athlete == "0" else f" athlete {target.athlete}")
    return f"{target_kind(target)}:{target.calendar or plan.title}"


def _tilde(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def _conflict_key(c: Conflict) -> tuple[Any, ...]:
    return (c.rule, c.level, c.date, c.message, c.keys)


# --- reporting ----------------------------------------------------------------------


def run_lines(run: Run) -> list[str]:
    """One line per target, each write that failed, then every conflict once."""
    from calsync.cli.report import conflict_lines

    lines: list[str] = []
    for target in run.targets:
        lines.append(target.line)
        lines += [
            f"  failed  {f['action']} {f['key']}: {' '.join(str(f['error']).split())}"
            for f in target.failures
        ]
    lines += conflict_lines(run.conflicts)
    for target in run.targets:
        if target.conflicts:
            lines.append(f"{target.name}:")
            lines += conflict_lines(target.conflicts)
    return lines


def run_json(run: Run) -> dict[str, Any]:
    from calsync.cli.report import conflict_json

    return {
        "calsync": FORMAT,
        "status": run.status,
        "plan": str(run.plan),
        "from": run.start.isoformat(),
        "to": (run.end - timedelta(days=1)).isoformat(),
        "targets": [
            {
                "name": t.name,
                "type": t.kind,
                "status": "ok" if t.ok else "failed",
                "counts": t.counts,
                "error": t.error,
                "failures": list(t.failures),
            }
            for t in run.targets
        ],
        "conflicts": [{**conflict_json(c), "target": None} for c in run.conflicts]
        + [{**conflict_json(c), "target": t.name} for t in run.targets for c in t.conflicts],
    }


def log_summary(run: Run) -> str:
    conflicts = len(run.conflicts) + sum(len(t.conflicts) for t in run.targets)
    window = f"{run.start.isoformat()}..{(run.end - timedelta(days=1)).isoformat()}"
    parts = [f"window {window}", *(t.line for t in run.targets)]
    return "; ".join([*parts, f"{conflicts} conflict{'s' * (conflicts != 1)}"])


def append_log(log: Path | None, status: int, summary: str) -> None:
    """One timestamped line per run; a log that cannot be written is said on stderr."""
    if log is None:
        return
    from calsync.io.clock import system_clock

    # When the run happened, in the machine's zone: a log is about real time, not --now.
    stamp = system_clock().astimezone().isoformat(timespec="seconds")
    line = f"{stamp} exit {status}: {' '.join(summary.split())}\n"
    try:
        log = log.expanduser()
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(line)
    except OSError as err:
        click.echo(f"calsync: cannot write the log {log}: {err.strerror or err}", err=True)


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


# --- cron and systemd ---------------------------------------------------------------

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
FULL_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
EVERY_DAY = ("DAILY", "*")
SERVICE = "calsync-refresh"


@dataclass(frozen=True)
class When:
    days: tuple[int, ...]  # 0 = Monday; empty = every day
    hour: int
    minute: int

    def crontab(self) -> str:
        # cron counts Sunday as 0, Python as 6.
        days = ",".join(str((d + 1) % 7) for d in self.days) or "*"
        return f"{self.minute} {self.hour} * * {days}"

    def on_calendar(self) -> str:
        names = ",".join(DAYS[d].title() for d in self.days)
        clock = f"*-*-* {self.hour:02d}:{self.minute:02d}:00"
        return f"{names} {clock}" if names else clock

    def describe(self) -> str:
        days = ", ".join(DAYS[d].title() for d in self.days) or "every day"
        return f"{days} at {self.hour:02d}:{self.minute:02d}"


def parse_at(text: str) -> When:
    """'MON 05:00', 'mon,thu 5:30', 'daily 05:00' or '* 05:00'."""
    found = re.fullmatch(r"\s*(\S+)\s+(\d{1,2}):(\d{2})\s*", text)
    if not found:
        raise ValueError(f"expected a day and a time like 'MON 05:00', got '{text}'")
    day_text, hour, minute = found.group(1).upper(), int(found.group(2)), int(found.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(f"no such time of day: {found.group(2)}:{found.group(3)}")
    if day_text in EVERY_DAY:
        return When((), hour, minute)
    days = []
    for name in day_text.split(","):
        if name in DAYS:
            days.append(DAYS.index(name))
        elif name in FULL_DAYS:
            days.append(FULL_DAYS.index(name))
        else:
            raise ValueError(f"unknown day '{name}' (expected MON..SUN, 'daily' or '*')")
    return When(tuple(sorted(set(days))), hour, minute)


def _at_option(ctx: click.Context, param: click.Parameter, value: str) -> When:
    try:
        return parse_at(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def calsync_executable() -> str:
    """The absolute path of the calsync being run (or the one on PATH), as cron needs."""
    running = Path(sys.argv[0])
    # abspath, not resolve(): a symlink such as ~/.local/bin/calsync (pipx) should
    # survive the tool being reinstalled into a new folder.
    if running.name in ("calsync", "calsync.exe") and running.exists():
        return os.path.abspath(running)
    found = shutil.which("calsync")
    if found:
        return os.path.abspath(found)
    raise click.ClickException(
        "cannot find the calsync program: install it (pip install calsync) so it is on PATH"
    )


def refresh_arguments(config: Path, quiet: bool, log: Path | None) -> list[str]:
    arguments = [calsync_executable(), "refresh"]
    if quiet:
        arguments.append("--quiet")
    arguments += ["--config", str(config)]
    if log is not None:
        arguments += ["--log", str(log)]
    return arguments


def crontab_text(when: When, config: Path, log: Path | None) -> str:
    # cron runs the line with /bin/sh, where % means a newline unless escaped.
    command = shlex.join(refresh_arguments(config, True, log)).replace("%", r"\%")
    return (
        f"# calsync: refresh the training calendars, {when.describe()}.\n"
        "# Add it with `crontab -e`, or: (crontab -l; calsync cron) | crontab -\n"
        "# cron mails any output; with --quiet there is output only when something needs you.\n"
        f"{when.crontab()} {command}\n"
    )


def systemd_text(when: When, config: Path, log: Path | None) -> str:
    # systemd reads % as a specifier; %% is a literal percent sign.
    command = shlex.join(refresh_arguments(config, False, log)).replace("%", "%%")
    folder = "~/.config/systemd/user"
    return (
        f"# {folder}/{SERVICE}.service\n"
        "[Unit]\n"
        "Description=Refresh the training calendars (calsync)\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={command}\n"
        "# 75: another refresh was already running; not a failure\n"
        "SuccessExitStatus=75\n"
        "\n"
        f"# {folder}/{SERVICE}.timer\n"
        "[Unit]\n"
        f"Description=Refresh the training calendars, {when.describe()}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={when.on_calendar()}\n"
        "# a run missed while the machine was off happens at the next boot\n"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
        "\n"
        f"# Then: systemctl --user daemon-reload && systemctl --user enable --now {SERVICE}.timer\n"
        '# To run while you are logged out: loginctl enable-linger "$USER"\n'
        f"# What happened: journalctl --user -u {SERVICE}\n"
    )


@click.command("cron")
@config_option
@click.option(
    "--at",
    "when",
    default="MON 05:00",
    show_default=True,
    callback=_at_option,
    help="When to run: a day (MON..SUN, several with commas, or 'daily') and a time.",
)
@click.option("--systemd", is_flag=True, help="Print a systemd service and timer instead.")
@click.option(
    "--log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Have each run append a line to this file.",
)
@click.pass_context
def cron_command(
    ctx: click.Context, config_path: Path | None, when: When, systemd: bool, log: Path | None
) -> None:
    """Print a crontab line (or systemd units) that runs `calsync refresh` on a schedule.

    \b
    Examples:
      (crontab -l 2>/dev/null; calsync cron --at "MON 05:00") | crontab -
      calsync cron --systemd --log ~/.local/state/calsync/refresh.log
    """
    config = Path(config_path or default_config()).expanduser().absolute()
    if config.exists():
        try:
            load_config(config)  # a bad config is better found now than at 05:00
        except ConfigError as err:
            for problem in err.problems:
                click.echo(str(problem), err=True)
            ctx.exit(EXIT_USAGE)
    else:
        click.echo(
            f"calsync: note: no config at {config} yet; write it before the first run", err=True
        )
    absolute_log = log.expanduser().absolute() if log else None
    text = systemd_text if systemd else crontab_text
    click.echo(text(when, config, absolute_log), nl=False)
