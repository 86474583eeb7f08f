"""One refresh run: every target of the config planned from one instant, each ending in
a `TargetRun` (what it wrote, or why it failed) so one target's failure stops no other."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from calsync.cli.config import Config, IcsTarget, Target
from calsync.core.model import Conflict, Level, Plan, Schedule
from calsync.errors import (
    exit_status,
)
from calsync.sync.request import SyncRequest
from calsync.targets.open import CalDAVTarget, GoogleTarget, IntervalsTarget


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
    warnings: tuple[str, ...] = ()  # what the target said along the way (also on stderr)


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


def run_targets(config: Config, today: date | None, now: datetime | None) -> Run:
    """Load the plan, plan the window [today, today + weeks) and run each target in turn.

    The run's instant (see `calsync.io.clock`) is --now, else the start of --today, else
    SOURCE_DATE_EPOCH or the clock; every target plans, stamps and leaves the past
    alone from that one instant."""
    from calsync.core.weekly import arranged
    from calsync.io.clock import instant, today_in
    from calsync.io.plans import load_plan

    plan = load_plan(config.plan)
    if now is None and today is not None:
        moment = instant(plan.midnight(today))
    else:
        moment = instant(now, plan.zone)
    today = today or today_in(moment, plan.zone)
    end = today + timedelta(weeks=config.weeks)
    # Expansion counts weeks and cycles from the plan's `starts`, whatever the window,
    # so a late or skipped run still puts the deload week where it belongs.
    schedule = arranged(plan, today, end, not_before=moment)  # `expand` unless fit: every-week
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
            from calsync.cli.weekly import for_ics

            return ics_run(target, name, for_ics(plan, schedule, target.path, now), now)
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
    from calsync.cli.options import progress_bar, warn
    from calsync.cli.sync_report import sync_counts, sync_json, sync_line
    from calsync.targets.open import check_target, sync_target

    report = sync_target(check_target(target, from_config=True), plan, request, progress_bar, warn)
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
        report.warnings,
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
