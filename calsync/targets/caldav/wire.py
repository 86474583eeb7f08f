"""HTTP/1.1 for the CalDAV target, on the standard library (`http.client`, `ssl`).

A `Client` sends one request and reads its whole answer: the credentials (HTTP
Basic) with the first request, not after a 401; a kept-alive connection reused
for the next request (one per thread using the client at once), and a fresh one
when the server has closed an idle connection; the answer read within the
request limit (`limits`), also in a writing thread, where no alarm can cut it
off; gzip answers undone; redirects followed on the same server (or from http://
up to https:// on the same host), never to another one, where the password must
not go. HTTPS certificates are verified unless `insecure`; `HTTPS_PROXY`,
`HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured (`proxies`).

What needs a decision is raised for the caller (`http.Transport`) to turn into one
clear message: `AuthorizationError` (401, and 403 but for a precondition of the
request, such as a sync token the server no longer knows), `RateLimitError` (429,
or 503 with Retry-After), `NotXML`, and `OSError` or `http.client.HTTPException`
for a link that failed.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import ssl
import threading
import time  # monotonic only: the bound on a request, not the date
import zlib
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from calsync import __version__
from calsync.io import limits
from calsync.targets.caldav import multistatus, proxies
from calsync.targets.caldav.multistatus import (
    CalendarQueryResult,
    NotXML,
    PropfindResult,
    SyncChanges,
)
from calsync.targets.caldav.xml import ERROR, REQUEST_PRECONDITIONS

__all__ = ["Answer", "AuthorizationError", "Client", "NotXML", "RateLimitError"]

DEFAULT_HEADERS = {
    "User-Agent": f"calsync/{__version__}",
    "Accept": "text/xml, text/calendar",
    "Accept-Encoding": "gzip, deflate",
    "Content-Type": "text/xml",  # dropped when there is no body
}
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
CHUNK = 65536
Origin = tuple[str, str, int]


class AuthorizationError(Exception):
    """401 or 403: the credentials, or the access, refused."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class RateLimitError(Exception):
    """429, or 503 with Retry-After: slow down (for `retry_after_seconds` if known)."""

    def __init__(self, status: int, retry_after_seconds: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_seconds = retry_after_seconds


class BrokenAnswer(http.client.HTTPException):
    """An answer whose body cannot be decoded (a damaged gzip stream)."""


class Headers(dict[str, str]):
    """Response headers, looked up whatever the case of the name."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in pairs:
            key = name.lower()
            super().__setitem__(key, f"{self[key]}, {value}" if key in self else value)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]  # dict.get's overloads; one signature is all callers need
        return super().get(name.lower(), default)


class Answer:
    """A whole answer: status, reason, headers, body, and the XML document if it is one."""

    def __init__(self, status: int, reason: str, headers: Headers, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        kind = headers.get("Content-Type") or ""
        says_xml = kind.startswith(("text/xml", "application/xml"))
        self.tree = multistatus.parse(body, says_xml) if body else None

    @property
    def raw(self) -> str:
        """The body as text, line ends made "\\n"."""
        return self.body.decode("utf-8", errors="replace").replace("\r\n", "\n")

    def parse_propfind(self) -> list[PropfindResult]:
        return multistatus.propfind(self.tree) if self.status != 404 else []

    def parse_calendar_query(self) -> list[CalendarQueryResult]:
        return multistatus.calendar_query(self.tree)

    def parse_sync_collection(self, collection: str) -> SyncChanges | None:
        return multistatus.sync_collection(self.tree, collection)


def _refused_request(answer: Answer) -> bool:
    tree = answer.tree
    return (
        tree is not None
        and tree.tag == ERROR
        and any(child.tag in REQUEST_PRECONDITIONS for child in tree)
    )


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _retry_after(value: str | None, sent: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date counted from the
    answer's own Date (calsync's clock is read in one place only); else None."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        later = parsedate_to_datetime(value) - parsedate_to_datetime(sent or "")
    except (TypeError, ValueError):
        return None  # left to the backoff
    return max(0.0, later.total_seconds())


def _decoded(body: bytes, encoding: str) -> bytes:
    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some send it
    except zlib.error:
        raise BrokenAnswer(f"a damaged {encoding} answer") from None
    return body


def tls_context(insecure: bool) -> ssl.SSLContext:
    """Verified against the system's certificates (or `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`,
    `SSL_CERT_FILE`, as before); with `insecure`, not verified at all."""
    import os

    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        return ssl.create_default_context(cafile=bundle)
    context = ssl.create_default_context()
    paths = ssl.get_default_verify_paths()
    if not (paths.cafile or paths.capath):  # no system store (python.org's macOS build)
        try:
            import certifi  # installed with requests

            context.load_verify_locations(certifi.where())
        except ImportError:
            pass
    return context


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it (or broke
    the protocol); either way it is not used again."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


class Client:
    """Requests to one CalDAV server as one user; safe to share between threads."""

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        insecure: bool,
        timeout: float = 30,
    ) -> None:
        self.url = url
        self.timeout = timeout  # each connect and each read on the socket
        self.insecure = insecure
        self._headers = dict(DEFAULT_HEADERS)
        if username and password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._idle: list[tuple[Origin, http.client.HTTPConnection]] = []
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    def request(
        self,
        url: str,
        method: str = "GET",
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request and its whole answer, after any redirect on the same server."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        sent = self._merged(headers or {}, bool(data))
        answer = self._exchange(method, url, data, sent)
        for _ in range(MAX_REDIRECTS):
            location = answer.headers.get("Location")
            if answer.status not in REDIRECTS or not location:
                break
            target = urljoin(url, location)
            if not self._may_follow(url, target):
                break  # another server: the password is not sent there
            if answer.status == 303:
                method, data = "GET", b""
                sent = self._merged(headers or {}, False)
            url = target
            answer = self._exchange(method, url, data, sent)
        status = answer.status
        if status == 429 or (status == 503 and "Retry-After" in answer.headers):
            wait = _retry_after(answer.headers.get("Retry-After"), answer.headers.get("Date"))
            raise RateLimitError(status, wait)
        if status == 401 or (status == 403 and not _refused_request(answer)):
            raise AuthorizationError(status)
        return answer

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, connection in idle:
            connection.close()

    def _merged(self, headers: Mapping[str, str], has_body: bool) -> dict[str, str]:
        given = {name.lower() for name in headers}
        merged = {k: v for k, v in self._headers.items() if k.lower() not in given}
        merged.update(headers)
        if not has_body:
            merged = {k: v for k, v in merged.items() if k.lower() != "content-type"}
        return merged

    @staticmethod
    def _may_follow(url: str, target: str) -> bool:
        here, there = origin_of(url), origin_of(target)
        upgrade = here[0] == "http" and there[0] == "https" and here[1] == there[1]
        return there == here or upgrade

    # --- connections ---

    def _connection(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to `origin` that the server has not closed, else a new one;
        and whether it is reused."""
        while True:
            with self._lock:
                index = next((i for i, (o, _) in enumerate(self._idle) if o == origin), None)
                if index is None:
                    break
                _, connection = self._idle.pop(index)
            if connection.sock is not None and not _readable(connection.sock):
                return connection, True
            connection.close()  # closed by the server while idle (or it sent something)
        return self._open(origin), False

    def _open(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        via = proxies.proxy_for(scheme, host)
        if scheme != "https":
            if via is not None:
                return http.client.HTTPConnection(via.host, via.port, timeout=self.timeout)
            return http.client.HTTPConnection(host, port, timeout=self.timeout)
        if self._context is None:
            self._context = tls_context(self.insecure)
        if via is None:
            return http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self._context
            )
        connection = http.client.HTTPSConnection(
            via.host, via.port, timeout=self.timeout, context=self._context
        )
        connection.set_tunnel(host, port, headers=via.headers)
        return connection

    def _exchange(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        origin = origin_of(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        via = proxies.proxy_for(origin[0], origin[1]) if origin[0] == "http" else None
        if via is not None:  # a plain-HTTP proxy is asked for the whole URL
            target = parts._replace(fragment="").geturl()
            headers = {**headers, **via.headers}
        deadline, run_bound = limits.request_budget()
        deadline += time.monotonic()
        what = f"the CalDAV server at {parts.scheme}://{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )
        connection, reused = self._connection(origin)
        try:
            try:
                response, sock = self._ask(connection, method, target, body, headers, deadline)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                # The server closed the kept-alive connection as the request went out:
                # no answer began, so nothing was done; once more on a new connection.
                connection.close()
                connection = self._open(origin)
                response, sock = self._ask(connection, method, target, body, headers, deadline)
            return self._read(connection, response, sock, deadline)
        except TimeoutError:
            connection.close()
            if time.monotonic() >= deadline - 0.05:
                raise limits.overrun(what, run_bound) from None
            raise
        except _Overrun:
            connection.close()
            raise limits.overrun(what, run_bound) from None
        except BaseException:
            connection.close()  # in an unknown state: never reused
            raise
        finally:
            if connection.sock is not None:  # answered in full and kept alive: reuse it
                with self._lock:
                    self._idle.append((origin, connection))

    def _ask(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes,
        headers: dict[str, str],
        deadline: float,
    ) -> tuple[http.client.HTTPResponse, socket.socket | None]:
        """The request sent, and the answer's status line and headers read; and the
        socket, which the connection forgets when the answer is its last."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Overrun
        connection.timeout = min(self.timeout, left)
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)
        expects_body = body or method in ("PUT", "POST")
        connection.request(method, target, body if expects_body else None, headers)
        sock = connection.sock
        return connection.getresponse(), sock

    def _read(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        sock: socket.socket | None,
        deadline: float,
    ) -> Answer:
        """The answer's body, to its end, each read bounded by what is left of the limit."""
        chunks = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Overrun
            if sock is not None:
                sock.settimeout(min(self.timeout, left))
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            if response.length == 0:
                break  # all that Content-Length announced
        if response.length:  # the link closed before the end of the answer
            raise http.client.IncompleteRead(b"".join(chunks), response.length)
        response.close()  # read to its end: the connection is free for the next request
        data = _decoded(b"".join(chunks), (response.getheader("Content-Encoding") or "").lower())
        if response.will_close:
            connection.close()
        return Answer(response.status, response.reason, Headers(response.getheaders()), data)


class _Overrun(Exception):
    """The request limit (or the run's end) passed while the answer was being read."""
