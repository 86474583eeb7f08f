"""`calsync cron`: the crontab line (or systemd service and timer) that runs refresh."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from calsync.cli.config import load_config
from calsync.cli.refresh import config_option, default_config
from calsync.errors import (
    EXIT_USAGE,
    ConfigError,
)

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
