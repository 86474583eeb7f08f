"""The benchmarks run once, in quick mode, so they never rot (their numbers are not judged here)."""

from __future__ import annotations

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
