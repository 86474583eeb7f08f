"""CalDAV side by side: calsync against vdirsyncer and a plain `caldav` loop.

Each repetition gives every client a fresh calendar on the same server, behind
the same latency proxy, and runs (in turn, so all see the same machine load):

- calsync: `calsync sync caldav` first sync, a no-op rerun, a rerun after one change
  to the plan (its calendar made by calsync itself, inside the first sync);
- vdirsyncer: a filesystem storage of the split export synced to its calendar,
  then a no-op rerun, then a rerun after the export of the changed plan (one file
  rewritten);
- the `caldav` loop: the split export saved one event at a time (first sync only).
"""

from __future__ import annotations

import base64
import http.client
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from bench.measure import Measure, Row, median, run_command, timed, versus
from bench.peers import Vdirsyncer, caldav_loop, split_export
from bench.proxy import LatencyProxy
from bench.servers import CalDAVServer, caldav_server
from bench.workload import Workload, ok_codes, state_env

CASES = ("first sync", "no-op rerun", "one change")


def make_calendar(server: CalDAVServer, name: str) -> str:
    """MKCALENDAR straight at the server (not timed: the peers' one-time set-up).
    Returns the calendar's path below the server's root."""
    path = f"{server.home}{name}/"
    parts = urlsplit(server.root)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    login = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
    connection.request("MKCALENDAR", "/" + path, headers={"Authorization": f"Basic {login}"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    if answer.status != 201:
        raise RuntimeError(f"MKCALENDAR {path} on {server.name}: {answer.status}")
    return path


def calsync_runs(
    work: Workload,
    proxy: LatencyProxy,
    server: CalDAVServer,
    folder: Path,
    calendar: str,
    **extra: str,
) -> list[Measure]:
    """`calsync sync caldav` into a new `calendar` (made inside the first sync): the first
    sync, a no-op rerun, a rerun after the one change; `extra` joins its environment."""
    env = state_env(folder, CALSYNC_BENCH_PASSWORD=server.password, **extra)
    args = [proxy.url + server.home, calendar, server.user]
    plan = work.plan(folder)
    runs = [timed(proxy, lambda: run_command(work.sync_caldav(plan, *args), env, ok_codes()))
            for _ in range(2)]  # fmt: skip
    work.plan(folder, changed=True)
    runs.append(timed(proxy, lambda: run_command(work.sync_caldav(plan, *args), env, ok_codes())))
    _check("calsync", runs)
    return runs


def _check(who: str, runs: list[Measure]) -> None:
    """Each side did the work: writes on the first sync, none on the rerun, one for the change."""
    writes = [m.writes for m in runs]
    if writes[0] == 0 or writes[1] != 0 or writes[2] != 1:
        raise RuntimeError(f"{who}: writes {writes} (first sync, no-op rerun, one change)")


def _vdirsyncer(
    proxy: LatencyProxy,
    server: CalDAVServer,
    exports: tuple[Path, Path],
    folder: Path,
    rep: int,
) -> list[Measure]:
    path = make_calendar(server, f"vdirsyncer-{rep}")
    peer = Vdirsyncer(folder, proxy.url + path, server.user, server.password)
    split_export(exports[0], peer.events)
    peer.discover()
    runs = [timed(proxy, peer.sync) for _ in range(2)]
    written = split_export(exports[1], peer.events)
    if written != 1:
        raise RuntimeError(f"the changed plan's export rewrote {written} files, not 1")
    runs.append(timed(proxy, peer.sync))
    _check("vdirsyncer", runs)
    return runs


def _loop(proxy: LatencyProxy, server: CalDAVServer, split: Path, rep: int) -> Measure:
    path = make_calendar(server, f"loop-{rep}")
    args = caldav_loop(proxy.url + path, split, server.user, "CALSYNC_BENCH_PASSWORD")
    env = state_env(split.parent, CALSYNC_BENCH_PASSWORD=server.password)
    return timed(proxy, lambda: run_command(args, env))


def caldav_rows(work: Workload, name: str, with_loop: bool = True) -> list[Row]:
    """Rows for one server ("Radicale" or "Xandikos")."""
    ours: list[list[Measure]] = []
    theirs: list[list[Measure]] = []
    loop: list[Measure] = []
    with (
        tempfile.TemporaryDirectory(prefix="calsync-bench-caldav-") as scratch,
        caldav_server(name) as server,
        LatencyProxy(server.root, work.latency) as proxy,
    ):
        folder = Path(scratch)
        exports = (
            work.export(work.plan(folder / "plan"), folder / "training.ics"),
            work.export(work.plan(folder / "changed", changed=True), folder / "changed.ics"),
        )
        split = folder / "split" / "events"
        split_export(exports[0], split)
        for rep in range(work.reps):
            ours.append(
                calsync_runs(work, proxy, server, folder / f"calsync-{rep}", f"calsync-{rep}")
            )
            theirs.append(_vdirsyncer(proxy, server, exports, folder / f"vdir-{rep}", rep))
            if with_loop:
                loop.append(_loop(proxy, server, split, rep))
        sessions = len(list(split.glob("*.ics")))
    rows = []
    for index, case in enumerate(CASES):
        mine = median([runs[index] for runs in ours])
        peer = median([runs[index] for runs in theirs])
        label = f"{name}, {case}" + (f", {sessions} sessions" if index == 0 else "")
        if index == 0:
            target, met = ">= 2x faster than vdirsyncer", peer.seconds >= 2 * mine.seconds
        elif index == 1:
            target = "<= vdirsyncer's time and bytes"
            met = mine.seconds <= peer.seconds and mine.up + mine.down <= peer.up + peer.down
        else:
            target, met = "faster than vdirsyncer", mine.seconds <= peer.seconds
        rows.append(versus("caldav", label, mine, "vdirsyncer", peer, target, met))
        if index == 0 and loop:
            rows.append(versus("caldav", label, mine, "`caldav` loop", median(loop)))
    return rows
