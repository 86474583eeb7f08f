"""`calsync auth google`: the installed-app flow, with the token endpoint on 127.0.0.1.

The client-secrets file names its own `auth_uri` and `token_uri`, so the
whole `--no-browser` flow runs through google-auth-oauthlib for real: the URL
is printed, the "browser" comes back with a code, the code is exchanged for a
token, and the token is saved with mode 0600, never shown.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.targets.google import SCOPES, scopes_for

ACCESS, REFRESH, SECRET = "ya29.access-for-test", "1//refresh-for-test", "client-secret-for-test"


class TokenEndpoint(BaseHTTPRequestHandler):
    """Google's token endpoint, as far as the authorization-code exchange goes."""

    exchanges: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        TokenEndpoint.exchanges.append(form)
        if form.get("code") != ["code-from-the-browser"]:
            self._answer(400, {"error": "invalid_grant"})
            return
        self._answer(
            200,
            {
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "expires_in": 3599,
                "scope": " ".join(SCOPES),
                "token_type": "Bearer",
            },
        )

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def secrets(tmp_path: Path) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    path = tmp_path / "client_secret.json"
    path.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "calsync-test.apps.googleusercontent.com",
                    "client_secret": SECRET,
                    "auth_uri": f"{root}/auth",
                    "token_uri": f"{root}/token",
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    yield path
    server.shutdown()


def test_no_browser_sign_in_saves_a_private_token_and_prints_no_secret(
    secrets: Path, tmp_path: Path
) -> None:
    token = tmp_path / "config" / "google-token.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "calsync.cli.main", "auth", "google", "--client-secrets", str(secrets),
         "--no-browser", "--token", str(token)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # The stand-in Google answers on plain http at 127.0.0.1; the real one is https.
        env={**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"},
    )  # fmt: skip
    assert process.stdout is not None and process.stdin is not None
    printed = ""
    while "http" not in printed or "state=" not in printed:
        line = process.stdout.readline()
        assert line, "calsync ended before printing the sign-in URL"
        printed += line
    url = re.search(r"(http\S+)", printed).group(1)  # type: ignore[union-attr]
    query = parse_qs(urlsplit(url).query)
    assert set(query["scope"][0].split()) == set(scopes_for())  # only what is needed
    state = query["state"][0]
    out, err = process.communicate(
        f"http://localhost:1/?state={state}&code=code-from-the-browser\n", timeout=30
    )
    assert process.returncode == 0, err
    saved = json.loads(token.read_text())
    assert (saved["token"], saved["refresh_token"]) == (ACCESS, REFRESH)
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    for secret in (ACCESS, REFRESH, SECRET):
        assert secret not in printed + out + err


def test_a_missing_client_file_says_how_to_get_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["auth", "google", "--client-secrets", str(tmp_path / "nope.json")]
    )
    assert result.exit_code == 2
    assert "Desktop app" in result.stderr
    assert "Traceback" not in result.output


def test_a_refused_code_is_one_clear_line_and_exit_1(secrets: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "calsync.cli.main", "auth", "google", "--client-secrets", str(secrets),
         "--no-browser", "--token", str(tmp_path / "token.json")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    printed = ""
    while "state=" not in printed:
        printed += process.stdout.readline()
    state = parse_qs(urlsplit(re.search(r"(http\S+)", printed).group(1)).query)["state"][0]  # type: ignore[union-attr]
    _, err = process.communicate(
        f"http://localhost:1/?state={state}&code=a-stale-code\n", timeout=30
    )
    assert process.returncode == 1
    assert "Traceback" not in err
    assert err.startswith("calsync: Google refused the sign-in")
    assert not (tmp_path / "token.json").exists()


def test_the_token_folder_is_private_too(secrets: Path, tmp_path: Path) -> None:
    from calsync.targets.google import save_token

    target = tmp_path / "fresh" / "google-token.json"
    save_token(target, json.dumps({"token": ACCESS}))
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["google-token.json"]


# --- what a new user met: no browser, a wrong paste, every scope asked for -------------------


def sign_in(secrets: Path, tmp_path: Path, *options: str, paste: str = "", env: dict | None = None):
    """`calsync auth google --client-secrets S OPTIONS`, the `paste` typed at its prompt."""
    return subprocess.run(
        [sys.executable, "-m", "calsync.cli.main", "auth", "google", "--client-secrets", str(secrets),
         "--token", str(tmp_path / "token.json"), *options],
        input=paste + "\n", capture_output=True, text=True, timeout=60,
        env=env or {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"},
    )  # fmt: skip


def test_no_browser_on_the_machine_says_to_use_no_browser(secrets: Path, tmp_path: Path) -> None:
    headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    headless.update(PATH="/nonexistent", BROWSER="", OAUTHLIB_INSECURE_TRANSPORT="1")
    done = sign_in(secrets, tmp_path, env=headless)
    assert done.returncode == 1
    assert done.stderr == (
        "calsync: there is no browser to open here: run `calsync auth google --no-browser` "
        "and open the address it prints on any machine\n"
    )


def test_a_pasted_address_that_is_not_the_redirect_says_so(secrets: Path, tmp_path: Path) -> None:
    for garbage in ("hello", "http://localhost:1/?state=not-the-state&code=x", "4/0AbCdEf"):
        done = sign_in(secrets, tmp_path, "--no-browser", paste=garbage)
        assert done.returncode == 2, garbage
        assert "that is not the address Google redirected you to" in done.stderr
        assert "CSRF" not in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "token.json").exists()


@pytest.mark.parametrize(
    ("options", "asked"),
    [
        ((), {"calendar.app.created", "calendar.calendarlist.readonly"}),
        (
            ("--busy",),
            {"calendar.app.created", "calendar.calendarlist.readonly", "calendar.freebusy"},
        ),
        (
            ("--other-calendars",),
            {"calendar.app.created", "calendar.calendarlist.readonly", "calendar.events.owned"},
        ),
    ],
)
def test_google_is_asked_only_for_the_scopes_the_user_needs(
    secrets: Path, tmp_path: Path, options: tuple[str, ...], asked: set[str]
) -> None:
    done = sign_in(secrets, tmp_path, "--no-browser", *options, paste="hello")
    url = re.search(r"(http\S+state=\S+)", done.stdout).group(1)  # type: ignore[union-attr]
    scopes = parse_qs(urlsplit(url).query)["scope"][0].split()
    assert {s.removeprefix("https://www.googleapis.com/auth/") for s in scopes} == asked
    assert set(SCOPES) >= set(scopes)


def test_busy_time_without_the_busy_scope_says_how_to_get_it(tmp_path: Path) -> None:
    from tests.google_helpers import TEMPLATE, write_token

    token = write_token(tmp_path / "token.json", scopes=scopes_for())  # signed in without --busy
    result = CliRunner().invoke(
        cli,
        ["sync", "google", str(TEMPLATE), "--token", str(token), "--busy", "primary", "--dry-run"],
        env={"CALSYNC_GOOGLE_ENDPOINT": "http://127.0.0.1:9/"},  # never reached
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "calsync: the Google token does not allow reading free/busy time: sign in again "
        "with `calsync auth google --busy`\n"
    )
