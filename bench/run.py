"""calsync's benchmarks: where users feel it, as ratios against a baseline from the same run.

    python bench/run.py                 # the full run; writes docs/benchmarks.md
    python bench/run.py --quick         # small sizes, one repetition (CI runs this)

Absolute times drift on a shared machine; each measurement is reported next to
a baseline measured in the same run, and the targets are judged on those
ratios (and on counts, which do not drift). Nothing here fails a build: the
table says which targets are met.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMPLATE = ROOT / "templates" / "hybrid-hypertrophy.yaml"
START = "2026-11-30"  # the template's first Monday


@dataclass(frozen=True)
class Row:
    section: str
    case: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: informational


def median_time(run: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def command(*args: str) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=False, capture_output=True)


def calsync_exe() -> str:
    found = shutil.which("calsync")
    if not found:
        sys.exit("calsync is not installed: pip install -e .")
    return found


def peak_memory_kb(args: Sequence[str]) -> int:
    """Peak RSS of one command, measured in a fresh wrapper so no other child counts."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    return int(out.stdout.strip())


# --- 1. start-up ---------------------------------------------------------------------


def startup(reps: int) -> list[Row]:
    exe = calsync_exe()
    floor = median_time(command(sys.executable, "-c", "import icalendar, yaml"), reps)
    rows = []
    for name, args in (
        ("calsync --help", (exe, "--help")),
        ("calsync validate (template)", (exe, "validate", str(TEMPLATE))),
    ):
        took = median_time(command(*args), reps)
        added = (took - floor) * 1000
        rows.append(
            Row(
                "start-up",
                name,
                f"{took * 1000:.0f} ms",
                f"{floor * 1000:.0f} ms (import icalendar, yaml)",
                f"+{added:.0f} ms",
                "adds < 50 ms",
                added < 50,
            )
        )
    probe = (
        "import sys; from click.testing import CliRunner; from calsync.cli.main import cli; "
        f"CliRunner().invoke(cli, ['validate', {str(TEMPLATE)!r}]); "
        "print(int('googleapiclient' in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True
    ).stdout.strip()
    rows.append(
        Row(
            "start-up",
            "googleapiclient imported by validate",
            "yes" if loaded == "1" else "no",
            "",
            "",
            "no",
            loaded == "0",
        )
    )
    return rows


# --- 2. export size scaling ----------------------------------------------------------


def export_scaling(reps: int, sizes: Sequence[tuple[str, int]]) -> list[Row]:
    exe = calsync_exe()
    rows = []
    times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "training.ics"

        def args(weeks: int) -> list[str]:
            return [exe, "ics", str(TEMPLATE), "--from", START, "--weeks", str(weeks),
                    "-o", str(out), "--now", "2026-11-26"]  # fmt: skip

        def write(weeks: int) -> Callable[[], object]:
            def run() -> None:
                out.unlink(missing_ok=True)  # each run writes a new file, the worst case
                subprocess.run(args(weeks), check=False, capture_output=True)

            return run

        def rewrite(weeks: int) -> Callable[[], object]:
            return lambda: subprocess.run(args(weeks), check=False, capture_output=True)

        floor = median_time(command(exe, "--help"), reps)
        imports = median_time(command(sys.executable, "-c", "import icalendar, yaml"), reps)
        for label, weeks in sizes:
            times[weeks] = median_time(write(weeks), reps)
            out.unlink(missing_ok=True)
            memory = peak_memory_kb(args(weeks))
            target, met = "", None
            if weeks == 52:
                ratio = times[weeks] / imports
                target = f"< 0.5 s; <= 3x import floor ({ratio:.1f}x of {imports:.2f} s)"
                met = times[weeks] < 0.5 and ratio <= 3
            if weeks == 520 and 52 in times:
                grow = (times[520] - floor) / max(times[52] - floor, 1e-9)
                target, met = (
                    f"<= 10x a year ({grow:.1f}x); < 100 MB",
                    grow <= 10 and memory < 100_000,
                )
            rows.append(
                Row(
                    "export",
                    f"ics, {label} ({weeks} weeks)",
                    f"{times[weeks]:.2f} s, {memory / 1024:.0f} MB",
                    f"{floor:.2f} s (start-up)",
                    f"{times[weeks] / floor:.1f}x",
                    target,
                    met,
                )
            )
        # Over the previous file (the regular run), side by side with a fresh write of
        # the same size, alternating so both see the same machine load.
        weeks = sizes[-1][1]
        fresh, regenerated = [], []
        for _ in range(reps):
            fresh.append(median_time(write(weeks), 1))
            regenerated.append(median_time(rewrite(weeks), 1))  # over the file just written
        took, baseline = statistics.median(regenerated), statistics.median(fresh)
        memory = peak_memory_kb(args(weeks))
        rows.append(
            Row(
                "export",
                f"ics, {sizes[-1][0]} over the previous file ({weeks} weeks)",
                f"{took:.2f} s, {memory / 1024:.0f} MB",
                f"{baseline:.2f} s (fresh write)",
                f"{took / baseline:.2f}x",
                "<= 1.2x a fresh write",
                took <= 1.2 * baseline,
            )
        )
    return rows


