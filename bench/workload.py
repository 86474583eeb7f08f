"""The work every side does: the hybrid template over the same weeks, and one change to it.

calsync's own commands run as subprocesses, exactly as a user types them; the
peers get calsync's .ics export of the same sessions (split into one file a
session where the peer wants a folder).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.servers import environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "hybrid-hypertrophy.yaml"
START = "2026-11-30"  # the template's first Monday
NOW = "2026-11-26"  # every run takes this as now, so all see the same window
# The one change: Tuesday's zone-2 ride of the first week moves by half an hour.
CHANGE = ("exceptions:\n", "exceptions:\n  2026-12-01: [core 10:00, z2 20:30]\n")


def calsync_exe() -> str:
    found = shutil.which("calsync")
    if not found:
        sys.exit("calsync is not installed: pip install -e .")
    return found


@dataclass(frozen=True)
class Workload:
    weeks: int
    latency: float  # seconds the proxy adds to each request
    reps: int

    def plan(self, folder: Path, changed: bool = False) -> Path:
        """A copy of the template in `folder` (with the one change, if asked)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "plan.yaml"
        text = TEMPLATE.read_text(encoding="utf-8")
        if changed:
            assert CHANGE[0] in text, "the template lost its exceptions block"
            text = text.replace(*CHANGE)
        path.write_text(text, encoding="utf-8")
        return path

    def window(self) -> list[str]:
        return ["--from", START, "--weeks", str(self.weeks), "--now", NOW]

    def export(self, plan: Path, out: Path) -> Path:
        """calsync's .ics export of `plan` (over `out`'s previous version, if any): the
        peers' input, untimed, so made in this process (no start-up to pay)."""
        from click.testing import CliRunner

        from calsync.cli.main import cli

        result = CliRunner().invoke(cli, ["ics", str(plan), *self.window(), "-o", str(out)])
        if result.exit_code not in ok_codes():
            raise RuntimeError(f"calsync ics {plan}: exit {result.exit_code}: {result.output}")
        return out

    def sync_caldav(self, plan: Path, url: str, calendar: str, user: str) -> list[str]:
        """`calsync sync caldav` (the password in CALSYNC_BENCH_PASSWORD)."""
        return [calsync_exe(), "sync", "caldav", str(plan), "--url", url, "--calendar", calendar,
                "--username", user, "--password-env", "CALSYNC_BENCH_PASSWORD",
                *self.window()]  # fmt: skip

    def sync_google(self, plan: Path, token: Path) -> list[str]:
        """`calsync sync google` (the endpoint in CALSYNC_GOOGLE_ENDPOINT)."""
        return [calsync_exe(), "sync", "google", str(plan), "--token", str(token),
                *self.window()]  # fmt: skip


def state_env(folder: Path, **extra: str) -> dict[str, str]:
    """A client's environment with its own state and config folders under `folder`."""
    return environment(
        CALSYNC_STATE_DIR=str(folder / "state" / "calsync"),
        XDG_STATE_HOME=str(folder / "state"),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_CACHE_HOME=str(folder / "cache"),
        **extra,
    )


def ok_codes() -> tuple[int, ...]:
    """calsync exits 3 when the plan has conflicts at level error; the sync is done."""
    return (0, 3)
