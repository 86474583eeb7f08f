"""CalDAV writes one at a time against several at a time: calsync's three runs per pool size.

    python bench/caldav_bench.py                    # Radicale, 52 weeks, 50 ms, pools of 1 and 4
    python bench/caldav_bench.py --server Xandikos --weeks 4 --latency 5 --jobs 1,4

For each pool size (CALSYNC_CALDAV_JOBS), a calendar of its own on one server and
the runs of bench/caldav_peers.py: `calsync sync caldav` as its own process, a first
sync, a no-op rerun and one change, each timed and counted at bench/proxy.py by
bench/measure.py's `timed`. bench/run.py's CalDAV section runs the default pool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.caldav_peers import CASES, calsync_runs  # noqa: E402 - after the path is set
from bench.measure import Measure  # noqa: E402
from bench.proxy import LatencyProxy  # noqa: E402
from bench.servers import CalDAVServer, caldav_server  # noqa: E402
from bench.workload import Workload  # noqa: E402


def pool_runs(
    work: Workload, server: CalDAVServer, pools: Sequence[int]
) -> dict[int, list[Measure]]:
    """The first sync, no-op rerun and one change with each pool size, through one proxy."""
    found = {}
    with (
        tempfile.TemporaryDirectory(prefix="calsync-bench-pool-") as scratch,
        LatencyProxy(server.root, work.latency) as proxy,
    ):
        for jobs in pools:
            found[jobs] = calsync_runs(
                work, proxy, server, Path(scratch) / f"pool-{jobs}", f"pool-{jobs}",
                CALSYNC_CALDAV_JOBS=str(jobs),
            )  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("Radicale", "Xandikos"), default="Radicale")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--latency", type=float, default=50, help="ms the proxy adds a request")
    parser.add_argument("--jobs", default="1,4", help="pool sizes to compare, e.g. 1,4")
    options = parser.parse_args()
    work = Workload(weeks=options.weeks, latency=options.latency / 1000, reps=1)
    pools = [int(j) for j in options.jobs.split(",")]
    with caldav_server(options.server) as server:
        found = pool_runs(work, server, pools)
    for jobs, runs in found.items():
        print(f"pool of {jobs}, {options.weeks} weeks, {options.latency:g} ms, {options.server}:")
        for case, run in zip(CASES, runs, strict=True):
            methods = ", ".join(f"{n} {m}" for m, n in run.methods)
            print(f"  {case}: {run.cell()} ({methods})")
    if len(found) > 1:
        slow, fast = found[min(found)][0].seconds, found[max(found)][0].seconds
        print(f"first sync, pool of {max(found)} against {min(found)}: {slow / fast:.2f}x faster")


if __name__ == "__main__":
    main()
