"""calsync's own HTTP for CalDAV (calsync/targets/caldav/wire.py), against small servers on
127.0.0.1 that behave as real ones do: keep connections alive and close idle ones,
redirect, sit behind a proxy, present a certificate nobody signed. The CalDAV
protocol itself is tested against a real Radicale (test_caldav_sync, test_caldav_costs).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.errors import BadInput
from calsync.targets.caldav.http import CalDAVFailure, Transport
from calsync.targets.caldav.proxies import bypassed, proxy_for
from calsync.targets.caldav.wire import Answer as WireAnswer
from calsync.targets.caldav.wire import AuthorizationError, Client, Headers, RateLimitError
from fakes.radicale_server import RadicaleServer

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "hybrid-hypertrophy.yaml"
MULTISTATUS = (
    b'<?xml version="1.0"?><multistatus xmlns="DAV:"><response><href>/me/training/</href>'
    b"<propstat><prop><displayname>Training</displayname></prop>"
    b"<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"
)


class Seen:
    """What a server saw: each request's line, headers and the connection it came on."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self.lock = threading.Lock()

    def add(self, handler: BaseHTTPRequestHandler) -> int:
        with self.lock:
            self.requests.append(
                (handler.requestline, dict(handler.headers.items()), handler.client_address[1])
            )
            return len(self.requests)

    @property
    def connections(self) -> int:
        return len({c for _, _, c in self.requests})


Answer = Callable[[BaseHTTPRequestHandler, int], None]


