"""The pure core (calsync/core/, but for the solver in core/fit/) passes `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_core_passes_mypy_strict() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "calsync/core",
            "--exclude",
            "calsync/core/fit/",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_no_type_ignore_in_the_core_goes_without_a_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "calsync" / "core").rglob("*.py"))
        if "fit" not in path.relative_to(ROOT / "calsync" / "core").parts[:-1]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "# type: ignore" in line
        and not line.split("# type: ignore", 1)[1].split("]", 1)[-1].strip()
    ]
    assert bare == []