# --- 3. Google sync cost ----------------------------------------------------------------


def google_cost(weeks: int, latency: float) -> list[Row]:
    from click.testing import CliRunner

    import calsync.targets.google  # noqa: F401 - module import is start-up (section 1), for both sides
    from calsync.cli.main import cli
    from tests.fakegoogle import FakeGoogleCalendar, build_service
    from tests.google_helpers import write_token

    rows = []
    with tempfile.TemporaryDirectory() as folder, FakeGoogleCalendar(latency=latency) as server:
        token = write_token(Path(folder) / "token.json")
        plan = Path(folder) / "plan.yaml"
        shutil.copy(TEMPLATE, plan)
        env = {"CALSYNC_GOOGLE_ENDPOINT": server.root_url}
        args = [
            "sync",
            "google",
            str(plan),
            "--token",
            str(token),
            "--from",
            START,
            "--weeks",
            str(weeks),
        ]

        def measure(case: str) -> tuple[float, int, int, int]:
            server.reset_counters()
            began = time.perf_counter()
            result = CliRunner().invoke(cli, args, env=env)
            took = time.perf_counter() - began
            if result.exit_code not in (0, 3):
                raise RuntimeError(f"{case}: {result.output}")
            return took, server.round_trips, len(server.api_calls), server.writes

        first = measure("first sync")
        sessions = server.writes - 1  # less the calendar it created
        noop = measure("no-op rerun")
        plan.write_text(
            plan.read_text().replace("2026-12-24: [z2 09:00]", "2026-12-24: [z2 09:30]")
        )
        change = measure("one change")

        # The baseline: one insert per call into a fresh calendar, as `gcalcli import` does.
        service = build_service(server, timeout=30)
        from datetime import timedelta

        from calsync.core.content import event_content
        from calsync.core.expand import expand
        from calsync.core.loader import load_plan
        from calsync.targets.google import event_body

        loaded = load_plan(TEMPLATE)
        schedule = expand(
            loaded, date.fromisoformat(START), date.fromisoformat(START) + timedelta(weeks=weeks)
        )
        calendar = server.add_calendar("Baseline")["id"]
        server.reset_counters()
        began = time.perf_counter()
        for occurrence in schedule.occurrences:
            service.events().insert(
                calendarId=calendar, body=event_body(event_content(occurrence))
            ).execute()
        baseline = (
            time.perf_counter() - began,
            server.round_trips,
            len(server.api_calls),
            server.writes,
        )

    limit = 2 + math.ceil(sessions / 50)
    rows.append(
        Row(
            "google",
            f"first sync, {sessions} sessions",
            _sync_cell(first),
            _sync_cell(baseline),
            f"{baseline[0] / first[0]:.0f}x faster",
            f"<= {limit} round trips; >= 20x faster",
            first[1] <= limit and baseline[0] / first[0] >= 20,
        )
    )
    rows.append(
        Row(
            "google",
            "no-op rerun",
            _sync_cell(noop),
            "",
            "",
            "<= 2 round trips, 0 writes",
            noop[1] <= 2 and noop[3] == 0,
        )
    )
    rows.append(
        Row(
            "google",
            "rerun after changing one session",
            _sync_cell(change),
            "",
            "",
            "1 write",
            change[3] == 1,
        )
    )
    return rows


def _sync_cell(m: tuple[float, int, int, int]) -> str:
    return f"{m[0]:.2f} s, {m[1]} round trips, {m[2]} API calls, {m[3]} writes"


# --- 4. CalDAV -------------------------------------------------------------------------


def caldav_cost(weeks: int) -> list[Row]:
    """First sync, no-op rerun and one change against a real Radicale, counted in its log."""
    from click.testing import CliRunner

    from calsync.cli.main import cli
    from tests.radicale_server import WRITE_METHODS, RadicaleServer

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        server = RadicaleServer.in_memory(Path(folder) / "radicale")
        server.folder.mkdir(parents=True, exist_ok=True)
        server.start()
        try:
            plan = Path(folder) / "plan.yaml"
            shutil.copy(TEMPLATE, plan)
            env = {
                "CALSYNC_BENCH_PASSWORD": server.password,
                "XDG_STATE_HOME": str(Path(folder) / "state"),
            }
            args = [
                "sync", "caldav", str(plan), "--url", server.home, "--calendar", "Training",
                "--username", server.user, "--password-env", "CALSYNC_BENCH_PASSWORD",
                "--from", START, "--weeks", str(weeks),
            ]  # fmt: skip

            def measure(case: str) -> tuple[float, int, int]:
                before = server.requests()
                began = time.perf_counter()
                result = CliRunner().invoke(cli, args, env=env)
                took = time.perf_counter() - began
                if result.exit_code not in (0, 3):
                    raise RuntimeError(f"{case}: {result.output}")
                seen = server.requests() - before
                return took, sum(seen.values()), sum(seen[m] for m in WRITE_METHODS)

            first = measure("first sync")
            noop = measure("no-op rerun")
            plan.write_text(
                plan.read_text().replace("2026-12-24: [z2 09:00]", "2026-12-24: [z2 09:30]")
            )
            change = measure("one change")
        finally:
            server.stop()
            server.cleanup()
    sessions = first[2] - 1  # less the calendar it created
    for case, m, target, met in (
        (f"first sync, {sessions} sessions", first, "one PUT a session", first[2] == sessions + 1),
        ("no-op rerun", noop, "0 writes", noop[2] == 0),
        ("rerun after changing one session", change, "1 write", change[2] == 1),
    ):
        rows.append(
            Row(
                "caldav", case, f"{m[0]:.2f} s, {m[1]} requests, {m[2]} writes", "", "", target, met
            )
        )
    return rows


