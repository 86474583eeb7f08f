"""Shared fixtures for the calsync test suite.

Each fixture lives in its own block below; add new ones as new blocks.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from hypothesis import settings

from fakes.fakegoogle import FakeGoogleCalendar, write_token
from fakes.radicale_server import RadicaleServer

# --- hypothesis: the same examples on every run, unless asked to explore -------------

# The suite gates every landing, so its property tests draw the same examples on every
# machine and every run (derandomize); a failure there is a real, reproducible one.
# `HYPOTHESIS_PROFILE=explore python -m pytest` searches afresh with random seeds, as
# done by hand before each change to the core; what it finds becomes a fix and a test.
settings.register_profile("gate", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))

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


# --- any_date: the modules whose tests must pass whatever the clock says -------------

# Each test of a module marked `pytestmark = pytest.mark.any_date` runs once with the
# real clock and once frozen (ticking) at each of these instants. calsync reads the
# clock in one place (calsync/clock.py); these runs prove that no test, and no path
# under test, depends on the day the suite happens to run.
FROZEN_CLOCKS = {
    "real-clock": None,
    "before-the-plans": datetime(2025, 6, 16, 9, 0, tzinfo=UTC),  # plans start 2026-11-30
    "during-the-plans": datetime(2026, 12, 9, 12, 0, tzinfo=UTC),
    "a-year-later": datetime(2027, 12, 8, 12, 0, tzinfo=UTC),
    # Europe/Brussels springs forward 02:00 -> 03:00 at 01:00 UTC: 01:30 UTC is 03:30 CEST.
    "eu-dst-day": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
    # America/New_York falls back 02:00 -> 01:00 at 06:00 UTC: 05:30 UTC is 01:30 EDT,
    # the first of the two 01:30s.
    "us-dst-day": datetime(2027, 11, 7, 5, 30, tzinfo=UTC),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "any_date: run each test under the real clock and several frozen ones"
    )
    config.addinivalue_line(
        "markers", "clocks(*names): the FROZEN_CLOCKS an any_date test runs under"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("any_date"):
        # A long sweep names the clocks it runs under (`@pytest.mark.clocks(...)`): the
        # real one and a frozen one still prove it holds on any day, at a third the cost.
        chosen = metafunc.definition.get_closest_marker("clocks")
        clocks = list(chosen.args) if chosen else list(FROZEN_CLOCKS)
        metafunc.parametrize("frozen_clock", clocks, indirect=True)


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[datetime | None]:
    """The instant the clock was frozen at (None: the real clock). It keeps ticking, so
    waits and timeouts behave; subprocesses see the real clock. Autouse, so that it is
    part of every test (a fixture only named by `parametrize` would never be set up);
    only tests of `any_date` modules are given a frozen instant."""
    moment = FROZEN_CLOCKS[getattr(request, "param", "real-clock")]
    if moment is None:
        yield None
        return
    with time_machine.travel(moment, tick=True):
        yield moment


# --- state_dir: calsync's state folder in a temporary folder, for every test -----------


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Locks and CalDAV memories go to a folder of the test's own, never the user's."""
    folder = tmp_path_factory.mktemp("calsync-state")
    monkeypatch.setenv("CALSYNC_STATE_DIR", str(folder))
    return folder


# --- radicale: one real Radicale CalDAV server per test module -------------------------


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """One Radicale for the whole test module (started on first use); each test makes its
    own calendar. See fakes/radicale_server.py."""
    server = RadicaleServer.in_memory(tmp_path_factory.mktemp("radicale"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


# --- google_fake: the in-process Google Calendar (fakes/fakegoogle.py) ----------------


@pytest.fixture
def google_fake() -> Iterator[FakeGoogleCalendar]:
    """A fresh fake Google Calendar server on 127.0.0.1, for one test."""
    with FakeGoogleCalendar() as server:
        yield server


# --- plan_folder: the template as plan.yaml and a Google token, in one folder -----------


@pytest.fixture
def plan_folder(tmp_path: Path) -> Path:
    """tmp_path holding plan.yaml (the hybrid-hypertrophy template) and token.json."""
    shutil.copyfile(
        Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml",
        tmp_path / "plan.yaml",
    )
    write_token(tmp_path / "token.json")
    return tmp_path
