"""The HTTP client for intervals.icu: Basic auth with the API key, bounded waits,
retries when the server says so, and one-line errors that never show the key."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from calsync.errors import AuthRefused, BadInput, Rejected, TargetError, Unreachable, for_status
from calsync.io import limits
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

ENDPOINT_VARIABLE = "CALSYNC_INTERVALS_ENDPOINT"
INTERVALS_ROOT = "https://intervals.icu/"
USER = "API_KEY"  # the literal Basic-auth user name for a personal API key
TIMEOUT = (10.0, 60.0)  # seconds to connect, seconds to wait for an answer
INTERVALS_RETRY = Retry()


# intervals.icu refused: one sentence, never the API key. The client raises the other
# kinds (errors.py: Unreachable, AuthRefused, RateLimited) from what it was answered.
IntervalsFailure = Rejected


def endpoint() -> str:
    root = os.environ.get(ENDPOINT_VARIABLE) or INTERVALS_ROOT
    parts = urlsplit(root)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.password:
        raise BadInput(f"{ENDPOINT_VARIABLE} must be a root URL such as https://intervals.icu/")
    if parts.scheme == "http" and not loopback:
        raise BadInput(
            f"{ENDPOINT_VARIABLE} must be https:// (plain http only on this machine): "
            "the API key goes with every request"
        )
    return root if root.endswith("/") else root + "/"


def _retry_after(answer: requests.Response) -> float | None:
    """Retry-After in seconds (an HTTP date is left to the backoff); Retry.wait bounds it."""
    try:
        seconds = float(answer.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def describe(answer: requests.Response) -> str:
    """The status, and for a refusal the server's own reason (`{"error": ...}`), one line."""
    text = f"HTTP {answer.status_code} {answer.reason or ''}".strip()
    if 400 <= answer.status_code < 500:
        try:
            reason = answer.json().get("error")
        except (ValueError, AttributeError):
            reason = None
        if isinstance(reason, str) and reason.strip():
            text += ": " + " ".join(reason.split())[:200]
    return text


class Lost(Exception):
    """A request whose answer never came (or was an error worth retrying)."""

    def __init__(
        self, why: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(why)
        self.retry_after = retry_after
        self.status = status  # None: no answer at all

    def failure(self) -> TargetError:
        """What it becomes when no retry is left (errors.py)."""
        kind = Unreachable if self.status is None else for_status(self.status)
        return kind(str(self))


class Client:
    """Every request goes through here: Basic auth, bounded waits, retries, clear errors."""

    def __init__(
        self,
        root: str,
        api_key: str,
        retry: Retry = INTERVALS_RETRY,
        session: requests.Session | None = None,
    ) -> None:
        self.root = root
        self.retry = retry
        self.session = session or requests.Session()
        self.session.auth = (USER, api_key)
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str) -> str:
        return urljoin(self.root, path.lstrip("/"))

    def once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """One attempt: the answer, or `Lost` for what may be retried; fatal errors raise."""
        try:
            with limits.request("intervals.icu"):  # the whole answer, within the request limit
                answer = self.session.request(
                    method,
                    self.url(path),
                    params=params,
                    json=body,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
        except requests.exceptions.SSLError:
            raise Unreachable(
                f"the TLS certificate of {server(self.root)} could not be verified"
            ) from None
        except (requests.exceptions.RequestException, OSError) as err:
            raise Lost(f"no answer from {server(self.root)} ({type(err).__name__})") from None
        if answer.status_code in RETRY_STATUSES:
            raise Lost(
                f"intervals.icu: {describe(answer)}", _retry_after(answer), answer.status_code
            )
        if answer.status_code == 401:
            raise AuthRefused(
                f"intervals.icu refused the API key ({describe(answer)}); check it in "
                "intervals.icu Settings, Developer Settings"
            )
        return answer

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """A request that may be sent twice (GET, PUT): retried when the server says so."""

        def attempt(last: bool) -> requests.Response:
            try:
                return self.once(method, path, params, body)
            except Lost as lost:
                raise Again(lost.failure(), lost.retry_after) from None

        return self.retry.run(attempt)

    def json(self, method: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        answer = self.send(method, path, params)
        if answer.status_code != 200:
            raise IntervalsFailure(f"intervals.icu: {method} {path}: {describe(answer)}")
        try:
            return answer.json()
        except ValueError:
            raise IntervalsFailure(
                f"intervals.icu sent an answer to {path} that is not JSON"
            ) from None


def server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
