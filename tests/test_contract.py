"""The backend contract (tests/backend_contract.py) run against every target, each in its
place (tests/places.py): memory, Google's fake through the real client, a real Radicale."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.fakegoogle import FakeGoogleCalendar
from fakes.radicale_server import RadicaleServer
from tests.backend_contract import BackendContract, Place
from tests.places import GooglePlace, MemoryPlace, RadicalePlace


class TestMemory(BackendContract):
    @pytest.fixture
    def place(self) -> Place:
        return MemoryPlace()


class TestGoogle(BackendContract):
    @pytest.fixture
    def place(self, google_fake: FakeGoogleCalendar) -> Place:
        return GooglePlace(google_fake)


class TestCalDAV(BackendContract):
    @pytest.fixture
    def place(self, radicale: RadicaleServer, tmp_path: Path) -> Place:
        return RadicalePlace(radicale, tmp_path / "state" / "known.json")
