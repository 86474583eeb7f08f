"""Reading --busy files: the bytes come from here, the pure reading from calsync/core/busy/."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from calsync.core.busy import BusyTime, parse_busy
from calsync.errors import BusyFileError


def read_busy(path: Path, start: datetime, end: datetime, zone: ZoneInfo) -> BusyTime:
    """Read an .ics file and return its busy intervals and warnings (see `parse_busy`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BusyFileError(str(path), error.strerror or str(error)) from error
    return parse_busy(data, str(path), start, end, zone)
