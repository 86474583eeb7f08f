"""The benchmarks run once, at tiny sizes (--smoke), so they never rot: every section,
calsync and every peer, through the latency proxy (their numbers are not judged here).
Two runs, so that the suite's workers share them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _smoke(out: Path, *sections: str) -> str:
    out.write_text("# calsync benchmarks\n\nKept prose.\n", encoding="utf-8")
    only = [arg for section in sections for arg in ("--only", section)]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", *only, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# calsync benchmarks\n\nKept prose.\n")
    for section in sections:
        assert f"<!-- bench:{section} begin -->" in text and f"<!-- bench:{section} end -->" in text
    return text


def test_calsync_vdirsyncer_and_the_caldav_loop_sync_the_same_week(tmp_path: Path) -> None:
    text = _smoke(tmp_path / "bench.md", "caldav")
    for case in ("first sync", "no-op rerun", "one change"):
        assert f"| Radicale, {case}" in text
    assert text.count("| vdirsyncer ") == 3 and text.count("| `caldav` loop ") == 1


def test_the_other_sections_run_google_one_at_a_time_and_the_floor_included(
    tmp_path: Path,
) -> None:
    text = _smoke(tmp_path / "bench.md", "start-up", "ics", "google", "fit")
    assert text.count("| one at a time ") == 3 and "| `events.list?syncToken=` " in text
    assert "| calsync fit, one week, best week only |" in text


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
