"""Google reruns, timed and counted: what `calsync sync google` costs once a calendar is in
step, beside the floor (one bare `events.list?syncToken=` call by the same client library).

    costs = google_reruns(endpoint, token_file, folder, meter)
    floor = sync_token_floor(endpoint, token_file, synced_calendar(folder), meter)

`endpoint` is any Calendar v3 root calsync can be pointed at (the fake Google of the
tests, or a latency proxy in front of it); `meter()` returns the traffic so far as
(requests, bytes up, bytes down), counted by whoever serves `endpoint`, so calsync
and the floor are measured by the same meter. Nothing here imports from tests/.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Meter = Callable[[], tuple[int, int, int]]
ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "hybrid-hypertrophy.yaml"
START = "2026-11-30"  # the template's first Monday
# One session (the first Wednesday's intervals) moved back and forth by an exception:
# each one-change rerun changes exactly one event.
MOVES = ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")


@dataclass(frozen=True)
class Cost:
    """One measured run: wall time, what crossed the meter, and calsync's summary line."""

    seconds: float
    requests: int
    up: int  # bytes
    down: int  # bytes
    summary: str

    def cell(self) -> str:
        return f"{self.seconds:.2f} s, {self.requests} requests, {self.down / 1000:.1f} kB down"


def median(costs: list[Cost]) -> Cost:
    """The run of median time (its counts with it)."""
    ordered = sorted(costs, key=lambda c: c.seconds)
    middle = ordered[len(ordered) // 2]
    return Cost(
        statistics.median(c.seconds for c in costs),
        middle.requests,
        middle.up,
        middle.down,
        middle.summary,
    )


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    import os

    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def google_reruns(
    endpoint: str,
    token: Path,
    folder: Path,
    meter: Meter,
    weeks: int = 52,
    reps: int = 3,
    calendar: str = "Training",
) -> dict[str, Cost]:
    """Sync the template's first `weeks` into `calendar`, then time the reruns.

    Returns, by case: "first sync" (makes the calendar), "settling run" (the run after
    it: looks the calendar up by name once more and lists it in full, keeping the sync
    token), "no-op rerun" and "one-change rerun" (medians of `reps`). calsync runs in
    this process, as `calsync sync google` does, with its own state folder in `folder`.
    """
    from click.testing import CliRunner

    from calsync.cli.main import cli

    plan = folder / "plan.yaml"
    shutil.copyfile(TEMPLATE, plan)
    args = ["sync", "google", str(plan), "--token", str(token), "--calendar", calendar]
    args += ["--from", START, "--weeks", str(weeks), "--now", f"{START}T00:00:00"]
    env = {"CALSYNC_GOOGLE_ENDPOINT": endpoint, "CALSYNC_STATE_DIR": str(folder / "state")}

    def run(case: str) -> Cost:
        before = meter()
        began = time.perf_counter()
        with _environment(env):
            result = CliRunner().invoke(cli, args)
        took = time.perf_counter() - began
        after = meter()
        if result.exit_code not in (0, 3):  # 3: the template's own conflicts at level error
            raise RuntimeError(f"{case}: exit {result.exit_code}: {result.output}")
        requests, up, down = (a - b for a, b in zip(after, before, strict=True))
        return Cost(took, requests, up, down, result.stdout.splitlines()[0])

    costs = {"first sync": run("first sync"), "settling run": run("settling run")}
    costs["no-op rerun"] = median([run("no-op rerun") for _ in range(reps)])
    changes = []
    for rep in range(reps):
        old, new = MOVES if rep % 2 == 0 else MOVES[::-1]
        plan.write_text(plan.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        changes.append(run("one-change rerun"))
    costs["one-change rerun"] = median(changes)
    return costs


def synced_calendar(folder: Path) -> str:
    """The id of the calendar `google_reruns(..., folder, ...)` synced (from its state file)."""
    import json

    (state,) = (folder / "state" / "google").glob("*.json")
    return str(json.loads(state.read_text(encoding="utf-8"))["calendar"])


def sync_token_floor(
    endpoint: str, token: Path, calendar_id: str, meter: Meter, reps: int = 3
) -> Cost:
    """The least any client can do to learn nothing changed: with a token from a full
    listing, one `events.list?syncToken=` by googleapiclient itself (median of `reps`)."""
    import google_auth_httplib2
    import httplib2
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    credentials: Any = Credentials.from_authorized_user_file(str(token))  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=60))
    service = build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
    )
    events = service.events()
    page: dict[str, Any] = {}
    while "nextSyncToken" not in page:
        page = events.list(
            calendarId=calendar_id, maxResults=2500, pageToken=page.get("nextPageToken")
        ).execute()
    sync_token = page["nextSyncToken"]
    costs = []
    for _ in range(reps):
        before = meter()
        began = time.perf_counter()
        answer = events.list(calendarId=calendar_id, syncToken=sync_token).execute()
        took = time.perf_counter() - began
        requests, up, down = (a - b for a, b in zip(meter(), before, strict=True))
        costs.append(Cost(took, requests, up, down, f"{len(answer.get('items', []))} changes"))
    return median(costs)
