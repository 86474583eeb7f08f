"""The architecture is enforced, not described (issue 13): import-linter holds the layer
contracts in pyproject.toml, mypy holds the types, and no module grows past ~400 lines."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "calsync"
LONGEST = 420  # "about 400 lines"


def test_the_layer_contracts_hold() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_over_about_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= LONGEST


def test_the_type_checker_passes_strict_on_the_package_and_the_fakes() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "calsync", "fakes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_every_type_ignore_says_why() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "# type: ignore" in line and not line.split("# type: ignore", 1)[1].split("#", 1)[1:]
    ]
    assert bare == []


def module_map() -> list[str]:
    """The paths named in the first column of the README's module map."""
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- module map begin -->", 1)[1].split("<!-- module map end -->", 1)[0]
    return [
        path
        for row in table.splitlines()
        if row.startswith("| `calsync/")
        for path in re.findall(r"`(calsync/[^`]*)`", row.split("|")[1])
    ]


def test_every_path_in_the_readme_module_map_exists() -> None:
    missing = [path for path in module_map() if not (ROOT / path).exists()]
    assert missing == []


def test_the_readme_module_map_covers_every_module() -> None:
    named = module_map()
    uncovered = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py"
        and not any(
            str(path.relative_to(ROOT)) == name
            or name.endswith("/")
            and str(path.relative_to(ROOT)).startswith(name)
            for name in named
        )
    ]
    assert uncovered == []


# The core parses and decides; files are read and written by the layers above it.
FILE_CALLS = {"open", "read_bytes", "read_text", "write_bytes", "write_text", "unlink", "mkdir"}
# highspy prints a banner on the solver's first use: /dev/null stands in for stdout then.
CORE_FILE_CALLS_ALLOWED = {"calsync/core/fit/highs.py:open"}


def test_the_core_reads_and_writes_no_file() -> None:
    found = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            where = f"{path.relative_to(ROOT)}:{name}"
            if name in FILE_CALLS and where not in CORE_FILE_CALLS_ALLOWED:
                found.append(f"{where} (line {node.lineno})")
    assert found == []
