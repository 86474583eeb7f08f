"""CalDAV first sync, no-op rerun and one change, behind a proxy that adds latency.

    python bench/caldav_bench.py                    # 52 weeks, 50 ms, pools of 1 and 4
    python bench/caldav_bench.py --weeks 4 --latency 0.005 --jobs 1,4

Starts its own Radicale on 127.0.0.1 (or use `measure` against any server),
runs `calsync sync caldav` as the command does (through `caldav_target`), and
counts every exchange at the proxy: requests by method, bytes up and down.
`measure` is the function bench/run.py calls for its rows.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_proxy import Proxy  # noqa: E402 - after the path is set

TEMPLATE = ROOT / "templates" / "hybrid-hypertrophy.yaml"
START = date(2026, 11, 30)  # the template's first Monday


@dataclass(frozen=True)
class Cost:
    case: str
    seconds: float
    requests: dict[str, int]
    bytes_up: int
    bytes_down: int

    def line(self) -> str:
        methods = ", ".join(f"{n} {m}" for m, n in self.requests.items())
        return (
            f"{self.case}: {self.seconds:.2f} s, {sum(self.requests.values())} requests "
            f"({methods}), {self.bytes_up / 1000:.1f} kB up, {self.bytes_down / 1000:.1f} kB down"
        )


def measure(
    upstream_root: str,
    calendar_url: str,
    user: str,
    password: str,
    *,
    weeks: int = 52,
    latency: float = 0.05,
    jobs: int = 4,
    state_dir: Path,
) -> list[Cost]:
    """First sync into an empty calendar, a no-op rerun, then a rerun with one session
    changed; each through a proxy adding `latency` per request, `jobs` writers."""
    settings = {"CALSYNC_CALDAV_JOBS": str(jobs), "CALSYNC_STATE_DIR": str(state_dir)}
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        return _measure(upstream_root, calendar_url, user, password, weeks, latency, state_dir)
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _measure(
    upstream_root: str,
    calendar_url: str,
    user: str,
    password: str,
    weeks: int,
    latency: float,
    state_dir: Path,
) -> list[Cost]:
    from calsync.io.plans import load_plan
    from calsync.sync.request import Range, SyncRequest
    from calsync.targets.caldav import caldav_target

    plan_file = state_dir / "plan.yaml"
    plan_file.write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    costs = []
    with Proxy(upstream_root, latency=latency) as proxy:
        for case in ("first sync", "no-op rerun", "one change"):
            if case == "one change":
                text = plan_file.read_text(encoding="utf-8")
                plan_file.write_text(
                    text.replace("2026-12-24: [z2 09:00]", "2026-12-24: [z2 09:30]"),
                    encoding="utf-8",
                )
            plan = load_plan(plan_file)
            moment = datetime.combine(START, datetime.min.time(), tzinfo=plan.zone)
            request = SyncRequest(
                span=Range(START, weeks),
                now=moment,
                not_before=moment,
                overwrite_edits=False,
                restore_deleted=False,
                annotate=True,
                dry_run=False,
            )
            proxy.reset()
            began = time.perf_counter()
            report = caldav_target(
                plan, request, proxy.url(calendar_url), None, user, password, (), False
            )
            took = time.perf_counter() - began
            if report.failures:
                raise RuntimeError(f"{case}: {report.failures[0].error}")
            costs.append(Cost(case, took, proxy.methods(), proxy.bytes_up(), proxy.bytes_down()))
    return costs


# --- a Radicale of its own ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def radicale(folder: Path) -> Iterator[tuple[str, str, str]]:
    """A Radicale on 127.0.0.1 storing in `folder`: (root URL, user, password)."""
    port, user, password = _free_port(), "athlete", secrets.token_urlsafe(12)
    (folder / "users").write_text(f"{user}:{password}\n", encoding="utf-8")
    config = folder / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\n"
        f"htpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\ndelay = 0\n"
        f"[rights]\ntype = owner_only\n[storage]\nfilesystem_folder = {folder / 'data'}\n"
        "[web]\ntype = none\n[logging]\nlevel = warning\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(root, timeout=1).close()  # noqa: S310 (127.0.0.1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("radicale did not start") from None
                time.sleep(0.05)
        yield root, user, password
    finally:
        process.terminate()
        process.wait(timeout=10)


def _new_calendar(root: str, user: str, password: str, name: str) -> str:
    from calsync.targets.caldav import make_client

    url = f"{root}{user}/{name}/"
    make_client(f"{root}{user}/", user, password, insecure=False).mkcalendar(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--jobs", default="1,4", help="pool sizes to compare, e.g. 1,4")
    options = parser.parse_args()
    shm = Path("/dev/shm")
    where = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=where) as folder, radicale(Path(folder)) as server:
        root, user, password = server
        firsts = {}
        for jobs in (int(j) for j in options.jobs.split(",")):
            state = Path(folder) / f"state-{jobs}"
            state.mkdir()
            calendar = _new_calendar(root, user, password, f"training-{jobs}")
            costs = measure(
                root, calendar, user, password,
                weeks=options.weeks, latency=options.latency, jobs=jobs, state_dir=state,
            )  # fmt: skip
            print(f"pool of {jobs}, {options.weeks} weeks, {options.latency * 1000:.0f} ms:")
            for cost in costs:
                print(f"  {cost.line()}")
            firsts[jobs] = costs[0].seconds
        if len(firsts) > 1:
            slow, fast = firsts[min(firsts)], firsts[max(firsts)]
            print(f"first sync, pool {max(firsts)} vs {min(firsts)}: {slow / fast:.2f}x faster")


if __name__ == "__main__":
    main()
