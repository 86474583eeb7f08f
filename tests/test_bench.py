"""The benchmarks run once, in quick mode, so they never rot (their numbers are not judged here)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_prints_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = out.read_text()
    for section in ("| start-up |", "| export |", "| google |", "| caldav |", "| fit |"):
        assert section in table
    assert "first sync" in table and "no-op rerun" in table


def test_google_reruns_are_counted_beside_the_sync_token_floor(tmp_path: Path) -> None:
    from bench.google_bench import google_reruns, sync_token_floor, synced_calendar
    from fakes.fakegoogle import FakeGoogleCalendar
    from tests.google_helpers import write_token

    token = write_token(tmp_path / "token.json")
    with FakeGoogleCalendar() as server:

        def meter() -> tuple[int, int, int]:
            return server.round_trips, server.bytes_up, server.bytes_down

        costs = google_reruns(server.root_url, token, tmp_path, meter, weeks=2, reps=2)
        floor = sync_token_floor(server.root_url, token, synced_calendar(tmp_path), meter)

    assert costs["first sync"].requests == 3  # calendarList, calendars.insert, one batch
    assert costs["settling run"].requests == 2  # calendarList, the full listing
    assert costs["no-op rerun"].requests == 1 and "20 unchanged" in costs["no-op rerun"].summary
    assert (
        costs["one-change rerun"].requests == 2 and "1 updated" in costs["one-change rerun"].summary
    )
    assert floor.requests == 1 and floor.summary == "0 changes"
    assert costs["no-op rerun"].down <= 2 * floor.down


def test_no_benchmark_imports_the_tests() -> None:
    """bench/ shares the provider fakes with the tests through fakes/, never through tests/."""
    importing = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            importing += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert list((ROOT / "bench").glob("*.py")), "no benchmarks found"
    assert importing == []
