"""What one sync is asked to do, whoever asks (a sync command, a refresh target).

The command line gathers these from its options (`calsync.cli.main.sync_request`),
refresh from its config and its one instant; the engine and the targets read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from calsync.core.model import Plan
from calsync.io.clock import today_in

if TYPE_CHECKING:
    from calsync.sync.engine import Policy


@dataclass(frozen=True)
class Range:
    """Whole days from `start`, `weeks` weeks long (the end is exclusive)."""

    start: date
    weeks: int

    @property
    def end(self) -> date:
        return self.start + timedelta(weeks=self.weeks)


@dataclass(frozen=True)
class SyncRequest:
    """The options every sync target shares, gathered once."""

    span: Range
    now: datetime  # the command's instant: DTSTAMP of what is written
    not_before: datetime  # nothing that starts earlier is changed
    overwrite_edits: bool
    restore_deleted: bool
    annotate: bool
    dry_run: bool

    @classmethod
    def window(
        cls, plan: Plan, day: date | None, weeks: int, now: datetime, **policy: bool
    ) -> SyncRequest:
        """From `day` (default: the day `now` falls on) for `weeks`; nothing that began
        before `now` is ever changed."""
        day = day or today_in(now, plan.zone)
        defaults = {
            "overwrite_edits": False,
            "restore_deleted": False,
            "annotate": True,
            "dry_run": False,
        }
        not_before = max(now.astimezone(plan.zone), plan.midnight(day))
        return cls(Range(day, weeks), now, not_before, **{**defaults, **policy})

    def policy(self) -> Policy:
        from calsync.sync.engine import Policy  # the engine is not needed to ask for a range

        return Policy(self.overwrite_edits, self.restore_deleted, self.annotate)
