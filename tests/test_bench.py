"""The benchmarks run once, at tiny sizes (--smoke), so they never rot: every section,
calsync and every peer, through the latency proxy (their numbers are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_smoke_run_measures_every_section_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    out.write_text("# calsync benchmarks\n\nKept prose.\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# calsync benchmarks\n\nKept prose.\n")
    for section in ("start-up", "ics", "caldav", "google", "fit"):
        assert f"<!-- bench:{section} begin -->" in text and f"<!-- bench:{section} end -->" in text
    for server in ("Radicale", "Xandikos"):
        for case in ("first sync", "no-op rerun", "one change"):
            assert f"| {server}, {case}" in text
    assert text.count("| vdirsyncer ") == 6 and text.count("| `caldav` loop ") == 2
    assert text.count("| one at a time ") == 3 and "| `events.list?syncToken=` " in text
