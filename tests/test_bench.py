"""The benchmarks run once, at tiny sizes (--smoke), so they never rot: every section,
calsync and every peer, through the latency proxy (their numbers are not judged here).
Two runs, so that the suite's workers share them."""

from __future__ import annotations

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
