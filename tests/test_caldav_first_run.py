"""A new user's first `calsync sync caldav`, against a real Radicale: the messages say
what is wrong, and the README's own Radicale row works."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from fakes.radicale_server import RadicaleServer

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
RANGE = ["--from", "2026-11-30", "--weeks", "1"]


def sync_caldav(*args: str, password: str | None = None, state: Path) -> Result:
    env = {"XDG_STATE_HOME": str(state)}
    if password is not None:
        env["CALSYNC_TEST_PASSWORD"] = password
        args = (*args, "--password-env", "CALSYNC_TEST_PASSWORD")
    with time_machine.travel("2026-11-29 12:00 +00:00", tick=False):  # the Sunday before
        return CliRunner().invoke(cli, ["sync", "caldav", str(TEMPLATE), *RANGE, *args], env=env)


@pytest.fixture(scope="module")
def open_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """A fresh Radicale started with `--auth-type none`: anyone may log in as anyone."""
    server = RadicaleServer.in_memory(tmp_path_factory.mktemp("open-radicale"))
    server.auth = "none"
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


def test_https_to_a_plain_http_server_says_it_does_not_speak_tls(
    radicale: RadicaleServer,
    tmp_path: Path,
) -> None:
    url = f"https://127.0.0.1:{radicale.port}/{radicale.user}/"
    for extra in ([], ["--insecure"]):
        result = sync_caldav(
            "--url", url, "--username", radicale.user, *extra,
            password=radicale.password, state=tmp_path,
        )  # fmt: skip
        assert result.exit_code == 1, result.output
        assert (
            f"calsync: the server at https://127.0.0.1:{radicale.port} does not speak TLS at "
            f"this address (a plain-HTTP server? then the URL is "
            f"http://127.0.0.1:{radicale.port}/{radicale.user}/)"
        ) in result.stderr
        assert "could not be verified" not in result.stderr


def test_a_username_without_a_password_source_is_a_usage_error(
    radicale: RadicaleServer,
    tmp_path: Path,
) -> None:
    result = sync_caldav("--url", radicale.home, "--username", radicale.user, state=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "calsync: no password given: use --password-file, --password-env or --keyring\n"
    )
    assert radicale.requests()["PROPFIND"] == 0 or "401" not in result.stderr


def test_the_readme_radicale_row_works_on_a_server_without_authentication(
    open_radicale: RadicaleServer, tmp_path: Path
) -> None:
    # README: Radicale, `--url http://host:5232/USER/` with --calendar Training
    url = f"{open_radicale.root}alice/"
    result = sync_caldav(
        "--url", url, "--calendar", "Training", "--username", "alice", "--json",
        password="anything", state=tmp_path,
    )  # fmt: skip
    assert result.exit_code in (0, 3), result.output
    report = json.loads(result.stdout)
    assert report["counts"]["created"] == 10
    again = sync_caldav(
        "--url", url, "--calendar", "Training", "--username", "alice", "--json",
        password="anything", state=tmp_path,
    )  # fmt: skip
    assert json.loads(again.stdout)["counts"]["unchanged"] == 10


def test_a_warning_the_target_gives_is_on_stderr_and_in_the_json(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    result = sync_caldav(
        "--url", radicale.home, "--calendar", f"Training {tmp_path.name}",
        "--username", radicale.user, "--insecure", "--json",
        password=radicale.password, state=tmp_path,
    )  # fmt: skip
    assert result.exit_code in (0, 3), result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1 and "TLS certificate is NOT checked" in warnings[0], warnings
    assert f"calsync: WARNING: {warnings[0]}\n" in result.stderr