# --- 5. calsync fit -------------------------------------------------------------------------


def fit_cost(reps: int) -> list[Row]:
    """The rider's week (templates/rider-fit.yaml) and a 4-week block, next to the start-up floor."""
    exe = calsync_exe()
    rider = ROOT / "templates" / "rider-fit.yaml"
    floor = median_time(command(sys.executable, "-c", "import icalendar, yaml"), reps)
    base = f"{floor * 1000:.0f} ms (import icalendar, yaml)"
    rows = []
    cases = (
        ("calsync fit, one week, best week only", (exe, "fit", str(rider), "--from", "2026-12-07", "--no-trade-offs"), 1.0),
        ("calsync fit, one week, with every trade-off", (exe, "fit", str(rider), "--from", "2026-12-07"), None),
        ("4 weeks in a row, each with its own busy time", (sys.executable, str(ROOT / "bench" / "fit_block.py")), 5.0),
    )  # fmt: skip
    for case, args, limit in cases:
        done = subprocess.run(args, capture_output=True, check=False)
        if done.returncode not in (0, 3):
            raise RuntimeError(f"fit {case}: {done.stderr.decode()}")
        took = median_time(command(*args), reps)
        rows.append(
            Row(
                "fit",
                case,
                f"{took:.2f} s",
                base,
                f"+{took - floor:.2f} s",
                f"adds < {limit:.0f} s" if limit else "",
                None if limit is None else took - floor < limit,
            )
        )
    from calsync.core.fit import Problem, best_week
    from calsync.core.loader import load_plan

    plan = load_plan(rider)
    assert plan.fit is not None
    problem = Problem(plan, plan.fit, date(2026, 12, 7))
    best_week(problem)  # the solver imported and warm
    solving = median_time(lambda: best_week(problem), reps)
    rows.append(
        Row(
            "fit",
            "the best week alone, in process (three proven optima)",
            f"{solving * 1000:.0f} ms",
            "",
            "",
            "< 1 s",
            solving < 1,
        )
    )
    solver = median_time(command(sys.executable, "-c", "import highspy, numpy"), reps)
    rows.append(Row("fit", "import highspy, numpy", f"{solver * 1000:.0f} ms", base, "", "", None))
    probe = (
        "import sys; from click.testing import CliRunner; from calsync.cli.main import cli; "
        f"CliRunner().invoke(cli, ['validate', {str(rider)!r}]); "
        "print(int('highspy' in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    rows.append(
        Row(
            "fit",
            "highspy imported by validate",
            "yes" if loaded.stdout.strip() == "1" else "no",
            "",
            "",
            "no",
            loaded.stdout.strip() == "0",
        )
    )
    return rows


# --- the table ---------------------------------------------------------------------------


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| section | case | measured | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.section} | {r.case} | {r.measured} | {r.baseline} | {r.ratio} | {r.target} | {met} |"
        )
    return "\n".join(lines)


def machine() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{platform.node() or 'machine'}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"commit {commit or 'unknown'}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--only", choices=["fit"], help="one section, printed (nothing written)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="markdown file (default: docs/benchmarks.md, not in --quick)",
    )
    options = parser.parse_args()
    reps = 1 if options.quick else 5
    if options.only == "fit":
        print(f"Measured on {machine()}; median of {reps}.\n\n{table(fit_cost(reps))}")
        return
    sizes = [("4 weeks", 4), ("1 year", 52)] + ([] if options.quick else [("10 years", 520)])
    weeks, latency = (4, 0.005) if options.quick else (52, 0.05)
    rows = [
        *startup(reps),
        *export_scaling(reps, sizes),
        *google_cost(weeks, latency),
        *caldav_cost(weeks),
        *fit_cost(reps),
    ]
    heading = f"Measured on {machine()}; {'quick mode' if options.quick else f'median of {reps}'}; Google latency {latency * 1000:.0f} ms per request."
    text = f"# calsync benchmarks\n\n{heading}\n\n{table(rows)}\n"
    print(text)
    output = options.output or (None if options.quick else ROOT / "docs" / "benchmarks.md")
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
