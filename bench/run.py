"""calsync's benchmarks: where users feel it, side by side with a peer or a floor from the same run.

    python bench/run.py                  # everything, medians of 3; updates docs/benchmarks.md
    python bench/run.py --quick          # the same, one run of each (several minutes)
    python bench/run.py --only caldav    # one section (repeatable), regenerated in place
    python bench/run.py --smoke          # tiny sizes, Radicale only, prints (the test suite)

Absolute times drift on a shared machine; each measurement is reported next to
a peer or a floor measured in the same run (alternating, so both see the same
load), and the targets are judged on those ratios and on counts of requests and
bytes, which do not drift. CalDAV and Google clients, calsync's and the peers',
run as their own processes behind bench/proxy.py, which adds a fixed latency to
each request and counts requests and bytes. Nothing here fails a build: the
tables say which targets are met. Each section of docs/benchmarks.md sits
between markers and is replaced in place; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.caldav_peers import caldav_rows  # noqa: E402 - after the path is set
from bench.google_peers import google_rows  # noqa: E402
from bench.measure import Row, speed  # noqa: E402
from bench.report import block, write  # noqa: E402
from bench.workload import START, TEMPLATE, Workload, calsync_exe  # noqa: E402

SECTIONS = ("start-up", "ics", "caldav", "google", "fit")
SERVERS = ("Radicale", "Xandikos")


def median_time(run: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def command(*args: str) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=False, capture_output=True)


def checked(case: str, *args: str) -> Callable[[], object]:
    """`command`, failing the benchmark when the command does (3: the plan's conflicts)."""
    return lambda: run_checked(case, args)


def run_checked(case: str, args: Sequence[str]) -> int:
    """Run one command to its end; its peak resident memory in kB (from its own rusage,
    so no other process counts). Fails the benchmark when the command does (3: the
    plan's conflicts)."""
    process = subprocess.Popen(
        list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in (0, 3):
        raise RuntimeError(f"{case}: exit {process.returncode}: {errors.decode()[-2000:]}")
    return int(usage.ru_maxrss)


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


# --- 2. the .ics export ----------------------------------------------------------------


def export_scaling(reps: int, sizes: Sequence[tuple[str, int]]) -> list[Row]:
    """`sizes`: a small export, a year and ten years, (label, weeks) each; the year is
    set beside the floors, the decade against the year and over its previous file."""
    year, decade = sizes[1][1], sizes[2][1]
    exe = calsync_exe()
    rows = []
    times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "training.ics"

        def args(weeks: int) -> list[str]:
            return [exe, "ics", str(TEMPLATE), "--from", START, "--weeks", str(weeks),
                    "-o", str(out), "--now", "2026-11-26"]  # fmt: skip

        peaks: dict[tuple[str, int], int] = {}  # the most memory a timed run took

        def export(how: str, weeks: int) -> None:
            memory = run_checked(f"calsync ics, {weeks} weeks, {how}", args(weeks))
            peaks[how, weeks] = max(peaks.get((how, weeks), 0), memory)

        def write(weeks: int) -> Callable[[], object]:
            def run() -> None:
                out.unlink(missing_ok=True)  # each run writes a new file, the worst case
                export("fresh", weeks)

            return run

        def rewrite(weeks: int) -> Callable[[], object]:
            return lambda: export("over the previous file", weeks)  # over the file just written

        floor = median_time(command(exe, "--help"), reps)
        imports = median_time(command(sys.executable, "-c", "import icalendar, yaml"), reps)
        for label, weeks in sizes:
            times[weeks] = median_time(write(weeks), reps)
            memory = peaks["fresh", weeks]
            measured = f"{times[weeks]:.2f} s, {memory / 1024:.0f} MB"
            if weeks == year:
                ratio = times[weeks] / imports
                rows.append(
                    Row("ics", f"{label}, fresh", measured,
                        f"{imports:.2f} s (`import icalendar, yaml`)", f"{ratio:.1f}x the floor",
                        "< 0.5 s; <= 3x the import floor", times[weeks] < 0.5 and ratio <= 3)
                )  # fmt: skip
                library = icalendar_alone(out, Path(folder), reps)
                rows.append(
                    Row("ics", f"{label}, fresh, against the library alone",
                        measured, f"{library:.2f} s (icalendar alone building the same events)",
                        speed(times[weeks], library), "", None)
                )  # fmt: skip
                continue
            target, met = "", None
            if weeks == decade and year in times:
                grow = (times[decade] - floor) / max(times[year] - floor, 1e-9)
                target, met = (
                    f"<= 10x a year ({grow:.1f}x); < 100 MB",
                    grow <= 10 and memory < 100_000,
                )
            rows.append(
                Row("ics", f"{label}, fresh", measured,
                    f"{floor:.2f} s (`calsync --help`)", f"{times[weeks] / floor:.1f}x", target, met)
            )  # fmt: skip
        # Over the previous file (the regular run), side by side with a fresh write of
        # the same size, alternating so both see the same machine load.
        weeks = sizes[-1][1]
        fresh, regenerated = [], []
        for _ in range(reps):
            fresh.append(median_time(write(weeks), 1))
            regenerated.append(median_time(rewrite(weeks), 1))
        took, baseline = statistics.median(regenerated), statistics.median(fresh)
        memory = peaks["over the previous file", weeks]
        rows.append(
            Row(
                "ics",
                f"{sizes[-1][0]}, over the previous file",
                f"{took:.2f} s, {memory / 1024:.0f} MB",
                f"{baseline:.2f} s (a fresh write)",
                f"{took / baseline:.2f}x a fresh write",
                "<= 1.2x a fresh write",
                took <= 1.2 * baseline,
            )
        )
    return rows


def icalendar_alone(export: Path, folder: Path, reps: int) -> float:
    """bench/ics_floor.py: icalendar alone building the events of `export` (calsync's)."""
    from bench.ics_floor import fields

    source = folder / "events.json"
    source.write_text(json.dumps(fields(export)), encoding="utf-8")
    script = ROOT / "bench" / "ics_floor.py"
    return median_time(
        command(sys.executable, str(script), str(source), str(folder / "floor.ics")), reps
    )


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
        took = median_time(checked(case, *args), reps)
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
    from calsync.io.plans import load_plan

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
    sys.path.insert(0, str(ROOT / "bench"))
    from every_week import measure

    weekly = measure(reps)
    floor_text = f"{weekly['floor']:.2f} s (4 unconstrained best weeks)"
    for case, key in (
        ("every-week: 4-week window, first run", "first run"),
        ("every-week: 4-week window, rerun (target's arrangement)", "rerun"),
    ):
        took = weekly[key]
        ratio = f"{took / weekly['floor']:.1f}x"
        rows.append(Row("fit", case, f"{took:.2f} s", floor_text, ratio, "< 5 s", took < 5))
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


# --- the run ---------------------------------------------------------------------------


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3, help="runs of each case (the median)")
    parser.add_argument("--quick", action="store_true", help="one run of each case (--reps 1)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1 week synced (.ics: 1, 2, 3 weeks), one run, 5 ms, CalDAV on Radicale only; "
        "every row of every table; prints, writes nothing",
    )
    parser.add_argument("--weeks", type=int, default=52, help="weeks synced (52: 517 sessions)")
    parser.add_argument("--latency", type=float, default=50, help="ms the proxy adds a request")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="this section only")
    parser.add_argument(
        "--output", type=Path, default=None, help="markdown file (default: docs/benchmarks.md)"
    )
    found = parser.parse_args()
    if found.quick or found.smoke:
        found.reps = 1
    if found.smoke:
        found.weeks, found.latency = 1, 5
    return found


