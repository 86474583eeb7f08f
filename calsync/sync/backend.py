"""The one contract between the engine and a sync target (Google, CalDAV, intervals.icu).

The shell opens a backend (`calsync.targets.open`) and hands it to the engine
(`calsync.sync.run.sync_plan`); the engine asks it only what is declared here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from calsync.core.model import Busy
from calsync.sync.engine import Change, Progress, Remote, Result

Warn = Callable[[str], None]  # says one thing the user should know; never stops the run


def warn_on_stderr(message: str) -> None:
    """The warning as the command line shows it when it is not on a terminal (no colour)."""
    print(f"calsync: WARNING: {message}", file=sys.stderr, flush=True)


class Backend(Protocol):
    """What the engine uses of a sync target; everything else is the engine's."""

    label: str  # the target in reports: google:Training, caldav:Training, intervals:i42
    fresh: bool  # the calendar was made by this run (or is missing in a dry run): holds nothing

    def busy(
        self, calendars: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """Busy time in [start, end) of the named calendars on the same service. The
        target calendar itself counts with its other events only (`counts_as_busy`)."""
        ...

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        """The plan's events the target holds in [start, end), as the engine reads them."""
        ...

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        """Make the changes; one result each, in order; `progress` counts what is done."""
        ...


def counts_as_busy(*, ours: bool, transparent: bool, cancelled: bool) -> bool:
    """The one rule for which events of the target calendar are busy time.

    Not this plan's sessions (each would otherwise be busy time for itself on the
    next run), not an event marked free (transparent), not a cancelled one; every
    other event of the calendar's owner is."""
    return not (ours or transparent or cancelled)
