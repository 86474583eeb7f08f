"""The benchmarks run once, at tiny sizes (--smoke), so they never rot: every section and
every row of its table, calsync and every peer, through the latency proxy (times are not
judged here; request counts are). Two runs, so that the suite's workers share them."""

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
    assert "| Radicale, no-op rerun | " in text and ", 1 request, " in _row(text, "Radicale, no-op")


def test_the_other_sections_produce_every_row(tmp_path: Path) -> None:
    text = _smoke(tmp_path / "bench.md", "start-up", "ics", "google", "fit")
    assert "| calsync validate (template) |" in text
    for case in ("1 week, fresh", "2 weeks, fresh, against the library alone",
                 "3 weeks, fresh", "3 weeks, over the previous file"):  # fmt: skip
        assert f"| {case} |" in text
    assert text.count("| one at a time ") == 4 and "| `events.list?syncToken=` " in text
    assert "| Google, second run, settling " in text
    # The steady state: one incremental listing, next to the floor's one request.
    steady = _row(text, "Google, no-op rerun (steady state) against the floor")
    assert steady.startswith("| Google, no-op rerun (steady state) against the floor | ")
    assert " 1 request, " in steady and steady.endswith("| yes |")
    assert _row(text, "Google, one change").endswith("| 1 listing + 1 write | yes |")
    assert "| calsync fit, one week, best week only |" in text
    assert "| every-week: 4-week window, rerun (target's arrangement) |" in text


def _row(text: str, case: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(f"| {case}")]
    return line


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
