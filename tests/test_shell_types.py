"""The command line, the machine layer and the intervals.icu target pass `mypy --strict`.

The rest of calsync is checked where it lives (tests/test_core_types.py for the core);
here the modules these packages import are read for their types but their own
errors are not reported (`--follow-imports=silent`), so each package answers for itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("calsync/cli", "calsync/io", "calsync/targets/intervals")


def test_the_shell_passes_mypy_strict() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_no_type_ignore_in_the_shell_goes_without_a_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "# type: ignore" in line
        and not line.split("# type: ignore", 1)[1].split("]", 1)[-1].strip()
    ]
    assert bare == []
