"""`calsync fit`: from the plan's `fit:` wants to the best week the rules allow.

The command is the shell: it reads the plan and busy time, asks the pure solver
(`calsync.core.fit`) for the best week, has the rule catalogue judge it, prints the
week and its trade-offs, and with --write puts it into the plan file.
"""

from __future__ import annotations

import difflib
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from calsync.cli.options import (
    busy_option,
    echo_json,
    make_range,
    now_option,
    plan_argument,
    read_busy_files,
)
from calsync.cli.report import schedule_json, totals_line, week_grid
from calsync.core.expand import monday
from calsync.core.model import Level, Plan
from calsync.core.problems import decode_text
from calsync.errors import BadInput, Failure, exit_status
from calsync.io.atomic import write_atomic
from calsync.io.clock import instant
from calsync.io.plans import load_plan
from calsync.sync.request import Range

if TYPE_CHECKING:
    from calsync.core.fit.solve import Week


@click.command("fit")
@plan_argument
@click.option(
    "--from",
    "from_",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="A day of the week to fit against (busy time, cycle phase); default: this week.",
)
@busy_option
@now_option
@click.option("--json", "as_json", is_flag=True, help="A JSON document instead of text.")
@click.option("--write", is_flag=True, help="Put the week into the plan file as its week: block.")
@click.option(
    "--no-trade-offs", "quick", is_flag=True, help="Only the best week, without trade-offs."
)
def fit_command(
    plan_path: Path,
    from_: datetime | None,
    busy_files: tuple[Path, ...],
    now: datetime | None,
    as_json: bool,
    write: bool,
    quick: bool,
) -> None:
    """Find the best week for the plan's fit: wants, with what each rule costs."""
    from calsync.core.fit import Problem, best_week, check_against_catalogue, diagnose, explain
    from calsync.core.fit.report import (
        diagnosis_json,
        diagnosis_lines,
        explanation_lines,
        fit_json,
        summary_lines,
    )
    from calsync.core.fit.tradeoffs import Explanation

    plan = load_plan(plan_path)
    if plan.fit is None:
        raise BadInput(f"{plan_path}: no fit: block (see 'Fitting a week' in the README)")
    first = monday(make_range(from_, 1, instant(now, plan.zone), plan).start)
    if first < plan.starts:
        raise BadInput(
            f"the week of {first} is before the plan starts ({plan.starts}): "
            "fit a week from then on (--from)"
        )
    span = Range(first, 1)
    busy, _ = read_busy_files(busy_files, plan, span)  # what was assumed: on stderr already
    current = plan.week if any(plan.week) else None
    problem = Problem(plan, plan.fit, first, busy, wrap=True, current=current)
    week = best_week(problem)
    if week is None:
        diagnosis = diagnose(problem)
        schedule = check_against_catalogue(diagnosis.closest)
        if as_json:
            echo_json({**schedule_json(schedule, sessions=True), "fit": diagnosis_json(diagnosis)})
        else:
            click.echo("The closest week:")
            for line in week_grid(schedule):
                click.echo(line)
            for line in diagnosis_lines(diagnosis):
                click.echo(line)
            if write:
                click.echo(f"Nothing written to {plan_path}.")
        # No week keeps every rule: that is a conflict at level error.
        sys.exit(exit_status([Level.ERROR.rank], Level.ERROR.rank))
    schedule = check_against_catalogue(week)
    explanation = Explanation((), ()) if quick else explain(problem, week)
    if as_json:
        echo_json({**schedule_json(schedule, sessions=True), "fit": fit_json(week, explanation)})
    else:
        for line in week_grid(schedule):
            click.echo(line)
        click.echo(totals_line(schedule))
        click.echo("")
        for line in summary_lines(week) + explanation_lines(explanation):
            click.echo(line)
    if write:
        _write(plan_path, plan, week, err=as_json)


def _write(plan_path: Path, plan: Plan, week: Week, err: bool) -> None:
    from calsync.core.fit.write import CannotWrite, check_written, with_week

    try:
        data = plan_path.read_bytes()
    except OSError as error:
        raise Failure(f"cannot read {plan_path}: {error.strerror}") from None
    text = decode_text(data, str(plan_path))
    try:
        new = with_week(text, week.entries, plan.sessions, str(plan_path))
        check_written(plan, new, week.entries, str(plan_path))
    except CannotWrite as error:
        raise BadInput(f"{plan_path}: cannot write the week back faithfully: {error}") from None
    if new == text:
        click.echo(f"{plan_path}: the week is already this one; nothing to write.", err=err)
        return
    diff = difflib.unified_diff(
        text.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{plan_path} (before)",
        tofile=f"{plan_path} (fitted)",
    )
    click.echo("", err=err)
    for line in diff:
        click.echo(line.rstrip("\r\n"), err=err)
    write_atomic(plan_path.resolve(), new.encode("utf-8"), plan_path.stat().st_mode & 0o7777)
    click.echo(f"wrote the week into {plan_path}", err=err)
