"""Talking to Google Calendar: the service, one call with its retries, what failed.

Google's errors guide says which errors to retry (429, 5xx, 403 rate limits), with
exponential backoff; everything else is a GoogleFailure with one clear sentence.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from typing import Any

# google-api-core warns on import, from a date that depends on the running Python's end
# of life, that Google will stop supporting it: advice for developers, not for athletes,
# and a line that would appear before calsync's own one-line messages from that day on.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\.")
    import google_auth_httplib2
    import httplib2
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError
    from googleapiclient.http import BatchHttpRequest

from calsync.errors import AuthRefused, RateLimited, Rejected, TargetError, Unreachable, for_status
from calsync.io import limits
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

ENDPOINT_VARIABLE = "CALSYNC_GOOGLE_ENDPOINT"
GOOGLE_ROOT = "https://www.googleapis.com/"
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
HTTP_FAILURES = (HttpError, OSError, httplib2.HttpLib2Error, TransportError)
# The other modules take Google's classes from here, so the filter above is always in place.
__all__ = ["BatchHttpRequest", "HttpError", "RefreshError", "TransportError"]


class GoogleFailure(Rejected):
    """Google refused (an HTTP status no other kind of TargetError names): one clear
    sentence for the user, and the status, which the listing acts on (404, 410)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        # Both fields to Exception: the error stays picklable (cls(*args)).
        super().__init__(message, status)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class CalendarGone(GoogleFailure):
    """The calendar id calsync remembered no longer exists (404): find it by name again."""


def expired_message() -> str:
    return "Google refused the saved token (expired or revoked): run `calsync auth google` again"


def endpoint() -> str:
    return os.environ.get(ENDPOINT_VARIABLE) or GOOGLE_ROOT


def build_service(credentials: Any, root: str, timeout: float = 60) -> Any:
    authorized = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=timeout)
    )
    options = None if root == GOOGLE_ROOT else {"api_endpoint": root}
    return build("calendar", "v3", http=authorized, static_discovery=True, client_options=options)


def batch_uri(root: str) -> str:
    # googleapiclient builds the batch URL from the discovery document, not from
    # api_endpoint, so an overridden endpoint needs its own batch URI.
    return root.rstrip("/") + "/batch/calendar/v3"


# --- calls, retries --------------------------------------------------------------


def _reason(error: HttpError) -> str:
    try:
        details = json.loads(error.content.decode("utf-8", "replace"))["error"]
        return str((details.get("errors") or [{}])[0].get("reason", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def retriable(error: Exception) -> bool:
    if isinstance(error, HttpError):
        status = error.resp.status
        return status in RETRY_STATUSES or (status == 403 and _reason(error) in RATE_REASONS)
    return isinstance(error, OSError | httplib2.HttpLib2Error | TransportError)


def retry_after(error: Exception) -> float | None:
    if isinstance(error, HttpError):
        value = error.resp.get("retry-after")
        if value and str(value).isdigit():
            return float(value)
    return None


def describe(error: Exception) -> str:
    if isinstance(error, HttpError):
        return f"HTTP {error.resp.status} {_reason(error) or error.reason}".strip()
    return f"{type(error).__name__}: {error}"


def failure(error: Exception) -> TargetError:
    """What an error of Google's client means (errors.py), as one sentence; a refusal
    keeps Google's HTTP status (`GoogleFailure.status`)."""
    message = f"Google Calendar: {describe(error)}"
    if not isinstance(error, HttpError):
        return Unreachable(message)
    status = error.resp.status
    if status == 403 and _reason(error) in RATE_REASONS:
        return RateLimited(message)
    kind = for_status(status)
    return GoogleFailure(message, status) if kind is Rejected else kind(message)


def call(request: Any, retry: Retry, landed: Callable[[], Any] | None = None) -> Any:
    """Execute one request, retrying what Google says may be retried (`Retry.run`).

    `landed`, for a request that is not idempotent, looks before each retry
    whether the failed attempt took effect after all, and returns its result
    (None: send it again).
    """

    def attempt(last: bool) -> Any:
        try:
            with limits.request("Google Calendar"):
                return request.execute(num_retries=0)
        except RefreshError:
            raise AuthRefused(expired_message()) from None
        except Exception as error:
            if retriable(error):
                raise Again(failure(error), retry_after(error)) from None
            if isinstance(error, HTTP_FAILURES):
                raise failure(error) from None
            raise

    return retry.run(attempt, landed)
