"""The peers calsync is measured against, each run as its own process on the same data.

- vdirsyncer: a filesystem storage holding the split export (one .ics a session,
  cut from calsync's own .ics export) synced to the CalDAV server;
- a plain `caldav` library loop (bench/caldav_loop.py): one save a session;
- a one-call-at-a-time Google client (bench/google_one_by_one.py): the real
  google-api-python-client, one request an event, no batch, as `gcalcli import`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
_UID = re.compile(r"^UID:(.*)$", re.MULTILINE)


def split_export(ics: Path, folder: Path) -> int:
    """Cut an .ics export into one VCALENDAR file a VEVENT (its time zones kept), named
    after the UID; a file is rewritten only when its content changed, as an export
    tool that keeps a folder current does. Files of events gone are removed.
    Returns how many files were written."""
    text = ics.read_text(encoding="utf-8").replace("\r\n", "\n")
    head, _, rest = text.partition("BEGIN:VEVENT\n")
    zones = "".join(re.findall(r"BEGIN:VTIMEZONE\n.*?END:VTIMEZONE\n", head, re.DOTALL))
    opening = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//calsync//calsync 1//EN\n" + zones
    folder.mkdir(parents=True, exist_ok=True)
    seen, written = set(), 0
    for block in ("BEGIN:VEVENT\n" + rest).split("BEGIN:VEVENT\n")[1:]:
        event = "BEGIN:VEVENT\n" + block.split("END:VEVENT\n")[0] + "END:VEVENT\n"
        found = _UID.search(event)
        if found is None:
            raise ValueError(f"{ics}: a VEVENT without a UID")
        name = re.sub(r"[^A-Za-z0-9@._-]", "_", found.group(1).strip()) + ".ics"
        seen.add(name)
        content = (opening + event + "END:VCALENDAR\n").replace("\n", "\r\n").encode()
        path = folder / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            written += 1
    for path in folder.glob("*.ics"):
        if path.name not in seen:
            path.unlink()
    return written


class Vdirsyncer:
    """One vdirsyncer pair: the split export folder (a) and a CalDAV calendar (b)."""

    def __init__(self, folder: Path, calendar_url: str, user: str, password: str) -> None:
        self.folder = folder
        self.events = folder / "events"
        self.config = folder / "config"
        self.events.mkdir(parents=True, exist_ok=True)
        self.config.touch(mode=0o600)  # the password lives here, as in a user's config
        self.config.write_text(
            "\n".join(
                [
                    "[general]",
                    f'status_path = "{folder / "status"}"',
                    "",
                    "[pair training]",
                    'a = "training_local"',
                    'b = "training_remote"',
                    "collections = null",  # both storages are the collection itself
                    'conflict_resolution = "a wins"',
                    "",
                    "[storage training_local]",
                    'type = "filesystem"',
                    f'path = "{self.events}"',
                    'fileext = ".ics"',
                    "",
                    "[storage training_remote]",
                    'type = "caldav"',
                    f'url = "{calendar_url}"',
                    f'username = "{user}"',
                    f'password = "{password}"',
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def discover(self) -> None:
        """The one-time set-up vdirsyncer asks for before the first sync (not timed)."""
        self._run("discover")

    def sync(self) -> None:
        self._run("sync")

    def _run(self, command: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "vdirsyncer", "-c", str(self.config), command],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0 or "error:" in done.stderr:
            raise RuntimeError(f"vdirsyncer {command} failed: {done.stderr[-2000:]}")


def caldav_loop(calendar_url: str, folder: Path, user: str, password_variable: str) -> list[str]:
    """The command line of the plain `caldav` loop (the password in the environment)."""
    script = BENCH / "caldav_loop.py"
    return [sys.executable, str(script), calendar_url, str(folder), user, password_variable]


def google_one_by_one(ics: Path, token: Path, calendar: str) -> list[str]:
    """The command line of the one-call-at-a-time Google client (endpoint in the env)."""
    script = BENCH / "google_one_by_one.py"
    return [sys.executable, str(script), str(ics), str(token), calendar]