def serve(answer: Answer, seen: Seen, context: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one_request(self) -> None:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer(self, seen.add(self))
            self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def root(server: ThreadingHTTPServer, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.server_address[1]}/"


def multistatus(handler: BaseHTTPRequestHandler, close: bool = False) -> None:
    handler.send_response(207)
    handler.send_header("Content-Type", "application/xml; charset=utf-8")
    handler.send_header("Content-Length", str(len(MULTISTATUS)))
    handler.end_headers()
    handler.wfile.write(MULTISTATUS)
    handler.close_connection = close  # closed without a word, as an idle timeout does


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def stop() -> Iterator[list[ThreadingHTTPServer]]:
    servers: list[ThreadingHTTPServer] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def test_one_connection_carries_every_request_with_the_credentials_from_the_first(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    stop.append(server := serve(lambda h, n: multistatus(h), seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    for _ in range(3):
        answer = client.request(root(server) + "me/", "PROPFIND", "<propfind/>", {"Depth": "0"})
        assert answer.status == 207
        assert answer.parse_propfind()[0].properties["{DAV:}displayname"] == "Training"
    assert seen.connections == 1
    assert all(h["Authorization"] == "Basic YXRobGV0ZTpzM2NyZXQ=" for _, h, _ in seen.requests)
    assert {h["Depth"] for _, h, _ in seen.requests} == {"0"}
    assert {h["User-Agent"] for _, h, _ in seen.requests} == {"calsync/0.1.0"}


def test_a_connection_the_server_closed_while_idle_is_replaced(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    stop.append(server := serve(lambda h, n: multistatus(h, close=True), seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    statuses = [client.request(root(server) + "me/", "PROPFIND").status for _ in range(3)]
    assert statuses == [207, 207, 207]
    assert len(seen.requests) == 3 and seen.connections == 3  # each on a new connection


def test_a_request_that_meets_a_closing_connection_is_sent_once_more(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    """The server drops the second request of a connection unanswered (its idle timeout
    passed as the request arrived): nothing was done, so it goes again on a new one."""
    per_connection: dict[int, int] = {}

    def answer(handler: BaseHTTPRequestHandler, number: int) -> None:
        key = handler.client_address[1]
        per_connection[key] = per_connection.get(key, 0) + 1
        if per_connection[key] == 2:
            handler.close_connection = True
            return
        multistatus(handler)

    stop.append(server := serve(answer, seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    assert [client.request(root(server) + "me/", "PROPFIND").status for _ in range(2)] == [207, 207]
    assert len(seen.requests) == 3 and seen.connections == 2


def test_a_redirect_on_the_same_server_is_followed_with_method_and_body(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    def answer(handler: BaseHTTPRequestHandler, number: int) -> None:
        if handler.path == "/dav":
            handler.send_response(308)
            handler.send_header("Location", "/dav/")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            multistatus(handler)

    stop.append(server := serve(answer, seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    assert client.request(root(server) + "dav", "PROPFIND", "<propfind/>").status == 207
    assert [line for line, _, _ in seen.requests] == [
        "PROPFIND /dav HTTP/1.1",
        "PROPFIND /dav/ HTTP/1.1",
    ]
    assert seen.requests[1][1]["Content-Length"] == str(len("<propfind/>"))


def test_a_redirect_to_another_server_is_not_followed(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    elsewhere = Seen()
    stop.append(other := serve(lambda h, n: multistatus(h), elsewhere))

    def answer(handler: BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response(301)
        handler.send_header("Location", root(other) + "dav/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    stop.append(server := serve(answer, seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    assert client.request(root(server) + "dav/", "PROPFIND").status == 301
    with pytest.raises(CalDAVFailure) as caught:
        Transport(client).send("PROPFIND", root(server) + "dav/")
    assert str(caught.value) == (
        f"the CalDAV server at {root(server).rstrip('/')} redirects to {root(other)}dav/: "
        "another server, or not https, where calsync does not send the password; check --url"
    )
    assert elsewhere.requests == []  # the password never went there


def test_an_http_proxy_from_the_environment_is_asked_for_the_whole_url(
    seen: Seen, stop: list[ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop.append(proxy := serve(lambda h, n: multistatus(h), seen))
    monkeypatch.setenv("HTTP_PROXY", f"http://me:pr0xy@127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = Client("http://cal.example:5232/", "athlete", "s3cret", insecure=False)
    assert client.request("http://cal.example:5232/me/", "PROPFIND").status == 207
    ((line, headers, _),) = seen.requests
    assert line == "PROPFIND http://cal.example:5232/me/ HTTP/1.1"
    assert headers["Proxy-Authorization"] == "Basic bWU6cHIweHk="
    assert headers["Host"] == "cal.example:5232"


def test_no_proxy_names_hosts_domains_networks_or_everything() -> None:
    environ = {"https_proxy": "http://proxy.corp:3128", "NO_PROXY": "localhost,.corp, 10.0.0.0/8"}
    assert proxy_for("https", "caldav.fastmail.com", environ) is not None
    assert proxy_for("http", "caldav.fastmail.com", environ) is None  # no http_proxy
    for host in ("localhost", "cal.corp", "corp", "10.1.2.3"):
        assert proxy_for("https", host, environ) is None, host
    assert bypassed("anything.example", "*")
    assert not bypassed("notcorp", ".corp")


def test_a_proxy_that_is_not_http_is_bad_input_without_its_password() -> None:
    with pytest.raises(BadInput) as caught:
        proxy_for("https", "caldav.icloud.com", {"HTTPS_PROXY": "socks5://me:hunter2@proxy:1080"})
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("HTTPS_PROXY='socks5://proxy': ")


def _self_signed(folder: Path) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 that no authority signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def test_an_unsigned_certificate_is_refused_unless_insecure(
    seen: Seen, stop: list[ThreadingHTTPServer], tmp_path: Path
) -> None:
    def refuse(handler: BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", 'Basic realm="cal"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    stop.append(server := serve(refuse, seen, _self_signed(tmp_path)))
    url = root(server, "https")
    (tmp_path / "password").write_text("s3cret\n", encoding="utf-8")
    args = ["sync", "caldav", str(TEMPLATE), "--from", "2026-11-30", "--weeks", "1"]
    args += ["--url", url, "--username", "athlete", "--password-file", str(tmp_path / "password")]
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}

    checked = CliRunner().invoke(cli, args, env=env)
    assert checked.exit_code == 1 and seen.requests == []
    assert checked.stderr == (
        f"calsync: the TLS certificate of {url.rstrip('/')} could not be verified; fix the "
        "server's certificate (or, only on a network you trust, use --insecure)\n"
    )
    unchecked = CliRunner().invoke(cli, [*args, "--insecure"], env=env)
    assert unchecked.exit_code == 1 and len(seen.requests) == 1  # through TLS, then refused
    assert unchecked.stderr.endswith(
        f"calsync: the CalDAV server at {url.rstrip('/')} refused the username or password "
        "(HTTP 401); check --username and the password source\n"
    )


def test_sync_caldav_imports_neither_the_caldav_library_nor_niquests(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    (tmp_path / "password").write_text(radicale.password + "\n", encoding="utf-8")
    argv = ["sync", "caldav", str(TEMPLATE), "--from", "2026-11-30", "--weeks", "1"]
    argv += ["--now", "2026-11-29T12:00", "--url", radicale.home, "--calendar", "Imports"]
    argv += ["--username", radicale.user, "--password-file", str(tmp_path / "password")]
    program = (
        "import json, sys\n"
        "from calsync.cli.main import cli\n"
        "try:\n"
        f"    cli({argv!r}, prog_name='calsync')\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "names = {'caldav', 'niquests', 'urllib3', 'urllib3_future', 'lxml', 'requests'}\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in names)]))\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120
    )
    assert "created" in done.stdout, done.stderr
    code, imported = json.loads(done.stdout.splitlines()[-1])
    assert code in (0, None, 3) and imported == []


def test_a_listing_reads_hrefs_etags_and_data_of_the_successful_propstats() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        b"<d:response><d:href>https://cal.example/me/training/legs%40calsync.ics</d:href>"
        b'<d:propstat><d:prop><d:getetag>"e1"</d:getetag>'
        b"<c:calendar-data>BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n</c:calendar-data></d:prop>"
        b"<d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
        b"<d:propstat><d:prop><d:getetag/></d:prop>"
        b"<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"
        b"<d:response><d:href>/me/training/gone.ics</d:href>"
        b"<d:status>HTTP/1.1 404 Not Found</d:status></d:response></d:multistatus>"
    )
    answer = WireAnswer(207, "Multi-Status", Headers([("content-type", "text/xml")]), body)
    first, gone = answer.parse_calendar_query()
    assert (first.href, first.etag, first.status) == ("/me/training/legs@calsync.ics", '"e1"', 200)
    assert first.calendar_data == "BEGIN:VCALENDAR\nEND:VCALENDAR\n"
    assert (gone.href, gone.etag, gone.status) == ("/me/training/gone.ics", None, 404)


def test_an_answer_that_says_xml_and_is_not_is_one_clear_failure(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    def garbled(handler: BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response(207)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", "21")
        handler.end_headers()
        handler.wfile.write(b"<multistatus><respons")

    stop.append(server := serve(garbled, seen))
    transport = Transport(Client(root(server), "athlete", "s3cret", insecure=False))
    with pytest.raises(CalDAVFailure) as caught:
        transport.send("REPORT", root(server) + "me/training/", "<calendar-query/>")
    assert str(caught.value) == (
        f"the server at {root(server).rstrip('/')} sent an answer to REPORT that is not "
        "CalDAV (XMLSyntaxError)"
    )


def test_a_retry_after_date_is_counted_from_the_answers_own_date(
    seen: Seen, stop: list[ThreadingHTTPServer]
) -> None:
    def busy(handler: BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response_only(503)
        handler.send_header("Date", "Mon, 30 Nov 2026 06:00:00 GMT")
        handler.send_header("Retry-After", "Mon, 30 Nov 2026 06:00:45 GMT")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    stop.append(server := serve(busy, seen))
    with pytest.raises(RateLimitError) as caught:
        Client(root(server), "athlete", "s3cret", insecure=False).request(root(server), "GET")
    assert caught.value.retry_after_seconds == 45.0


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b"", True),
        (b'<d:error xmlns:d="DAV:"><d:need-privileges/></d:error>', True),
        (b'<error xmlns="DAV:"><valid-sync-token /></error>', False),
        (b'<d:error xmlns:d="DAV:"><d:supported-report/></d:error>', False),
    ],
)
def test_403_is_refused_access_unless_it_names_a_precondition_of_the_request(
    seen: Seen, stop: list[ThreadingHTTPServer], body: bytes, refused: bool
) -> None:
    def forbidden(handler: BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response(403)
        handler.send_header("Content-Type", "application/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    stop.append(server := serve(forbidden, seen))
    client = Client(root(server), "athlete", "s3cret", insecure=False)
    if refused:
        with pytest.raises(AuthorizationError):
            client.request(root(server) + "me/training/", "REPORT", "<sync-collection/>", {})
    else:
        answer = client.request(root(server) + "me/training/", "REPORT", "<sync-collection/>", {})
        assert answer.status == 403 and answer.tree is not None
