"""docs/benchmarks.md: each section's table regenerated in place, everything else kept.

A section lives between two markers,

    <!-- bench:caldav begin -->
    Measured on ...
    | case | calsync | peer, same run | ... |
    <!-- bench:caldav end -->

so a run (full or `--only SECTION`) replaces the blocks it measured and leaves
the other blocks, the prose and the hand-written tables as they are. A section
whose markers are missing is appended under its own heading.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import Row

TITLES = {
    "start-up": "Start-up",
    "ics": "The .ics export",
    "caldav": "CalDAV: calsync against vdirsyncer",
    "google": "Google Calendar: calsync against a one-call-at-a-time client",
    "fit": "calsync fit",
}
SIDE_BY_SIDE = ("ics", "caldav", "google")


def machine() -> str:
    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{platform.node() or 'machine'}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"commit {commit or 'unknown'}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def table(section: str, rows: Sequence[Row]) -> str:
    if section in SIDE_BY_SIDE:
        head = "| case | calsync | peer or floor, same run | ratio | target | met |"
    else:
        head = "| case | measured | baseline (same run) | ratio | target | met |"
    lines = [head, "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.case} | {r.measured} | {r.baseline} | {r.ratio} | {r.target} | {met} |")
    return "\n".join(lines)


def block(section: str, rows: Sequence[Row], how: str) -> str:
    """One section's generated text, markers included."""
    return (
        f"<!-- bench:{section} begin -->\n"
        f"Measured on {machine()}; {how}.\n\n{table(section, rows)}\n"
        f"<!-- bench:{section} end -->"
    )


def update(text: str, blocks: Mapping[str, str]) -> str:
    """`text` with each section's block replaced (or appended under its title)."""
    for section, body in blocks.items():
        pattern = re.compile(
            rf"<!-- bench:{re.escape(section)} begin -->.*?<!-- bench:{re.escape(section)} end -->",
            re.DOTALL,
        )
        found = pattern.search(text)
        if found:
            text = text[: found.start()] + body + text[found.end() :]
        else:
            text = f"{text.rstrip()}\n\n## {TITLES[section]}\n\n{body}\n"
    return text


def write(path: Path, blocks: Mapping[str, str]) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else "# calsync benchmarks\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(update(old, blocks), encoding="utf-8")
