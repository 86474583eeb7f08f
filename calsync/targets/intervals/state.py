"""What calsync made on one athlete's calendar: a small state file, key -> id, start,
name and hash, so that a workout the athlete deleted is not made again
(`calsync.sync.made`: a damaged file is one warning, and the run starts afresh)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from calsync.sync.made import MadeSessions
from calsync.targets.intervals.client import server


def default_state_path(root: str, athlete_id: str) -> Path:
    from calsync.io.places import state_dir

    digest = hashlib.sha256(f"{server(root)} {athlete_id}".encode()).hexdigest()[:32]
    return state_dir() / "intervals" / f"{digest}.json"


class Made(MadeSessions):
    """The workouts calsync has made on one athlete's calendar (see `calsync.sync.made`):
    key -> id, start, name, hash."""

    NAME = "intervals.icu state file"
    REF = "id"
    TEXTS = ("name", "hash")

    def remember(
        self, plan: str, key: str, ref: str, start: datetime, name: str, hash_: str
    ) -> None:
        entry = {"plan": plan, "id": ref, "start": start.isoformat(), "name": name, "hash": hash_}
        self.keep(key, entry)
