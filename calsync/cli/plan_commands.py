"""The commands that read a plan and print: validate, show, check, plan; and the
shipped templates (templates, init)."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from calsync.cli.options import (
    busy_option,
    echo_conflicts,
    echo_json,
    echo_load_table,
    exit_status,
    fail_on_option,
    make_range,
    plan_argument,
    range_options,
    schedule_for,
    schedule_with_busy,
    terminal_width,
)
from calsync.cli.report import (
    plural,
    schedule_json,
    totals_line,
    week_grid,
)
from calsync.errors import BadInput
from calsync.io.clock import instant
from calsync.io.plans import load_plan
from calsync.sync.request import Range

# --- commands ---------------------------------------------------------------------


@click.command()
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


@click.command()
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


@click.command()
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


@click.command("plan")
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


@click.command()
def templates() -> None:
    """List the shipped plan templates.

    \b
    Example:
      calsync templates && calsync init hybrid-hypertrophy my-plan.yaml
    """
    for name, entry in shipped_templates().items():
        click.echo(f"{name:<22} {_template_summary(entry.read_text(encoding='utf-8'))}")


@click.command()
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