def byte_compiled() -> None:
    """calsync's modules compiled to bytecode first, as `pip install` does. A checkout run
    with PYTHONDONTWRITEBYTECODE set (as this machine's environment is) would otherwise
    compile every module on every run, which no installed copy pays, nor the peers, nor
    the libraries of the import floor."""
    import compileall

    compileall.compile_dir(ROOT / "calsync", quiet=1)


def main() -> None:
    opts = options()
    byte_compiled()
    reps = opts.reps
    work = Workload(weeks=opts.weeks, latency=opts.latency / 1000, reps=reps)
    runs = "one run" if reps == 1 else f"median of {reps}"
    proxied = (
        f"{runs}; {opts.latency:g} ms a request through bench/proxy.py; {opts.weeks} weeks synced"
    )
    sizes = [("4 weeks", 4), ("52 weeks", 52), ("520 weeks", 520)]
    if opts.smoke:  # every row, at tiny sizes
        sizes = [("1 week", 1), ("2 weeks", 2), ("3 weeks", 3)]
    servers = SERVERS[:1] if opts.smoke else SERVERS
    measure: dict[str, Callable[[], list[Row]]] = {
        "start-up": lambda: startup(reps),
        "ics": lambda: export_scaling(reps, sizes),
        "caldav": lambda: [row for name in servers for row in caldav_rows(work, name)],
        "google": lambda: google_rows(work),
        "fit": lambda: fit_cost(reps),
    }
    blocks = {}
    for section in opts.only or SECTIONS:
        began = time.perf_counter()
        rows = measure[section]()
        how = proxied if section in ("caldav", "google") else runs
        blocks[section] = block(section, rows, how)
        print(f"{blocks[section]}\n({section}: {time.perf_counter() - began:.0f} s)\n", flush=True)
    output = opts.output or (None if opts.smoke else ROOT / "docs" / "benchmarks.md")
    if output:
        write(output, blocks)
        print(f"updated {output}")


if __name__ == "__main__":
    main()
