"""Signing in: the scopes calsync asks for, the token file, the service-account key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calsync.errors import AuthRefused, Unreachable
from calsync.io import limits
from calsync.targets.google.calls import (
    GoogleFailure,
    RefreshError,
    TransportError,
    expired_message,
)

# The narrowest scopes that do the job: make and fill calsync's own calendar,
# find it by name, write events when the user names another calendar, and read
# free/busy time (never event details) from the calendars given with --busy.
SCOPES = [
    "https://www.googleapis.com/auth/calendar.app.created",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.freebusy",
]
BUSY_SCOPE, OTHER_CALENDARS_SCOPE = SCOPES[3], SCOPES[2]


def scopes_for(busy: bool = False, other_calendars: bool = False) -> list[str]:
    """What `calsync auth google` asks for: calsync's own calendar always, the rest on request."""
    return [
        scope
        for scope in SCOPES
        if (scope != BUSY_SCOPE or busy) and (scope != OTHER_CALENDARS_SCOPE or other_calendars)
    ]


def save_token(path: Path, credentials_json: str) -> None:
    """Write a token readable by its owner only, atomically."""
    from calsync.io.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, credentials_json.encode(), mode=0o600)


def load_credentials(token: Path | None, service_account: Path | None) -> Any:
    if service_account is not None:
        from google.oauth2 import service_account as sa

        try:
            # google-auth leaves these class methods unannotated: typed as Any here.
            from_file: Any = sa.Credentials.from_service_account_file
            return from_file(str(service_account), scopes=SCOPES)
        except (OSError, ValueError) as err:
            raise GoogleFailure(
                f"cannot use the service account file {service_account}: {err}"
            ) from None
    from google.auth.transport.requests import Request

    assert token is not None
    if not token.exists():
        raise GoogleFailure(f"no Google token at {token}: run `calsync auth google` first")
    try:
        text = token.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GoogleFailure(f"cannot read the Google token {token}: {err}") from None
    credentials = _credentials_from(text, token)
    if not credentials.valid and credentials.refresh_token:
        try:
            with limits.request("Google's sign-in server"):
                credentials.refresh(Request())
        except RefreshError:
            raise AuthRefused(expired_message()) from None
        except TransportError as err:
            raise Unreachable(f"cannot reach Google to refresh the token: {err}") from None
        save_token(token, credentials.to_json())
    return credentials


def _credentials_from(text: str, token: Path) -> Any:
    """The credentials in a token file's text; BadInput naming the file when it is damaged."""
    from google.oauth2.credentials import Credentials

    from calsync.errors import BadInput

    def damaged(problem: str) -> BadInput:
        return BadInput(
            f"{token}: {problem}; it is not a usable Google token (run `calsync auth google` "
            "to write a new one)"
        )

    try:
        info = json.loads(text)
    except ValueError as err:
        raise damaged(f"not JSON ({err})") from None
    if not isinstance(info, dict):
        raise damaged(f"a JSON {type(info).__name__} where an object was expected")
    try:
        from_info: Any = Credentials.from_authorized_user_info  # unannotated, as above
        return from_info(info)
    except (ValueError, TypeError, AttributeError, KeyError) as err:
        raise damaged(str(err).rstrip(".")) from None
