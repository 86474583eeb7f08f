"""The current instant: the one place calsync reads the clock.

Each command reads the instant once, at its start, and passes it down: the default
first day of a range, `not_before` (nothing already begun is changed), DTSTAMP and
the log line all follow the same instant, for every target alike. The pure core
never reads the clock, so the same input gives the same output on any date.

Where the instant comes from, first found wins:

1. `--now` (an ISO timestamp; without an offset it is read in the plan's zone);
2. `refresh --today DAY`: the start of DAY in the plan's zone (the run behaves as if
   it were that morning);
3. `SOURCE_DATE_EPOCH` (reproducible builds: seconds since 1970, UTC);
4. the system clock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo

from calsync.errors import BadInput

# How --now may be written: with or without seconds, with or without an offset.
NOW_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


def system_clock() -> datetime:
    """The machine's clock, in UTC to the second; nothing else in calsync calls it."""
    return datetime.now(UTC).replace(microsecond=0)


def instant(
    now: datetime | None = None,
    zone: tzinfo | None = None,
    environ: Mapping[str, str] | None = None,
) -> datetime:
    """--now (naive: read in `zone`, else local time), else SOURCE_DATE_EPOCH, else the
    system clock; always aware, UTC, whole seconds."""
    if now is not None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=zone) if zone is not None else now.astimezone()
        return now.astimezone(UTC).replace(microsecond=0)
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise BadInput(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a time (expected whole seconds since 1970)"
            ) from None
    return system_clock()


def today_in(moment: datetime, zone: tzinfo) -> date:
    """The date it is at `moment` where the athlete lives."""
    return moment.astimezone(zone).date()
