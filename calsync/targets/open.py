"""The one place a sync target is opened, from a command's options or a refresh config.

`calsync sync google|caldav|intervals` and `calsync refresh` both describe a
target with one of the dataclasses below, have it checked once (`check_target`:
the CalDAV URL, the intervals.icu athlete, before a plan or a secret is read),
and hand the checked target to `sync_target`, which reads the secret, opens the
backend and runs the engine on it. The libraries of a target are imported only
when that target is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from calsync.core.model import Plan
from calsync.errors import BadInput
from calsync.sync.backend import Warn, warn_on_stderr
from calsync.sync.engine import ProgressFor, SyncReport
from calsync.sync.request import SyncRequest
from calsync.sync.run import quiet, sync_plan
from calsync.targets.retry import Retry

if TYPE_CHECKING:
    from calsync.targets.caldav.names import Names
    from calsync.targets.google import GoogleBackend


@dataclass(frozen=True)
class GoogleTarget:
    name: str | None
    calendar: str | None = None
    token: Path | None = None
    service_account: Path | None = None
    busy: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalDAVTarget:
    name: str | None
    url: str
    calendar: str | None = None
    username: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    keyring: bool = False
    busy: tuple[str, ...] = ()
    insecure: bool = False


@dataclass(frozen=True)
class IntervalsTarget:
    name: str | None
    athlete: str = "0"  # the API key's owner
    api_key_file: Path | None = None
    api_key_env: str | None = None
    keyring: bool = False
    ride_type: str = "Ride"
    indoor: tuple[str, ...] = ()


SyncTarget = GoogleTarget | CalDAVTarget | IntervalsTarget


@dataclass(frozen=True)
class Checked:
    """A target whose options `check_target` found usable: what `sync_target` opens."""

    target: SyncTarget
    from_config: bool = False  # messages name a refresh config's keys, not flags


def _caldav_names(from_config: bool) -> Names:
    from calsync.targets.caldav.names import COMMAND_LINE, CONFIG_FILE

    return CONFIG_FILE if from_config else COMMAND_LINE


def check_target(target: SyncTarget, from_config: bool = False) -> Checked:
    """What can be checked before the plan or any secret is read; BadInput if wrong.
    `from_config`: the target comes from a refresh config, so messages name its keys."""
    if isinstance(target, CalDAVTarget):
        from calsync.targets.caldav import check_url

        check_url(target.url, _caldav_names(from_config))  # before any password is read
    elif isinstance(target, IntervalsTarget):
        from calsync.targets.intervals import check_athlete

        check_athlete(target.athlete)  # it becomes part of every URL
    return Checked(target, from_config)


def sync_target(
    checked: Checked,
    plan: Plan,
    request: SyncRequest,
    progress: ProgressFor = quiet,
    warn: Warn = warn_on_stderr,
) -> SyncReport:
    """One sync of `plan` to the checked target; TargetError (exit 1) when it cannot be done.

    Every warning the target gives is said as it comes (`warn`) and kept in the report,
    so the JSON says it too."""
    said: list[str] = []

    def keep(message: str) -> None:
        said.append(message)
        warn(message)

    report = _sync(checked.target, checked.from_config, plan, request, progress, keep)
    return replace(report, warnings=(*said, *report.warnings))


def _sync(
    target: SyncTarget,
    from_config: bool,
    plan: Plan,
    request: SyncRequest,
    progress: ProgressFor,
    warn: Warn,
) -> SyncReport:
    if isinstance(target, GoogleTarget):
        return _google(target, plan, request, progress, warn)
    if isinstance(target, CalDAVTarget):
        from calsync.targets.caldav import caldav_target, resolve_password

        names = _caldav_names(from_config)
        password = resolve_password(
            target.password_file,
            target.password_env,
            target.keyring,
            target.username,
            target.url,
            names,
        )
        return caldav_target(
            plan,
            request,
            target.url,
            target.calendar,
            target.username,
            password,
            target.busy,
            target.insecure,
            progress=progress,
            warn=warn,
            names=names,
        )
    from calsync.targets.intervals import intervals_target, resolve_api_key

    api_key = resolve_api_key(target.api_key_file, target.api_key_env, target.keyring)
    return intervals_target(
        plan,
        request,
        target.athlete,
        api_key,
        target.ride_type,
        target.indoor,
        progress=progress,
        warn=warn,
    )


def _google(
    target: GoogleTarget, plan: Plan, request: SyncRequest, progress: ProgressFor, warn: Warn
) -> SyncReport:
    from calsync.io.locks import writing
    from calsync.io.places import google_token
    from calsync.targets import google as g

    wanted = target.calendar or plan.title
    root = g.endpoint()
    label = f"the Google calendar '{wanted}'"
    with writing("google", f"{root}\n{wanted}", label, request.dry_run):
        credentials = g.load_credentials(target.token or google_token(), target.service_account)
        granted = getattr(credentials, "granted_scopes", None) or getattr(
            credentials, "scopes", None
        )
        if target.busy and granted and g.BUSY_SCOPE not in granted:
            raise BadInput(
                "the Google token does not allow reading free/busy time: sign in again "
                "with `calsync auth google --busy`"
            )
        service = g.build_service(credentials, root)
        retry = Retry()
        # The calendar id, sync token and picture kept since the last run (issue 15).
        account = target.service_account or target.token or google_token()
        state = g.state_file(root, account, wanted, plan.id)
        start = plan.midnight(request.span.start)
        backend: GoogleBackend = g.open_backend(
            service,
            wanted,
            plan.timezone,
            plan.id,
            start,
            retry,
            g.batch_uri(root),
            request.dry_run,
            state,
            warn,
        )
        backend.label = f"google:{wanted}"
        report = sync_plan(backend, plan, request, target.busy, progress)
        if not request.dry_run and not report.failures:
            g.remember(backend, state, start, warn)
        return report
