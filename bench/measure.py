"""Side by side: one command timed while the latency proxy counts its traffic.

A `Measure` is one run (or the median of several) of a client process: wall
time, requests and bytes each way as the proxy saw them. `versus` turns a pair
into a table row: calsync's cell, the peer's cell, and the ratio of their times.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench.proxy import LatencyProxy

WRITES = frozenset({"PUT", "DELETE", "POST", "PATCH", "MKCALENDAR", "MKCOL", "PROPPATCH", "MOVE"})


@dataclass(frozen=True)
class Row:
    section: str
    case: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: informational


@dataclass(frozen=True)
class Measure:
    seconds: float
    requests: int
    up: int  # bytes client to server
    down: int  # bytes server to client
    writes: int = 0  # requests with a method that writes (PUT, DELETE, POST, PATCH, MK*)
    methods: tuple[tuple[str, int], ...] = ()  # requests by method, sorted by method

    def by_method(self) -> dict[str, int]:
        return dict(self.methods)

    def cell(self, who: str = "") -> str:
        named = f"{who} " if who else ""
        return (
            f"{named}{self.seconds:.2f} s, {self.requests} request{'s' * (self.requests != 1)}, "
            f"{kb(self.up)} up, {kb(self.down)} down"
        )


def kb(size: int) -> str:
    return f"{size / 1000:.1f} kB" if size < 10_000 else f"{size / 1000:.0f} kB"


def median(runs: Sequence[Measure]) -> Measure:
    """The median of each quantity (counts rarely differ between runs; times do); the
    requests by method of the run of median time."""
    middle = sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]
    return Measure(
        statistics.median(m.seconds for m in runs),
        round(statistics.median(m.requests for m in runs)),
        round(statistics.median(m.up for m in runs)),
        round(statistics.median(m.down for m in runs)),
        round(statistics.median(m.writes for m in runs)),
        middle.methods,
    )


def run_command(args: Sequence[str], env: Mapping[str, str], ok: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(
        list(args), env=dict(env), capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(args[:3])} exited {done.returncode}: {done.stderr[-2000:] or done.stdout[-2000:]}"
        )


def timed(proxy: LatencyProxy, run: Callable[[], object]) -> Measure:
    """Run `run` once; its wall time and the traffic the proxy counted meanwhile. The one
    timing and metering loop of every benchmark that talks to a server."""
    before = proxy.traffic()
    began = time.perf_counter()
    run()
    took = time.perf_counter() - began
    seen = proxy.traffic() - before
    writes = sum(n for method, n in seen.methods.items() if method in WRITES)
    methods = tuple(sorted((m, n) for m, n in seen.methods.items() if n))
    return Measure(took, seen.requests, seen.up, seen.down, writes, methods)


def speed(calsync: float, peer: float) -> str:
    """How many times faster (or slower) than the peer calsync was."""
    if peer >= calsync:
        return f"calsync {peer / calsync:.2f}x faster"
    return f"calsync {calsync / peer:.2f}x slower"


def versus(
    section: str,
    case: str,
    ours: Measure,
    peer_name: str,
    peer: Measure,
    target: str = "",
    met: bool | None = None,
) -> Row:
    return Row(
        section, case, ours.cell(), peer.cell(peer_name), speed(ours.seconds, peer.seconds),
        target, met,
    )  # fmt: skip
