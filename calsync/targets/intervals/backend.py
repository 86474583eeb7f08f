"""The engine's Backend for one athlete's intervals.icu calendar: listing what calsync
made, then bulk creates and deletes and single updates, none of them ever doubled."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from calsync.core.content import EventContent
from calsync.core.model import Busy
from calsync.errors import BadInput, TargetError
from calsync.sync.backend import Warn, warn_on_stderr
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.targets.intervals.client import Client, IntervalsFailure, Lost, describe
from calsync.targets.intervals.state import Made
from calsync.targets.intervals.workout import Types, read_workout, workout_body

BULK_LIMIT = 50  # workouts a bulk request; the API names no limit, this keeps requests small


class Partial(IntervalsFailure):
    """A bulk create that gave up part-way: what is known of each session so far."""

    def __init__(self, why: str, results: list[Result]) -> None:
        super().__init__(why)
        self.results = results


@dataclass(frozen=True)
class Athlete:
    id: str  # the real id ("i12345"), also when the command named athlete 0
    zone: tzinfo  # the athlete's zone; the plan's when the athlete's settings have none


def fetch_athlete(client: Client, athlete: str, plan_zone: tzinfo) -> Athlete:
    answer = client.send("GET", f"api/v1/athlete/{athlete}")
    if answer.status_code in (403, 404):
        raise IntervalsFailure(
            f"intervals.icu has no athlete {athlete} this API key may use ({describe(answer)})"
        )
    if answer.status_code != 200:
        raise IntervalsFailure(f"intervals.icu: reading athlete {athlete}: {describe(answer)}")
    try:
        document = answer.json()
    except ValueError:
        raise IntervalsFailure("intervals.icu sent an athlete that is not JSON") from None
    real = str(document.get("id") or athlete) if isinstance(document, dict) else athlete
    name = document.get("timezone") if isinstance(document, dict) else None
    try:
        return Athlete(real, ZoneInfo(name) if isinstance(name, str) else plan_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return Athlete(real, plan_zone)


class IntervalsBackend:
    """The engine's Backend for one athlete's intervals.icu calendar."""

    def __init__(
        self,
        client: Client,
        athlete: Athlete,
        types: Types,
        state_path: Path | None,
        warn: Warn = warn_on_stderr,
    ) -> None:
        self.client = client
        self.athlete = athlete
        self.types = types
        self.made = Made(state_path, warn)
        self.base = f"api/v1/athlete/{athlete.id}/events"
        self.label = "intervals"  # the target in reports; `intervals_target` names the athlete
        self.fresh = False  # an athlete's calendar always exists: never made by a run

    def busy(
        self, calendars: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """intervals.icu holds workouts, not appointments: there is no busy time to read
        (`sync intervals` has no --busy, and refresh's config allows none)."""
        if calendars:
            raise BadInput("intervals.icu has no calendars to read busy time from")
        return ()

    # --- listing ---

    def _events(self, first: date, last: date) -> list[dict[str, Any]]:
        params = {"oldest": first.isoformat(), "newest": last.isoformat(), "category": "WORKOUT"}
        found = self.client.json("GET", self.base, params)
        if not isinstance(found, list):
            raise IntervalsFailure("intervals.icu sent a list of events that is not a list")
        return [e for e in found if isinstance(e, dict)]

    def _listed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        zone = self.athlete.zone
        first = start.astimezone(zone).date()
        last = (end - timedelta(microseconds=1)).astimezone(zone).date()
        found = []
        for event in self._events(first, last):
            remote = self._read(event, plan_id)
            if remote is not None and start <= remote.start < end:
                found.append(remote)
        return found

    def _read(self, event: Mapping[str, Any], plan_id: str) -> Remote | None:
        remote = read_workout(event, plan_id, self.athlete.zone)
        if remote is None or remote.edited:
            return remote
        wanted = self.types.of_key(remote.key)
        if wanted is not None and event.get("type") != wanted:
            # Untouched, but the ride type asked for changed (--ride-type, --indoor): what
            # it records is not what calsync would write now, so the engine updates it.
            stale = f"type {event.get('type')}"
            return replace(remote, stored=stale, current=stale)
        return remote

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        remotes = self._listed(plan_id, start, end)
        gone = self.made.missing(plan_id, start, end, {r.key for r in remotes})
        for key, entry in sorted(gone.items()):
            remotes.append(self._look_for(key, entry, plan_id))
        # Of copies of one key the engine keeps an untouched one; that is the one remembered.
        remembered: set[str] = set()
        for remote in sorted(remotes, key=lambda r: (r.cancelled, r.edited, r.ref)):
            if not remote.cancelled and remote.key not in remembered:
                remembered.add(remote.key)
                self.made.remember(
                    plan_id, remote.key, remote.ref, remote.start, remote.summary, remote.stored
                )
        self.made.prune(start - timedelta(days=400))
        return remotes  # saved by `apply`: a dry run writes nothing, not even this file

    def _look_for(self, key: str, entry: Mapping[str, str], plan_id: str) -> Remote:
        """A workout calsync made that is not in the range now: moved out of it, or deleted."""
        answer = self.client.send("GET", f"{self.base}/{entry['id']}")
        if answer.status_code == 200:
            try:
                event = answer.json()
            except ValueError:
                event = None
            remote = self._read(event, plan_id) if isinstance(event, dict) else None
            if remote is not None and remote.key == key:
                return remote  # moved by the athlete: edited
        elif answer.status_code not in (404, 410):
            # Without this answer a moved workout cannot be told from a deleted one.
            raise IntervalsFailure(
                f"intervals.icu: reading workout {entry['id']}: {describe(answer)}"
            )
        return Remote(
            key=key,
            ref=entry["id"],
            start=datetime.fromisoformat(entry["start"]),
            summary=entry["name"],
            stored=entry["hash"],
            current="",
            cancelled=True,
        )

    # --- writing ---

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        results: dict[int, Result] = {}
        fatal: str | None = None
        creates = [i for i, c in enumerate(changes) if c.action is Action.CREATE]
        deletes = [i for i, c in enumerate(changes) if c.action is Action.DELETE]
        updates = [i for i, c in enumerate(changes) if c.action is Action.UPDATE]
        steps: list[tuple[Callable[[list[Change]], list[Result]], list[int]]] = []
        steps += [(self._delete, chunk) for chunk in _chunks(deletes, BULK_LIMIT)]
        steps += [(self._create, chunk) for chunk in _chunks(creates, BULK_LIMIT)]
        steps += [(self._update, [i]) for i in updates]
        try:
            for step, chunk in steps:
                batch = [changes[i] for i in chunk]
                if fatal is None:
                    try:
                        done = step(batch)
                    except TargetError as err:
                        # The server is gone or refuses us: every further write would too.
                        fatal = str(err)
                        done = getattr(err, "results", None) or [
                            Result(c, Outcome.FAILED, fatal) for c in batch
                        ]
                else:
                    done = [Result(c, Outcome.FAILED, f"not tried: {fatal}") for c in batch]
                results.update(zip(chunk, done, strict=True))
                progress(len(chunk))
        finally:
            self.made.save()  # what landed is remembered even if the run is cut short
        return [results[i] for i in range(len(changes))]

    def _body(self, content: EventContent) -> dict[str, Any]:
        return workout_body(content, self.types.of(content), self.athlete.zone)

    def _remember(self, content: EventContent, ref: str) -> None:
        self.made.remember(
            content.plan, content.key, ref, content.start, content.summary, content.fingerprint
        )

    def _create(self, batch: list[Change]) -> list[Result]:
        """One bulk create. A create is not idempotent here, so after a failed attempt the
        range is listed again and only the sessions still missing are sent once more."""
        outcome: dict[str, Result] = {}

        def known(error: str) -> list[Result]:
            return [outcome.get(c.key) or Result(c, Outcome.FAILED, error) for c in batch]

        try:
            for attempt in range(self.client.retry.attempts):
                pending = [c for c in batch if c.key not in outcome]
                if not pending:
                    break
                try:
                    answer = self.client.once(
                        "POST",
                        f"{self.base}/bulk",
                        {"upsert": "true"},
                        [self._body(_content(c)) for c in pending],
                    )
                except Lost as lost:
                    if attempt == self.client.retry.attempts - 1:
                        raise lost.failure() from None
                    self.client.retry.wait(attempt, lost.retry_after)
                    outcome.update(self._landed(pending))
                    continue
                if answer.status_code != 200:
                    return known(describe(answer))
                outcome.update(self._created(pending, answer))
        except TargetError as err:
            raise Partial(str(err), known(str(err))) from None
        return known("not created")

    def _created(self, pending: Sequence[Change], answer: requests.Response) -> dict[str, Result]:
        try:
            made = answer.json()
        except ValueError:
            made = None
        if not isinstance(made, list) or len(made) != len(pending):
            # Created, but which id is which cannot be read: the listing tells.
            return self._landed(pending)
        found: dict[str, Result] = {}
        for change, event in zip(pending, made, strict=True):
            if isinstance(event, dict) and "id" in event:
                self._remember(_content(change), str(event["id"]))
            found[change.key] = Result(change, Outcome.DONE)
        return found

    def _landed(self, pending: Sequence[Change]) -> dict[str, Result]:
        """Which of these creates took effect after all (their answer was lost)."""
        contents = [c.content for c in pending if c.content is not None]
        start = min(c.start for c in contents)
        end = max(c.start for c in contents) + timedelta(seconds=1)
        plan = contents[0].plan
        found: dict[str, Result] = {}
        by_key = {c.key: c for c in pending}
        for remote in self._listed(plan, start, end):
            change = by_key.get(remote.key)
            if change is None or change.key in found or change.content is None:
                continue
            if remote.stored == change.content.fingerprint and not remote.edited:
                self._remember(change.content, remote.ref)
                found[change.key] = Result(change, Outcome.DONE)
        return found

    def _update(self, batch: list[Change]) -> list[Result]:
        (change,) = batch
        assert change.content is not None and change.remote is not None
        if change.remote.cancelled:  # deleted by the athlete, restored on request
            return self._create(batch)
        answer = self.client.send(
            "PUT", f"{self.base}/{change.remote.ref}", body=self._body(change.content)
        )
        if answer.status_code == 200:
            self._remember(change.content, change.remote.ref)
            return [Result(change, Outcome.DONE)]
        if answer.status_code in (404, 410):
            # Deleted by the athlete between our read and our write: theirs to decide.
            self.made.forget(change.key, change.remote.ref)
            return [Result(change, Outcome.EDITED)]
        return [Result(change, Outcome.FAILED, describe(answer))]

    def _delete(self, batch: list[Change]) -> list[Result]:
        # Forgotten (on disk) before they are sent: a delete that lands while its answer is
        # lost, and the run then breaks, must not read as the athlete's deletion next time
        # (the session would never come back if the plan wanted it again). A workout the
        # delete missed is listed again by the next run and remembered again.
        for change in batch:
            assert change.remote is not None
            self.made.forget(change.key, change.remote.ref)
        self.made.save()
        # Ids that no longer exist are ignored, so a resent delete is harmless.
        doomed = [{"id": int(c.remote.ref)} for c in batch if c.remote is not None]
        answer = self.client.send("PUT", f"{self.base}/bulk-delete", body=doomed)
        if answer.status_code != 200:
            return [Result(c, Outcome.FAILED, describe(answer)) for c in batch]
        return [Result(c, Outcome.DONE) for c in batch]


def _content(change: Change) -> EventContent:
    """What a create writes: the engine gives every create its content."""
    assert change.content is not None, change.key
    return change.content


def _chunks(items: Sequence[int], size: int) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
