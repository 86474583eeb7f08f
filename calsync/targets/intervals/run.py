"""One intervals.icu sync, as `sync intervals` and `refresh` run it: the API key from
where the user keeps it, the athlete checked, the lock taken, the engine run."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calsync.errors import BadInput
from calsync.io import limits
from calsync.sync.backend import Warn, warn_on_stderr
from calsync.sync.run import quiet, sync_plan
from calsync.targets import secrets as secret_sources
from calsync.targets.intervals.backend import IntervalsBackend, fetch_athlete
from calsync.targets.intervals.client import (
    INTERVALS_RETRY,
    USER,
    Client,
    endpoint,
    server,
)
from calsync.targets.intervals.state import default_state_path
from calsync.targets.intervals.workout import types_for
from calsync.targets.retry import Retry

if TYPE_CHECKING:
    from calsync.core.model import Plan
    from calsync.sync.engine import ProgressFor, SyncReport
    from calsync.sync.request import SyncRequest

KEYRING_SERVICE = "calsync:intervals.icu"
ATHLETE = re.compile(r"0|i?[0-9]+")  # fullmatch: it becomes part of every URL


class ApiKeyError(BadInput):
    """The API key could not be read from where the user said it is (bad input)."""


def resolve_api_key(key_file: Path | None, key_env: str | None, use_keyring: bool) -> str:
    """The API key from a file (its first line), an environment variable or the system
    keyring; never from the command line, where `ps` and the shell history would show it."""
    given = [n for n, v in (("file", key_file), ("env", key_env), ("keyring", use_keyring)) if v]
    if len(given) != 1:
        raise ApiKeyError(
            "give the intervals.icu API key with exactly one of --api-key-file FILE, "
            "--api-key-env NAME or --keyring"
        )
    if key_file is not None:
        return secret_sources.from_file(key_file, "API key", ApiKeyError, strip=True)
    if key_env:
        return secret_sources.from_env(key_env, ApiKeyError, strip=True)
    return secret_sources.from_keyring(KEYRING_SERVICE, USER, "API key", ApiKeyError)


def check_athlete(athlete: str) -> str:
    if not ATHLETE.fullmatch(athlete):
        raise BadInput(
            f"--athlete must be 0 (the API key's owner) or an athlete id such as i12345, "
            f"not '{athlete}'"
        )
    return athlete


# --- one sync, as the command line and refresh run it ---------------------------------


def intervals_target(
    plan: Plan,
    request: SyncRequest,
    athlete: str,
    api_key: str,
    ride: str = "Ride",
    indoor: Sequence[str] = (),
    *,
    state_path: Path | None = None,
    retry: Retry = INTERVALS_RETRY,
    progress: ProgressFor = quiet,
    warn: Warn = warn_on_stderr,
) -> SyncReport:
    """One intervals.icu sync, for `calsync.targets.open` (which has checked the athlete,
    see `check_athlete`) and tests (the keyword-only arguments: a state file, no waits
    between retries)."""
    from calsync.io.locks import writing

    types = types_for(plan, ride, indoor)
    root = endpoint()
    client = Client(root, api_key, retry)
    try:
        with limits.run(limits.Limits.from_environ(os.environ)):
            found = fetch_athlete(client, athlete, plan.zone)
            # One lock per athlete and server, whichever command writes there (see `locks`).
            label = f"the intervals.icu calendar of athlete {found.id}"
            with writing("intervals", f"{server(root)}\n{found.id}", label, request.dry_run):
                state = state_path or default_state_path(root, found.id)
                backend = IntervalsBackend(client, found, types, state, warn)
                backend.label = f"intervals:{found.id}"
                return sync_plan(backend, plan, request, (), progress)
    finally:
        client.session.close()
