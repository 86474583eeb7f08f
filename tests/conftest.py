"""Shared fixtures for the calsync test suite.

Each fixture lives in its own block below; add new ones as new blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# --- templates_dir: the shipped plan templates ---------------------------------------


@pytest.fixture
def templates_dir() -> Path:
    """The top-level `templates/` folder of the repository."""
    return Path(__file__).resolve().parent.parent / "templates"


# --- write_plan: a plan file in a temporary folder -------------------------------------


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[..., Path]:
    """`write_plan(text, name="plan.yaml")` writes text (or bytes) and returns the path."""

    def write(text: str | bytes, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


# --- state_dir: calsync's state folder in a temporary folder, for every test -----------


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Locks and CalDAV memories go to a folder of the test's own, never the user's."""
    folder = tmp_path_factory.mktemp("calsync-state")
    monkeypatch.setenv("CALSYNC_STATE_DIR", str(folder))
    return folder
