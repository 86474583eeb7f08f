"""What a new user reads before running anything: every command's --help has an
example, the README's cron line keeps the user's crontab, and what calsync does
without being told (completion, defaults, limits) is written down."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [
    ["validate"], ["show"], ["check"], ["plan"], ["ics"], ["sync", "google"],
    ["sync", "caldav"], ["auth", "google"], ["refresh"], ["cron"], ["templates"], ["init"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(command: list[str]) -> None:
    text = CliRunner().invoke(cli, [*command, "--help"]).stdout
    assert re.search(r"^  Examples?:$", text, re.MULTILINE), text
    assert re.search(rf"^    .*calsync {' '.join(command)}\b", text, re.MULTILINE), text


def test_the_readme_never_replaces_a_whole_crontab() -> None:
    assert not re.search(r"^\s*calsync cron[^|\n]*\| crontab -", README, re.MULTILINE)
    assert "(crontab -l 2>/dev/null; calsync cron) | crontab -" in README


@pytest.mark.parametrize(
    "documented",
    [
        "`--config FILE` and `--log FILE`",  # cron
        "`--weeks` to 4 (1 to 520)",
        "`~/.config/calsync/client_secret.json`",  # auth google's default client file
        "_CALSYNC_COMPLETE=bash_source calsync",
        "_CALSYNC_COMPLETE=zsh_source calsync",
        "_CALSYNC_COMPLETE=fish_source calsync",
    ],
)
def test_the_readme_says_what_calsync_does_by_default(documented: str) -> None:
    assert documented in README


@pytest.mark.skipif(shutil.which("calsync") is None, reason="needs the installed console script")
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_scripts_exist(shell: str) -> None:
    done = subprocess.run(
        ["calsync"],
        env={**os.environ, "_CALSYNC_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert "_CALSYNC_COMPLETE" in done.stdout and "complete" in done.stdout


def test_the_default_client_secret_path_is_the_one_the_readme_names(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["auth", "google"], env={"XDG_CONFIG_HOME": str(tmp_path / "config")}
    )
    assert result.exit_code == 2
    assert f"no OAuth client file at {tmp_path}/config/calsync/client_secret.json" in result.stderr
    assert "--client-secrets" in result.stderr
