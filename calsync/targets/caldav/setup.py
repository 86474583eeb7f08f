"""Setting up one CalDAV sync: the URL and the password checked, the calendar found, the
backend opened and handed to the engine, under the calendar's lock.

Shared by `calsync sync caldav` and `calsync refresh`; each says how its
messages name the settings (`names`: flags or config keys) and how warnings
are shown (`warn`). Nothing here imports click.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from calsync.errors import BadInput
from calsync.sync.run import quiet, sync_plan
from calsync.targets import secrets as secret_sources
from calsync.targets.caldav.backend import CalDAVBackend
from calsync.targets.caldav.discovery import Located, locate_calendar
from calsync.targets.caldav.http import (
    CALDAV_RETRY,
    HTTPClient,
    Transport,
    make_client,
    public_url,
    server_of,
)
from calsync.targets.caldav.names import COMMAND_LINE, Names, Warn, plain_warning
from calsync.targets.caldav.pool import current_jobs
from calsync.targets.caldav.where import Whereabouts, forget, keep, recall, where_path
from calsync.targets.retry import Retry

if TYPE_CHECKING:
    from calsync.core.model import Plan
    from calsync.sync.engine import ProgressFor, SyncReport
    from calsync.sync.request import SyncRequest

KEYRING_SERVICE = "calsync:{host}"


class PasswordError(BadInput):
    """The password could not be read from where the user said it is (bad input)."""


def resolve_password(
    password_file: Path | None,
    password_env: str | None,
    use_keyring: bool,
    username: str | None,
    url: str,
    names: Names = COMMAND_LINE,
) -> str | None:
    """The password from a file, an environment variable or the system keyring (first
    given wins); None when none is given. Never from the command line itself."""
    if password_file is not None:
        return secret_sources.from_file(password_file, "password", PasswordError)
    if password_env:
        return secret_sources.from_env(password_env, PasswordError)
    if use_keyring:
        if not username:
            raise PasswordError(
                f"the keyring needs {names.username} to know whose password to read"
            )
        service = KEYRING_SERVICE.format(host=urlsplit(url).hostname or "")
        return secret_sources.from_keyring(service, username, "password", PasswordError)
    if username:
        raise PasswordError(f"no password given: use {names.password}")
    return None


def check_url(url: str, names: Names = COMMAND_LINE) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{names.url} must be an http:// or https:// URL, not '{public_url(url)}'")
    if parts.password:
        raise BadInput(
            f"{names.url} holds a password: give it with a password file, an environment "
            "variable or the keyring instead"
        )


@dataclass(frozen=True)
class Account:
    """Where and as whom: the URL and calendar given, the credentials, the TLS choice."""

    url: str
    calendar: str | None
    username: str | None
    password: str | None
    insecure: bool

    @property
    def identity(self) -> str:
        """The URL and calendar name given: one lock and one remembered calendar each."""
        return f"{public_url(self.url)}\n{self.calendar or ''}"

    def connect(self) -> HTTPClient:
        return make_client(self.url, self.username, self.password, self.insecure)


def caldav_target(
    plan: Plan,
    request: SyncRequest,
    url: str,
    calendar: str | None,
    username: str | None,
    password: str | None,
    busy_calendars: tuple[str, ...],
    insecure: bool,
    *,
    state_path: Path | None = None,
    client: HTTPClient | None = None,
    retry: Retry = CALDAV_RETRY,
    progress: ProgressFor = quiet,
    warn: Warn = plain_warning,
    names: Names = COMMAND_LINE,
) -> SyncReport:
    """One CalDAV sync, for `calsync.targets.open` (which has checked the URL) and tests
    (the keyword-only arguments: a state file, a counting or failing client, no waits
    between retries). `names` says how messages name the settings (flags, or a refresh
    config's keys). The state file is, by default, the one of the calendar found (see
    `CalDAVBackend`)."""
    from calsync.io.locks import writing

    jobs = current_jobs()
    account = Account(url, calendar, username, password, insecure)
    if not insecure and (
        urlsplit(url).scheme == "http"
        and password
        and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1")
    ):
        warn(f"the password goes to {server_of(url)} unencrypted (http://, not https://)")
    label = f"the CalDAV calendar at {public_url(url)}" + (f" '{calendar}'" if calendar else "")
    with (
        _tls_as_asked(insecure, names, warn),
        writing("caldav", account.identity, label, request.dry_run),
    ):
        # Each writing thread opens its own client; a client given (a test's) is shared.
        connect = None if client else account.connect
        transport = Transport(client or account.connect(), retry, connect, names)
        backend, name = Opening(account, transport, state_path, jobs, warn).open(plan, request)
        backend.label = f"caldav:{name}"
        return sync_plan(backend, plan, request, busy_calendars, progress)


@contextmanager
def _tls_as_asked(insecure: bool, names: Names, warn: Warn) -> Iterator[None]:
    """With `insecure`, said loudly, once for the run."""
    if insecure:
        warn(
            f"{names.insecure}: the server's TLS certificate is NOT checked; anyone on the "
            "network path can read your password and calendar"
        )
    yield


@dataclass(frozen=True)
class Opening:
    """Opens the backend: the calendar an earlier run found, straight away (and found
    afresh if it is gone), or the calendar found (or made) from the URL given."""

    account: Account
    transport: Transport
    state_path: Path | None
    jobs: int
    warn: Warn

    def open(self, plan: Plan, request: SyncRequest) -> tuple[CalDAVBackend, str]:
        where_file = where_path(self.account.identity)
        remembered = recall(where_file, self.account.identity, self.warn)
        if remembered is None:
            located = self._locate(plan.title, request.dry_run)
        else:  # found by an earlier run: straight to the listing
            located = Located(remembered.calendar_url, remembered.name, remembered.home_url, False)
        backend = CalDAVBackend(
            self.transport,
            located.calendar_url or self.account.url,
            self.state_path,
            stamp=request.now,
            zone=plan.zone,
            home_url=located.home_url,
            jobs=self.jobs,
            warn=self.warn,
        )
        if located.created or located.calendar_url is None:
            backend.fresh = True
            backend.absent = located.calendar_url is None
            backend.known.clear()  # a new calendar under an old URL holds none of the old keys
        if remembered is not None:

            def relocate() -> None:
                forget(where_file)
                found = self._locate(plan.title, request.dry_run)
                absent = found.calendar_url is None
                url = found.calendar_url or self.account.url
                backend.point_at(url, found.home_url, found.created or absent, absent)

            backend.relocate = relocate
        return backend, located.name

    def _locate(self, title: str, dry_run: bool) -> Located:
        account = self.account
        found = locate_calendar(
            self.transport, account.url, account.calendar, title, create=not dry_run
        )
        if found.calendar_url is not None and not dry_run:
            where = Whereabouts(found.calendar_url, found.name, found.home_url)
            keep(where_path(account.identity), account.identity, where, self.warn)
        return found
