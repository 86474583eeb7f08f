"""HTTP for the CalDAV target: every request, its retries, and one clear message.

`Transport` sends every request of a run: retried (with bounded waits) on the
statuses and errors that may pass, every other failure turned into a
`CalDAVFailure` of one sentence that never holds a password. A lost answer is
retried too: writes are conditional, so a write that landed answers 412 the
second time, never a duplicate.
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import quote, urljoin, urlsplit

from calsync.errors import AuthRefused, RateLimited, Rejected, Unreachable
from calsync.io import limits
from calsync.targets.caldav.names import COMMAND_LINE, Names
from calsync.targets.caldav.wire import (
    REDIRECTS,
    Answer,
    AuthorizationError,
    Client,
    NotXML,
    RateLimitError,
)
from calsync.targets.caldav.xml import PATH_SAFE
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

# A CalDAV server answers or it does not: fewer, shorter waits than for Google's quotas.
CALDAV_RETRY = Retry(attempts=4, cap=16.0)

# The server refused or answered nonsense: one clear sentence, never a password. The
# transport raises the other kinds (errors.py): Unreachable, AuthRefused, RateLimited.
CalDAVFailure = Rejected


def public_url(url: str) -> str:
    """The URL without any user:password@ part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return parts._replace(netloc=host).geturl()


def server_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


# What OpenSSL says when the other end answers a TLS hello in plain text (HTTP).
_PLAIN_TEXT = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "http request",
)


class HTTPClient(Protocol):
    """What the transport needs of a client: `wire.Client`, or a test's wrapper of one."""

    url: str

    def request(
        self, url: str, method: str, body: str | bytes, headers: Mapping[str, str]
    ) -> Answer: ...


def _connection_message(url: str, err: Exception, names: Names) -> str:
    if isinstance(err, ssl.SSLError) and any(s in str(err) for s in _PLAIN_TEXT):
        plain = urlsplit(url)._replace(scheme="http").geturl()
        return (
            f"the server at {server_of(url)} does not speak TLS at this address "
            f"(a plain-HTTP server? then the URL is {public_url(plain)})"
        )
    if isinstance(err, ssl.SSLError) and not isinstance(
        err, ssl.SSLEOFError | ssl.SSLZeroReturnError
    ):
        return (
            f"the TLS certificate of {server_of(url)} could not be verified; fix the server's "
            f"certificate (or, only on a network you trust, use {names.insecure})"
        )
    if isinstance(err, TimeoutError):
        return f"the CalDAV server at {server_of(url)} did not answer in time"
    return f"cannot reach the CalDAV server at {server_of(url)} (is the URL right, is it up?)"


def _auth_message(url: str, err: AuthorizationError, names: Names) -> str:
    if err.status == 403:
        return f"the CalDAV server refused access to {public_url(url)} (HTTP 403)"
    return (
        f"the CalDAV server at {server_of(url)} refused the username or password (HTTP 401); "
        f"check {names.username} and the password source"
    )


def describe(answer: Answer) -> str:
    return f"HTTP {answer.status} {answer.reason or ''}".strip()


class Transport:
    """Every request goes through here: retried when the server says so, fatal errors as
    a `TargetError` with one sentence, and nothing else escapes."""

    def __init__(
        self,
        client: HTTPClient,
        retry: Retry = CALDAV_RETRY,
        factory: Callable[[], HTTPClient] | None = None,
        names: Names = COMMAND_LINE,
    ) -> None:
        self.client = client
        self.retry = retry
        self.factory = factory  # another client like `client`, for another thread
        self.names = names  # how messages name the settings

    def for_worker(self) -> Transport:
        """A transport for another thread: its own client (and connection) when this one
        knows how to make one, else this one's client (a test's instrumented client)."""
        if self.factory is None:
            return self
        return Transport(self.factory(), self.retry, self.factory, self.names)

    def send(
        self,
        method: str,
        url: str,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        def attempt(last: bool) -> Answer:
            try:
                with limits.request(f"the CalDAV server at {server_of(url)}"):
                    answer = self.client.request(url, method, body, dict(headers or {}))
            except AuthorizationError as err:
                raise AuthRefused(_auth_message(url, err, self.names)) from None
            except RateLimitError as err:
                slow = f"the CalDAV server at {server_of(url)} keeps asking to slow down"
                raise Again(RateLimited(slow), err.retry_after_seconds) from None
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as err:
                # The link closed under TLS: as any lost link, tried again.
                raise Again(Unreachable(_connection_message(url, err, self.names))) from None
            except ssl.SSLError as err:
                raise Unreachable(_connection_message(url, err, self.names)) from None
            except (http.client.HTTPException, OSError) as err:
                # A lost answer is retried too: creates and updates are conditional,
                # so a write that landed answers 412 the second time, not a duplicate.
                raise Again(Unreachable(_connection_message(url, err, self.names))) from None
            except NotXML:
                # A body that claims to be XML and is not.
                raise CalDAVFailure(
                    f"the server at {server_of(url)} sent an answer to {method} that is not "
                    "CalDAV (XMLSyntaxError)"
                ) from None
            location = answer.headers.get("Location") if answer.status in REDIRECTS else None
            if location:  # the client follows redirects on the same server only
                raise CalDAVFailure(
                    f"the CalDAV server at {server_of(url)} redirects to "
                    f"{public_url(urljoin(url, location))}: another server, or not https, "
                    f"where calsync does not send the password; check {self.names.url}"
                )
            if answer.status in RETRY_STATUSES and not last:
                raise Again(CalDAVFailure(describe(answer)))  # never raised: the last returns
            return answer

        return self.retry.run(attempt)

    def url(self, href: str, base: str | None = None) -> str:
        """An absolute URL for a (decoded) href the server gave in its answer from `base`
        (default: the URL given).

        The client sends the password with every request, so an absolute href may lead
        only to the server given, or over https to another host of the same domain
        (`sibling_hosts`: iCloud keeps calendar homes on pNN-caldav.icloud.com); never
        to another server, nor from https:// down to http://."""
        given = self.client.url
        if "://" not in href:
            return urljoin(base or given, quote(href, safe=PATH_SAFE))
        if origin(href) != origin(given) and not sibling_hosts(given, href):
            raise CalDAVFailure(
                f"the CalDAV server at {server_of(given)} links to {public_url(href)} (another "
                f"server, or not https): refused, the password goes only to {server_of(given)}"
            )
        return href


def sibling_hosts(given: str, link: str) -> bool:
    """Both https, on hosts named under the same domain of two labels or more
    (caldav.icloud.com and p37-caldav.icloud.com), not addresses."""
    a, b = urlsplit(given), urlsplit(link)
    if {a.scheme.lower(), b.scheme.lower()} != {"https"}:
        return False
    here, there = a.hostname or "", b.hostname or ""
    for host in (here, there):
        try:
            ipaddress.ip_address(host)
            return False  # an address names no domain
        except ValueError:
            pass
    parent, other = here.split(".")[1:], there.split(".")[1:]
    return len(parent) >= 2 and parent == other


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, the port spelt out when it is the scheme's default."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = -1  # not a port: matches no real origin
    return scheme, parts.hostname or "", port


def ok(answer: Answer) -> bool:
    return 200 <= answer.status < 300


def make_client(
    url: str, username: str | None, password: str | None, insecure: bool, timeout: int = 30
) -> Client:
    # The credentials go with the first request, not only after a 401: a server that
    # lets anyone in (Radicale with auth none) otherwise never learns who the user is,
    # and the principal URL the user gave does not exist for nobody.
    return Client(url, username, password, insecure, timeout)
