"""The intervals.icu backend: the plan's sessions as planned workouts on the athlete's calendar.

Imported only by the intervals commands. It follows the intervals.icu API as its
OpenAPI document describes it (https://intervals.icu/api/v1/docs):

- HTTP Basic auth, user name `API_KEY`, the athlete's API key as the password;
  athlete id `0` is the key's owner;
- `GET /api/v1/athlete/{id}`: the athlete, with the `timezone` that every
  `start_date_local` is written in;
- `GET /api/v1/athlete/{id}/events?oldest=&newest=&category=WORKOUT` (local dates,
  `newest` inclusive), `POST .../events/bulk?upsert=true`, `GET`/`PUT .../events/{id}`,
  `PUT .../events/bulk-delete` (by id; ids that no longer exist are ignored).

The documents do not settle idempotency: upsert by `external_id` only matches events
"created by the same OAuth application", which a personal API key is not. So calsync
does not rely on it. Its workouts carry `external_id = calsync:KEY` and a last line in
the description, `calsync: KEY HASH SEEN`, with the fingerprint of the plan's version
(HASH, what the engine compares with the plan) and of the fields written (SEEN: name,
description, start, type, category). A workout whose fields no longer give SEEN was
edited by the athlete. A bulk create whose answer was lost is never simply resent:
the range is listed again first, and only the sessions still missing are sent.

intervals.icu deletes events outright, so (as for CalDAV) a small state file remembers
which workouts calsync made: one that is gone was deleted by the athlete and is not
recreated (unless --restore-deleted). Losing the file is safe: deleted sessions come
back, nothing is duplicated.
"""

from calsync.targets.intervals.client import ENDPOINT_VARIABLE, IntervalsFailure
from calsync.targets.intervals.run import (
    KEYRING_SERVICE,
    ApiKeyError,
    check_athlete,
    intervals_target,
    resolve_api_key,
)
from calsync.targets.intervals.workout import read_workout, split_marker, workout_body

__all__ = [
    "ENDPOINT_VARIABLE",
    "KEYRING_SERVICE",
    "ApiKeyError",
    "IntervalsFailure",
    "check_athlete",
    "intervals_target",
    "read_workout",
    "resolve_api_key",
    "split_marker",
    "workout_body",
]
