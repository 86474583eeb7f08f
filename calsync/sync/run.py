"""One sync of a plan to an opened backend: busy time, expansion, the engine.

The same for every target and every caller (`calsync sync ...`, `calsync refresh`):
the shell opens the backend (`calsync.targets.open`) and hands it here.
"""

from __future__ import annotations

from collections.abc import Sequence

from calsync.core.expand import expand
from calsync.core.model import Plan
from calsync.sync.backend import Backend
from calsync.sync.engine import ProgressFor, Silent, SyncReport, run_sync
from calsync.sync.request import SyncRequest


def quiet(writes: int) -> Silent:
    """No progress display (cron, tests, a handful of writes)."""
    return Silent()


def sync_plan(
    backend: Backend,
    plan: Plan,
    request: SyncRequest,
    busy_calendars: Sequence[str] = (),
    progress: ProgressFor = quiet,
) -> SyncReport:
    """The plan over the request's range, placed around the busy time of `busy_calendars`
    (read from the backend), synced to it."""
    span = request.span
    start, end = plan.midnight(span.start), plan.midnight(span.end)
    busy = backend.busy(busy_calendars, start, end, plan.id) if busy_calendars else ()
    schedule = expand(plan, span.start, span.end, busy)
    return run_sync(
        schedule,
        backend,
        backend.label,
        request.not_before,
        request.policy(),
        request.dry_run,
        progress,
    )
