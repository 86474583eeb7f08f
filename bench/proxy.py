"""A latency proxy: every client of a benchmark talks to the server through it.

    with LatencyProxy("http://127.0.0.1:5232", delay=0.05) as proxy:
        ...  # point the client at proxy.url; read proxy.traffic()

A threaded HTTP/1.1 forwarding proxy on 127.0.0.1 in front of one server. It
waits `delay` seconds before forwarding each request (a fixed round-trip time,
as a server across the internet costs), keeps connections alive on both sides
(one upstream connection per client connection, so a client that reuses its
connection pays no extra set-up), and counts requests and bytes each way
(request and status lines, headers and bodies, as they cross the proxy), so
calsync and its peers are measured by the same meter.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

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
METHODS = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "OPTIONS",
    "PROPFIND",
    "PROPPATCH",
    "REPORT",
    "MKCALENDAR",
    "MKCOL",
    "MOVE",
    "COPY",
    "LOCK",
    "UNLOCK",
]


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
    """Forwards to `upstream` (scheme://host:port) after `delay` seconds a request."""

    def __init__(self, upstream: str, delay: float) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.delay = delay
        self._lock = threading.Lock()
        self._requests = 0
        self._up = 0
        self._down = 0
        self._methods: Counter[str] = Counter()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="latency-proxy", daemon=True
        )
        self.port = int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

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

    def traffic(self) -> Traffic:
        """The totals so far; subtract an earlier reading to get one run's share."""
        with self._lock:
            return Traffic(self._requests, self._up, self._down, Counter(self._methods))

    def count(self, method: str, up: int, down: int) -> None:
        with self._lock:
            self._requests += 1
            self._up += up
            self._down += down
            self._methods[method] += 1

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
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        up = len(self.requestline) + 2 + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        up += 2 + len(body)
        time.sleep(self.server.proxy.delay)
        answer = self._forward(body, headers)
        payload = answer.read()
        if answer.will_close and self._upstream is not None:
            self._upstream.close()  # http.client reopens it for the next request
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
        self.server.proxy.count(self.command, up, down)
        self.end_headers()
        self.wfile.write(payload)


for _method in METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._relay)
