"""bench/proxy.py, the latency proxy every benchmark client and the CalDAV cost tests talk
through: it forwards, adds its delay to each request, keeps connections alive, counts
requests and bytes, records each exchange, and breaks the one it is told to."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.proxy import Exchange, Fault, LatencyProxy


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    seen: list[str]  # the paths of the requests that reached it


class _Echo(BaseHTTPRequestHandler):
    """Answers each request with `METHOD PATH BODY-LENGTH` and, for GET /big, 50 000 bytes."""

    protocol_version = "HTTP/1.1"
    server: _Upstream

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - fixed name
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.path)
        if self.path == "/big":
            payload = b"x" * 50_000
        else:
            payload = f"{self.command} {self.path} {len(body)} {body[:20]!r}".encode()
        self.send_response(207 if self.command == "PROPFIND" else 200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_PROPFIND = do_REPORT = _answer  # noqa: N815 - names fixed by the base


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", 0), _Echo)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _ask(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes]:
    connection.request(method, path, body=body or None)
    answer = connection.getresponse()
    return answer.status, answer.read()


def _address(server: _Upstream) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_it_forwards_each_method_path_and_body_and_relays_the_answer(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        event = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        assert _ask(connection, "PUT", "/athlete/training/a.ics", event) == (
            200,
            b"PUT /athlete/training/a.ics 32 b'BEGIN:VCALENDAR\\r\\nEND'",
        )
        assert _ask(connection, "PROPFIND", "/athlete/") == (207, b"PROPFIND /athlete/ 0 b''")
        connection.close()


def test_a_chunked_request_body_arrives_whole(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.request("REPORT", "/athlete/training/", body=iter([b"<a>", b"<b/>", b"</a>"]))
        answer = connection.getresponse()
        assert answer.read() == b"REPORT /athlete/training/ 11 b'<a><b/></a>'"
        connection.close()


def test_each_request_waits_the_delay(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0.1) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        began = time.perf_counter()
        for _ in range(3):
            assert _ask(connection, "GET", "/")[0] == 200
        assert time.perf_counter() - began >= 0.3
        connection.close()


def test_a_kept_alive_client_connection_keeps_one_upstream_connection(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        for _ in range(4):
            _ask(connection, "GET", "/")
        connection.close()
        other = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        _ask(other, "GET", "/")
        other.close()
    assert upstream.connections == 2


def test_it_counts_requests_by_method_and_bytes_each_way(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        _ask(connection, "PUT", "/athlete/training/a.ics", b"y" * 10_000)
        before = proxy.traffic()
        _ask(connection, "GET", "/big")
        _ask(connection, "PROPFIND", "/athlete/")
        connection.close()
        seen = proxy.traffic() - before
        total = proxy.traffic()
    assert total.requests == 3 and dict(total.methods) == {"PUT": 1, "GET": 1, "PROPFIND": 1}
    assert 10_000 < total.up - seen.up < 10_300  # the PUT: its body and a few header lines
    assert seen.requests == 2 and dict(seen.methods) == {"GET": 1, "PROPFIND": 1}
    assert 50_000 < seen.down < 50_300  # the big answer and a short one, with headers
    assert seen.up < 300  # two requests without a body


def test_an_upstream_that_is_not_plain_http_is_refused() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        LatencyProxy("https://calendar.example.com/", delay=0)


def test_each_exchange_is_recorded_with_its_status_and_credentials(upstream: _Upstream) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.request("PROPFIND", "/athlete/", headers={"Authorization": "Basic YTpi"})
        connection.getresponse().read()
        _ask(connection, "GET", "/big")
        first = proxy.exchanges()
        proxy.reset()
        _ask(connection, "PUT", "/athlete/training/a.ics", b"event")
        connection.close()
        second = proxy.exchanges()
    assert [(e.method, e.path, e.status, e.authorized) for e in first] == [
        ("PROPFIND", "/athlete/", 207, True),
        ("GET", "/big", 200, False),
    ]
    assert 50_000 < first[1].down < 50_300
    assert [(e.method, e.status) for e in second] == [("PUT", 200)]  # a new list after reset


def _three_puts(proxy: LatencyProxy) -> list[str]:
    """PUT /1, /2 and /3, each on a new connection; what each got back."""
    outcomes = []
    for number in (1, 2, 3):
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        try:
            status, _ = _ask(connection, "PUT", f"/{number}", b"x")
            outcomes.append(str(status))
        except (http.client.RemoteDisconnected, ConnectionError):
            outcomes.append("dropped")
        finally:
            connection.close()
    return outcomes


@pytest.mark.parametrize(
    ("fault", "answers", "reached"),
    [
        ("refuse", ["200", "dropped", "200"], ["/1", "/3"]),  # never forwarded
        ("lose", ["200", "dropped", "200"], ["/1", "/2", "/3"]),  # landed, answer lost
        ("dead", ["200", "dropped", "dropped"], ["/1"]),  # the link died at the second
    ],
)
def test_the_exchange_it_is_told_to_break_is_broken(
    upstream: _Upstream, fault: Fault, answers: list[str], reached: list[str]
) -> None:
    with LatencyProxy(_address(upstream), delay=0) as proxy:
        proxy.reset(fault_at=2, fault=fault)
        assert _three_puts(proxy) == answers
        recorded = proxy.exchanges()
    assert upstream.seen == reached
    assert [e.status for e in recorded] == [200 if a == "200" else 0 for a in answers]
    assert all(isinstance(e, Exchange) and e.method == "PUT" for e in recorded)
