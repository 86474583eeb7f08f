"""What calsync made in a calendar that keeps no tombstones: one small JSON file per calendar.

CalDAV and intervals.icu forget a deleted event entirely, so this file is how a
later run tells "the user deleted it" (do not recreate) from "it was never
there" (create): each session key calsync made, with the plan, where the event
is (`REF`: an href, an id), when it starts, and what a report names it by.

Losing it is safe: deleted sessions would be made again, nothing duplicated. So a
file that cannot be read, or is damaged, is said once (naming it) and the run
starts afresh; one that cannot be written is said once too, after the writes,
which have landed. Each backend keeps its own entry shape (`MadeSessions`
subclasses); loading, checking, pruning and saving are done here, once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from calsync.io.atomic import WriteFailure, write_atomic
from calsync.sync.backend import Warn, warn_on_stderr


class MadeSessions:
    """The sessions calsync made in one calendar, by key."""

    VERSION = 1
    NAME: ClassVar[str] = "state file"  # how messages name the file ("the CalDAV state file")
    REF: ClassVar[str] = "ref"  # the field holding the backend's handle of the event
    TEXTS: ClassVar[tuple[str, ...]] = ()  # other text fields every entry has

    def __init__(self, path: Path | None, warn: Warn | None = None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.warn = warn or warn_on_stderr
        self.lock = threading.RLock()  # several writing threads remember and forget
        if path is not None and path.exists():
            problem = self._load(path)
            if problem:
                # Start afresh (see the module note), and say so: sessions the user
                # deleted from this calendar before may come back on this run.
                self.warn(
                    f"the {self.NAME} {path} {problem}; calsync no longer knows which "
                    "sessions you deleted from this calendar, so they may come back"
                )

    def _load(self, path: Path) -> str | None:
        """Read the file; what is wrong with it, or None."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            return f"cannot be read ({err.strerror or err})"
        except ValueError as err:  # UnicodeDecodeError too
            return f"is damaged (not JSON: {err})"
        if not isinstance(document, dict) or not isinstance(document.get("events"), dict):
            return "is damaged (no 'events' object)"
        if document.get("version") != self.VERSION:
            return f"has an unknown version {document.get('version')!r}"
        self.read_extra(document)
        events = document["events"]
        # An entry calsync cannot use is dropped, like a lost file (safe).
        self.entries = {k: e for k, e in events.items() if self.usable(e)}
        dropped = len(events) - len(self.entries)
        if dropped:
            return f"is damaged ({dropped} unusable entr{'y' if dropped == 1 else 'ies'} dropped)"
        return None

    def usable(self, entry: Any) -> bool:
        """An entry with everything `missing`, `prune` and the backend read: an aware
        start, and the plan, `REF` and `TEXTS` as text."""
        if not isinstance(entry, dict):
            return False
        try:
            aware = datetime.fromisoformat(entry["start"]).tzinfo is not None
            texts = ("plan", self.REF, *self.TEXTS)
            return aware and all(isinstance(entry[name], str) for name in texts)
        except (KeyError, TypeError, ValueError):
            return False

    def keep(self, key: str, entry: dict[str, Any]) -> None:
        with self.lock:
            if self.entries.get(key) != entry:
                self.entries[key] = entry
                self.dirty = True

    def forget(self, key: str, ref: str | None = None) -> None:
        """Forget a key; with `ref`, only if that is where the key's event is (deleting
        a duplicate must not forget the event that stays)."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and (ref is None or entry[self.REF] == ref):
                del self.entries[key]
                self.dirty = True

    def missing(
        self, plan_id: str, start: datetime, end: datetime, present: set[str]
    ) -> dict[str, dict[str, Any]]:
        """The plan's sessions in the range that the calendar did not list."""
        return {
            key: entry
            for key, entry in self.entries.items()
            if entry["plan"] == plan_id
            and key not in present
            and start <= datetime.fromisoformat(entry["start"]) < end
        }

    def prune(self, before: datetime) -> None:
        """Forget sessions long past: no run looks at them again."""
        for key, entry in list(self.entries.items()):
            if datetime.fromisoformat(entry["start"]) < before:
                self.forget(key)

    def read_extra(self, document: Mapping[str, Any]) -> None:
        """Take what a subclass keeps in the file beside the entries (`extra`)."""

    def extra(self) -> Mapping[str, Any]:
        """What a subclass keeps in the file beside the entries."""
        return {}

    def save(self) -> None:
        with self.lock:
            if self.path is None or not self.dirty:
                return
            document = {
                "version": self.VERSION,
                "events": dict(sorted(self.entries.items())),
                **self.extra(),
            }
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_atomic(self.path, json.dumps(document, indent=1, ensure_ascii=False).encode())
            except OSError as err:
                self.warn(f"cannot write the {self.NAME} {self.path}: {err.strerror or err}")
            except WriteFailure as err:
                # The calendar itself is in step; only the memory of deletions is not.
                self.warn(f"{err}; the next run may not know which sessions you delete")
            self.dirty = False
