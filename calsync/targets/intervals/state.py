"""What calsync made on one athlete's calendar: a small state file, key -> id, start,
name and hash, so that a workout the athlete deleted is not made again."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from calsync.targets.intervals.client import server


def default_state_path(root: str, athlete_id: str) -> Path:
    from calsync.io.places import state_dir

    digest = hashlib.sha256(f"{server(root)} {athlete_id}".encode()).hexdigest()[:32]
    return state_dir() / "intervals" / f"{digest}.json"


class Made:
    """The workouts calsync has made on one athlete's calendar: key -> id, start, name, hash."""

    VERSION = 1

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, str]] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                if document.get("version") == self.VERSION:
                    self.entries = {
                        k: e for k, e in document.get("events", {}).items() if _usable(e)
                    }
            except (OSError, ValueError, AttributeError):
                self.entries = {}  # unreadable: start afresh (see the package note)

    def remember(
        self, plan: str, key: str, ref: str, start: datetime, name: str, hash_: str
    ) -> None:
        entry = {
            "plan": plan,
            "id": ref,
            "start": start.isoformat(),
            "name": name,
            "hash": hash_,
        }
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self.dirty = True

    def forget(self, key: str, ref: str) -> None:
        if self.entries.get(key, {}).get("id") == ref:
            del self.entries[key]
            self.dirty = True

    def missing(
        self, plan_id: str, start: datetime, end: datetime, present: set[str]
    ) -> dict[str, dict[str, str]]:
        return {
            key: entry
            for key, entry in self.entries.items()
            if entry["plan"] == plan_id
            and key not in present
            and start <= datetime.fromisoformat(entry["start"]) < end
        }

    def prune(self, before: datetime) -> None:
        for key in [
            k for k, e in self.entries.items() if datetime.fromisoformat(e["start"]) < before
        ]:
            del self.entries[key]
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        from calsync.io.atomic import write_atomic  # WriteFailure (exit 1) names the file

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"version": self.VERSION, "events": dict(sorted(self.entries.items()))}
        write_atomic(self.path, json.dumps(document, indent=1, ensure_ascii=False).encode())
        self.dirty = False


def _usable(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    try:
        aware = datetime.fromisoformat(entry["start"]).tzinfo is not None
        return aware and all(isinstance(entry[n], str) for n in ("plan", "id", "name", "hash"))
    except (KeyError, TypeError, ValueError):
        return False
