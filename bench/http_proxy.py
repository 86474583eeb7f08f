"""A small HTTP reverse proxy for measuring and breaking CalDAV traffic on 127.0.0.1.

It forwards every request to one upstream server over kept-alive connections
(one per client connection), and

- adds a fixed latency to each request (a remote server's round trip),
- counts each exchange: method, path, status, bytes sent up and down,
- can break exchange number n (1-based): `refuse` drops the client's connection
  without forwarding, `lose` forwards it (it lands on the server) and then drops
  the connection before the answer (a lost answer), `dead` refuses n and every
  later one (a link that died).

Used by bench/caldav_bench.py (speed) and by the tests (request counts, bytes,
the fault sweep). It imports nothing from calsync or the tests.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal["refuse", "lose", "dead"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int  # 0: broken by a fault, no answer
    up: int  # request line, headers and body, in bytes
    down: int  # status line, headers and body, in bytes
    authorized: bool  # it carried an Authorization header


@dataclass
class Proxy:
    """`with Proxy(upstream_root) as proxy:` then use `proxy.url(...)`."""

    upstream: str  # e.g. http://127.0.0.1:5232/
    latency: float = 0.0  # seconds added to every request
    fault_at: int | None = None
    fault: Fault = "refuse"
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self._seen = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    # --- use ---

    def url(self, upstream_url: str) -> str:
        """The same URL, through this proxy."""
        parts = urlsplit(upstream_url)
        return parts._replace(netloc=f"127.0.0.1:{self.port}").geturl()

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, fault_at: int | None = None, fault: Fault = "refuse") -> None:
        with self._lock:
            self.exchanges = []
            self._seen = 0
            self.fault_at, self.fault = fault_at, fault

    # --- counts ---

    def count(self, method: str | None = None) -> int:
        return sum(1 for e in self.exchanges if method is None or e.method == method)

    def methods(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for exchange in self.exchanges:
            found[exchange.method] = found.get(exchange.method, 0) + 1
        return dict(sorted(found.items()))

    def bytes_down(self) -> int:
        return sum(e.down for e in self.exchanges)

    def bytes_up(self) -> int:
        return sum(e.up for e in self.exchanges)

    # --- serving ---

    def _number(self) -> tuple[int, Fault | None]:
        with self._lock:
            self._seen += 1
            n = self._seen
            broken: Fault | None = None
            if self.fault_at is not None and (
                n == self.fault_at or (self.fault == "dead" and n > self.fault_at)
            ):
                broken = self.fault
            return n, broken

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                up = len(self.requestline) + 2 + len(bytes(self.headers)) + len(body)
                authorized = "Authorization" in self.headers
                _, broken = proxy._number()
                if proxy.latency:
                    time.sleep(proxy.latency)
                if broken in ("refuse", "dead"):
                    proxy._record(Exchange(self.command, self.path, 0, up, 0, authorized))
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = self._send_upstream(body, headers)
                data = answer.read()
                if broken == "lose":
                    proxy._record(Exchange(self.command, self.path, 0, up, 0, authorized))
                    self.close_connection = True
                    return
                sent = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
                head = len(f"HTTP/1.1 {answer.status} {answer.reason}\r\n")
                head += sum(len(f"{k}: {v}\r\n") for k, v in sent) + 2
                # Counted before the answer goes out: a client that has its answer
                # always finds the exchange counted.
                proxy._record(
                    Exchange(
                        self.command, self.path, answer.status, up, head + len(data), authorized
                    )
                )
                self.send_response_only(answer.status, answer.reason)
                for key, value in sent:
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_upstream(
                self, body: bytes, headers: dict[str, str]
            ) -> http.client.HTTPResponse:
                for attempt in range(2):  # a kept-alive upstream connection may have closed
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(
                            proxy._host, proxy._port, timeout=60
                        )
                    try:
                        self.upstream.request(self.command, self.path, body, headers)
                        return self.upstream.getresponse()
                    except (OSError, http.client.HTTPException):
                        self.upstream.close()
                        self.upstream = None
                        if attempt:
                            raise
                raise AssertionError("unreachable")

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = _forward
            do_MKCALENDAR = do_OPTIONS = do_HEAD = do_POST = do_PROPPATCH = _forward
            do_MKCOL = do_MOVE = _forward

            def log_message(self, format: str, *args: object) -> None:
                return None

            def handle(self) -> None:
                try:
                    super().handle()
                except OSError:
                    pass  # the client hung up
                finally:
                    if self.upstream is not None:
                        self.upstream.close()

        return Handler
