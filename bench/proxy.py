"""The one latency proxy: every benchmark client and the CalDAV cost tests talk through it.

    with LatencyProxy("http://127.0.0.1:5232", delay=0.05) as proxy:
        ...  # point the client at proxy.url (or proxy.through(url)); read proxy.traffic()

A threaded HTTP/1.1 forwarding proxy on 127.0.0.1 in front of one server. It
waits `delay` seconds before forwarding each request (a fixed round-trip time,
as a server across the internet costs), keeps connections alive on both sides
(one upstream connection per client connection, so a client that reuses its
connection pays no extra set-up), and records each exchange (method, path,
status, bytes each way as they cross the proxy: request and status lines,
headers and bodies, and whether it carried credentials), so calsync and its
peers are measured by the same meter.

It can also break exchange number n (1-based, counted from the last `reset`):
`refuse` drops the client's connection without forwarding, `lose` forwards it
(it lands on the server) and drops the connection before the answer (a lost
answer), `dead` refuses n and every later one (a link that died). An exchange
is recorded before its answer leaves, so a client that has its answer always
finds it counted. It imports nothing from calsync or the tests.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal["refuse", "lose", "dead"]
# Headers that describe one connection, not the message (RFC 9110 section 7.6.1).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Every method a CalDAV or Google client sends.
METHODS = (
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH",
    "REPORT", "MKCALENDAR", "MKCOL", "MOVE", "COPY", "LOCK", "UNLOCK",
)  # fmt: skip


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as they crossed the proxy."""

    method: str
    path: str
    status: int  # 0: broken by a fault, no answer
    up: int  # request line, headers and body, in bytes
    down: int  # status line, headers and body, in bytes
    authorized: bool  # it carried an Authorization header


@dataclass(frozen=True)
class Traffic:
    """What crossed the proxy: requests, bytes sent up (client to server) and down."""

    requests: int = 0
    up: int = 0
    down: int = 0
    methods: Counter[str] = field(default_factory=Counter)

    def __sub__(self, other: Traffic) -> Traffic:
        return Traffic(
            self.requests - other.requests,
            self.up - other.up,
            self.down - other.down,
            self.methods - other.methods,
        )


class LatencyProxy:
    """Forwards to `upstream` (http://host:port, any path ignored) after `delay` seconds
    a request."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.delay = delay
        self._lock = threading.Lock()
        self._traffic = Traffic()  # since the proxy started
        self._exchanges: list[Exchange] = []  # since the last reset
        self._arrived = 0  # requests numbered since the last reset
        self._fault_at: int | None = None
        self._fault: Fault = "refuse"
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="latency-proxy", daemon=True
        )
        self.port = int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def through(self, upstream_url: str) -> str:
        """The same URL of the upstream server, through this proxy."""
        return urlsplit(upstream_url)._replace(netloc=f"127.0.0.1:{self.port}").geturl()

    def start(self) -> LatencyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # --- counts ---

    def traffic(self) -> Traffic:
        """The totals since the proxy started; subtract an earlier reading for one run's."""
        with self._lock:
            seen = self._traffic
            return Traffic(seen.requests, seen.up, seen.down, Counter(seen.methods))

    def exchanges(self) -> list[Exchange]:
        """Each exchange since the last `reset`, in the order they were counted."""
        with self._lock:
            return list(self._exchanges)

    def reset(self, fault_at: int | None = None, fault: Fault = "refuse") -> None:
        """Start a new list of exchanges, numbered from 1, breaking number `fault_at`."""
        with self._lock:
            self._exchanges, self._arrived = [], 0
            self._fault_at, self._fault = fault_at, fault

    # --- serving (called by the handler threads) ---

    def arrived(self) -> Fault | None:
        """Number one arriving request; the fault it meets, if any."""
        with self._lock:
            self._arrived += 1
            number, at = self._arrived, self._fault_at
            if at is not None and (number == at or (self._fault == "dead" and number > at)):
                return self._fault
            return None

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)
            seen = self._traffic
            methods = Counter(seen.methods)
            methods[exchange.method] += 1
            self._traffic = Traffic(
                seen.requests + 1, seen.up + exchange.up, seen.down + exchange.down, methods
            )

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: LatencyProxy

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up is part of the job; its traceback is noise."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server: _Server
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - fixed name
        pass

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().finish()

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
        """One request upstream on this connection's kept-alive connection; a connection
        the server closed while idle is reopened once."""
        for attempt in (1, 2):
            if self._upstream is None:
                self._upstream = self.server.proxy.connect()
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                return self._upstream.getresponse()
            except (http.client.RemoteDisconnected, ConnectionError):
                self._upstream.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _relay(self) -> None:
        proxy = self.server.proxy
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        up = len(self.requestline) + 2 + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        up += 2 + len(body)
        authorized = "Authorization" in self.headers
        fault = proxy.arrived()
        time.sleep(proxy.delay)
        if fault in ("refuse", "dead"):
            proxy.record(Exchange(self.command, self.path, 0, up, 0, authorized))
            self.close_connection = True
            return
        answer = self._forward(body, headers)
        payload = answer.read()
        if answer.will_close and self._upstream is not None:
            self._upstream.close()  # http.client reopens it for the next request
        if fault == "lose":
            proxy.record(Exchange(self.command, self.path, 0, up, 0, authorized))
            self.close_connection = True
            return
        self.send_response_only(answer.status, answer.reason)
        sent = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        for name, value in sent:
            if name.lower() != "content-length":
                self.send_header(name, value)
        if self.command == "HEAD" or answer.status in (204, 304) or answer.status < 200:
            length = answer.getheader("Content-Length")
            if length is not None:
                self.send_header("Content-Length", length)
            payload = b""
        else:
            self.send_header("Content-Length", str(len(payload)))
        status_line = len(f"HTTP/1.1 {answer.status} {answer.reason}\r\n")
        down = status_line + sum(len(k) + len(v) + 4 for k, v in sent) + 2 + len(payload)
        # Counted before the answer leaves: a client that has its answer sees it counted.
        proxy.record(Exchange(self.command, self.path, answer.status, up, down, authorized))
        self.end_headers()
        self.wfile.write(payload)


for _method in METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._relay)
