"""The command line: the imperative shell around the pure core.

Exit statuses: 0 fine, 1 a failure outside the user's input, 2 bad input or
usage, 3 conflicts at level error (or warn with --fail-on warn), 75 another
run holds the lock.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from calsync.cli.plan_commands import check, init, plan_command, show, templates, validate
from calsync.cli.sync_commands import ics, sync
from calsync.errors import EXIT_FAILURE, EXIT_USAGE, BadInput, Failure, InputProblems


class CalsyncGroup(click.Group):
    """Turns the project's own errors into one clear message and an exit status.

    Commands that live in other modules are imported only when they are run (or
    listed in --help), so every other command starts without them.
    """

    LAZY = {
        "auth": "calsync.cli.auth:auth",
        "refresh": "calsync.cli.refresh:refresh_command",
        "cron": "calsync.cli.cron:cron_command",
        "fit": "calsync.cli.fit:fit_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            module, attribute = self.LAZY[name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
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


def main() -> None:
    cli(prog_name="calsync")


cli.add_command(validate)
cli.add_command(show)
cli.add_command(check)
cli.add_command(plan_command)
cli.add_command(ics)
cli.add_command(sync)
cli.add_command(templates)
cli.add_command(init)


if __name__ == "__main__":
    main()
