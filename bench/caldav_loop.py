"""A plain `caldav` library loop, the simplest CalDAV client: one save a session.

    CALDAV_PASSWORD=... python bench/caldav_loop.py CALENDAR_URL FOLDER USER CALDAV_PASSWORD

Saves every .ics file of FOLDER (the split export) into the calendar, one
request after the other, as a script written against the library would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from caldav.davclient import DAVClient


def main() -> None:
    url, folder, user, variable = sys.argv[1:5]
    with DAVClient(url=url, username=user, password=os.environ[variable]) as client:
        calendar = client.calendar(url=url)  # type: ignore[no-untyped-call]  # unannotated upstream
        for path in sorted(Path(folder).glob("*.ics")):
            calendar.save_event(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
