"""Google side by side: calsync against a one-call-at-a-time client, and the floor.

Each repetition starts a fresh fake Google Calendar (fakes/fakegoogle.py, via
bench/servers.py) behind the latency proxy and runs, in turn:

- calsync: `calsync sync google` first sync (its calendar made inside it); the second
  run, which settles (it looks the calendar up by name once more, removing an empty
  twin a lost create answer may have left, and lists it in full, because the first
  sync's token would predate its own writes); a no-op rerun in the steady state (one
  `events.list?syncToken=`); a rerun after one change to the plan;
- the one-call-at-a-time client (bench/google_one_by_one.py, the real
  google-api-python-client, no batch, as `gcalcli import`): the same sessions from
  calsync's .ics export, into a calendar made for it beforehand, then a no-op
  rerun, then the export of the changed plan;
- the floor of a rerun: one `events.list?syncToken=` request, the least any client
  can ask (in process: a request, no start-up).
"""

from __future__ import annotations

import http.client
import json
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.measure import Measure, Row, median, run_command, timed, versus
from bench.peers import google_one_by_one
from bench.proxy import LatencyProxy
from bench.servers import TOKEN, FakeGoogleCalendar, write_token
from bench.workload import Workload, ok_codes, state_env

# calsync's runs, in order; the peer's runs each is set beside (it has no settling run:
# every rerun of it lists in full).
CASES = ("first sync", "settling run", "no-op rerun", "one change")
PEER_RUN = {"first sync": 0, "settling run": 1, "no-op rerun": 1, "one change": 2}
LABELS = {
    "first sync": "Google, first sync",
    "settling run": "Google, second run, settling (twin check; full listing for the token)",
    "no-op rerun": "Google, no-op rerun (steady state)",
    "one change": "Google, one change",
}


def _events_path(calendar: str, **query: str) -> str:
    return f"/calendars/{quote(calendar, safe='')}/events?{urlencode(query)}"


def sync_token(server: FakeGoogleCalendar, calendar: str) -> str:
    """A full listing straight at the server (not counted), to its nextSyncToken."""
    page: dict[str, str] = {"maxResults": "2500"}
    while True:
        request = urllib.request.Request(
            server.root_url.rstrip("/") + _events_path(calendar, **page),
            headers={"Authorization": f"Bearer {TOKEN['token']}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - 127.0.0.1
            listing = json.load(answer)
        if "nextSyncToken" in listing:
            return str(listing["nextSyncToken"])
        page = {"maxResults": "2500", "pageToken": listing["nextPageToken"]}


def floor(proxy: LatencyProxy, calendar: str, token: str) -> Measure:
    """One incremental listing with nothing changed, through the proxy."""

    def ask() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=60)
        connection.request(
            "GET",
            _events_path(calendar, syncToken=token),
            headers={"Authorization": f"Bearer {TOKEN['token']}"},
        )
        answer = connection.getresponse()
        body = json.loads(answer.read())
        connection.close()
        if answer.status != 200 or body.get("items"):
            raise RuntimeError(f"the floor listing answered {answer.status}: {body}")

    return timed(proxy, ask)


def _one_rep(
    work: Workload, folder: Path, exports: tuple[Path, Path]
) -> tuple[list[Measure], list[Measure], Measure]:
    with FakeGoogleCalendar() as server, LatencyProxy(server.root_url, work.latency) as proxy:
        folder.mkdir(parents=True, exist_ok=True)
        token = write_token(folder / "token.json")
        env = state_env(folder / "calsync", CALSYNC_GOOGLE_ENDPOINT=proxy.url)
        plan = work.plan(folder / "calsync")
        # The first sync, the settling run and a no-op rerun.
        ours = [timed(proxy, lambda: run_command(work.sync_google(plan, token), env, ok_codes()))
                for _ in range(3)]  # fmt: skip
        work.plan(folder / "calsync", changed=True)
        ours.append(
            timed(proxy, lambda: run_command(work.sync_google(plan, token), env, ok_codes()))
        )

        calendar = str(server.add_calendar("Peer", "Europe/Brussels")["id"])
        peer_env = state_env(folder / "peer", CALSYNC_GOOGLE_ENDPOINT=proxy.url)

        def peer(export: Path) -> Measure:
            args = google_one_by_one(export, token, calendar)
            return timed(proxy, lambda: run_command(args, peer_env))

        theirs = [peer(exports[0]), peer(exports[0]), peer(exports[1])]
        least = floor(proxy, calendar, sync_token(server, calendar))
        sessions = len(server.events(calendar))
    if theirs[0].writes != sessions or theirs[1].writes != 0 or theirs[2].writes != 1:
        raise RuntimeError(f"one-by-one client: writes {[m.writes for m in theirs]}")
    if [m.writes for m in ours[1:]] != [0, 0, 1]:
        raise RuntimeError(f"calsync: writes {[m.writes for m in ours]} ({', '.join(CASES)})")
    return ours, theirs, least


def google_rows(work: Workload) -> list[Row]:
    ours: list[list[Measure]] = []
    theirs: list[list[Measure]] = []
    floors: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="calsync-bench-google-") as scratch:
        folder = Path(scratch)
        exports = (
            work.export(work.plan(folder / "plan"), folder / "training.ics"),
            work.export(work.plan(folder / "changed", changed=True), folder / "changed.ics"),
        )
        sessions = exports[0].read_text(encoding="utf-8").count("BEGIN:VEVENT")
        for rep in range(work.reps):
            calsync_runs, peer_runs, floor_run = _one_rep(work, folder / f"rep-{rep}", exports)
            ours.append(calsync_runs)
            theirs.append(peer_runs)
            floors.append(floor_run)
    rows = []
    client = "one at a time"
    for index, case in enumerate(CASES):
        mine = median([runs[index] for runs in ours])
        peer = median([runs[PEER_RUN[case]] for runs in theirs])
        label = LABELS[case] + (f", {sessions} sessions" if index == 0 else "")
        target, met = _target(case, mine, peer)
        rows.append(versus("google", label, mine, client, peer, target, met))
        if case == "no-op rerun":
            least = median(floors)
            rows.append(
                Row(
                    "google",
                    "Google, no-op rerun (steady state) against the floor",
                    mine.cell(),
                    least.cell("`events.list?syncToken=`"),
                    f"{mine.requests} / {least.requests} requests, "
                    f"{mine.down / max(least.down, 1):.1f}x the bytes down",
                    "1 request; <= 2x the floor's bytes down",
                    mine.requests == 1 and mine.down <= 2 * least.down,
                )
            )
    return rows


def _target(case: str, mine: Measure, peer: Measure) -> tuple[str, bool | None]:
    if case == "first sync":
        return ">= 20x faster than one at a time", peer.seconds >= 20 * mine.seconds
    if case == "no-op rerun":
        return "1 request", mine.requests == 1
    if case == "one change":
        return "1 listing + 1 write", mine.requests <= 2 and mine.writes == 1
    return "", None  # the settling run: reported as it is, once after a first sync
