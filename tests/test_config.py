"""The refresh config: what a good one becomes, and what every bad one says."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.config import (
    CalDAVTarget,
    Config,
    GoogleTarget,
    IcsTarget,
    load_config,
    parse_config,
)
from calsync.cli.main import cli
from calsync.cli.refresh import cron_command, refresh_command
from calsync.errors import ConfigError

FULL = """\
plan = "plan.yaml"
weeks = 6

[[target]]
type = "ics"
path = "~/public_html/training.ics"

[[target]]
type = "google"
name = "work google"
calendar = "Training"
token = "secrets/token.json"
busy = ["primary", "Work"]

[[target]]
type = "caldav"
url = "https://caldav.fastmail.com/dav/calendars/user/me@fastmail.com/"
username = "me@fastmail.com"
password_file = "~/.config/calsync/fastmail-password"
busy = ["Family"]
insecure = false
"""


def problems(text: str, source: Path = Path("/cfg/refresh.toml")) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source)
    return [str(p) for p in caught.value.problems]


def test_a_full_config_becomes_frozen_dataclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/rider")
    config = parse_config(FULL, Path("/plans/calsync/refresh.toml"))
    assert config == Config(
        plan=Path("/plans/calsync/plan.yaml"),
        weeks=6,
        targets=(
            IcsTarget(None, Path("/home/rider/public_html/training.ics")),
            GoogleTarget(
                name="work google",
                calendar="Training",
                token=Path("/plans/calsync/secrets/token.json"),
                service_account=None,
                busy=("primary", "Work"),
            ),
            CalDAVTarget(
                name=None,
                url="https://caldav.fastmail.com/dav/calendars/user/me@fastmail.com/",
                username="me@fastmail.com",
                password_file=Path("/home/rider/.config/calsync/fastmail-password"),
                busy=("Family",),
            ),
        ),
        source=Path("/plans/calsync/refresh.toml"),
    )
    with pytest.raises(AttributeError):
        config.weeks = 3  # type: ignore[misc]


def test_defaults_and_the_smallest_config() -> None:
    config = parse_config('plan = "p.yaml"\n[[target]]\ntype = "google"\n', Path("/c/r.toml"))
    assert config.weeks == 4
    assert config.targets == (GoogleTarget(name=None),)


def test_caldav_secrets_by_environment_or_keyring() -> None:
    text = 'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "http://127.0.0.1:5232/"\n'
    by_env = parse_config(text + 'password_env = "CALDAV_PASSWORD"\n', Path("/c/r.toml"))
    assert by_env.targets[0].password_env == "CALDAV_PASSWORD"  # type: ignore[union-attr]
    by_keyring = parse_config(text + "keyring = true\ninsecure = true\n", Path("/c/r.toml"))
    target = by_keyring.targets[0]
    assert isinstance(target, CalDAVTarget) and target.keyring and target.insecure


def test_load_config_reads_the_file_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "refresh.toml").write_text(
        'plan = "../plan.yaml"\n[[target]]\ntype = "ics"\npath = "out.ics"\n', encoding="utf-8"
    )
    config = load_config(tmp_path / "sub" / "refresh.toml")
    assert config.plan.resolve() == (tmp_path / "plan.yaml").resolve()
    assert config.targets == (IcsTarget(None, tmp_path / "sub" / "out.ics"),)


S = "/cfg/refresh.toml"
TARGET = '\n[[target]]\ntype = "ics"\npath = "x.ics"\n'

# (config text, the message expected: file, line, key and what is wrong)
BAD = {
    "syntax": ('plan = "plan.yaml\n' + TARGET, f"{S}:1: invalid TOML: Illegal character"),
    "syntax-later": (
        'plan = "p.yaml"\n[[target]]\ntype = "ics"\npath = x.ics\n',
        f"{S}:4: invalid TOML: Invalid value",
    ),
    "unknown-top": (
        'plan = "p.yaml"\nweek = 3\n' + TARGET,
        f"{S}:2: week: unknown key (expected one of: plan, target, weeks); did you mean 'weeks'?",
    ),
    "missing-plan": ("weeks = 2\n" + TARGET, f"{S}:1: plan: is required but missing"),
    "plan-not-text": (
        "plan = 3\n" + TARGET,
        f"{S}:1: plan: expected a string in quotes, got a number",
    ),
    "weeks-zero": (
        'plan = "p.yaml"\nweeks = 0\n' + TARGET,
        f"{S}:2: weeks: must be between 1 and 52",
    ),
    "weeks-big": (
        'plan = "p.yaml"\nweeks = 53\n' + TARGET,
        f"{S}:2: weeks: must be between 1 and 52",
    ),
    "weeks-text": (
        'plan = "p.yaml"\nweeks = "4"\n' + TARGET,
        f"{S}:2: weeks: expected a whole number of weeks, got '4'",
    ),
    "weeks-float": (
        'plan = "p.yaml"\nweeks = 2.5\n' + TARGET,
        f"{S}:2: weeks: expected a whole number",
    ),
    "no-targets": ('plan = "p.yaml"\n', f"{S}:1: no targets: add at least one [[target]]"),
    "target-table": (
        'plan = "p.yaml"\n[target]\ntype = "ics"\n',
        f"{S}:2: target: expected [[target]] tables",
    ),
    "unknown-type": (
        'plan = "p.yaml"\n[[target]]\ntype = "outlook"\n',
        f"{S}:3: target[1].type: unknown target type 'outlook' (expected 'ics' | 'google' | 'caldav' | 'intervals')",
    ),
    "missing-type": (
        'plan = "p.yaml"\n[[target]]\npath = "x.ics"\n',
        f"{S}:2: target[1].type: is required but missing",
    ),
    "ics-missing-path": (
        'plan = "p.yaml"\n[[target]]\ntype = "ics"\n',
        f"{S}:2: target[1].path: is required but missing",
    ),
    "unknown-key-in-target": (
        'plan = "p.yaml"\n[[target]]\ntype = "google"\ncalender = "Training"\n',
        f"{S}:4: target[1].calender: unknown key (expected one of: busy, calendar, name, "
        "service_account, token, type); did you mean 'calendar'?",
    ),
    "busy-not-a-list": (
        'plan = "p.yaml"\n[[target]]\ntype = "google"\nbusy = "primary"\n',
        f'{S}:4: target[1].busy: expected a list of calendar names, e.g. ["primary"]',
    ),
    "token-and-service-account": (
        'plan = "p.yaml"\n[[target]]\ntype = "google"\ntoken = "t.json"\nservice_account = "s.json"\n',
        f"{S}:5: target[1].service_account: give token or service_account, not both",
    ),
    "inline-password": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://dav.example.com/"\n'
        'password = "hunter2"\n',
        f"{S}:5: target[1].password: a password is never written in the config",
    ),
    "caldav-missing-url": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nusername = "me"\n',
        f"{S}:2: target[1].url: is required but missing",
    ),
    "caldav-bad-url": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "dav.example.com"\n',
        f"{S}:4: target[1].url: expected an http:// or https:// address",
    ),
    "caldav-two-secrets": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://d.example/"\n'
        'password_file = "pw"\npassword_env = "PW"\n',
        f"{S}:6: target[1].password_env: give one of password_file, password_env, keyring",
    ),
    "caldav-bad-env-name": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://d.example/"\n'
        'password_env = "$PW"\n',
        f"{S}:5: target[1].password_env: expected the name of an environment variable",
    ),
    "caldav-keyring-holding-a-password-is-not-echoed": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://d.example/"\n'
        'keyring = "hunter2"\n',
        f"{S}:5: target[1].keyring: expected true or false, got text",
    ),
    "caldav-password-in-the-url": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://me:hunter2@d.example/"\n',
        f"{S}:4: target[1].url: a password is never written in the config",
    ),
    "caldav-insecure-text": (
        'plan = "p.yaml"\n[[target]]\ntype = "caldav"\nurl = "https://d.example/"\n'
        'insecure = "yes"\n',
        f"{S}:5: target[1].insecure: expected true or false, got text",
    ),
    "second-target-line": (
        'plan = "p.yaml"\n' + TARGET + '\n[[target]]\ntype = "ics"\npath = ""\n',
        f"{S}:9: target[2].path: must not be empty",
    ),
    "same-ics-path-twice": (
        'plan = "p.yaml"\n' + TARGET + TARGET,
        f"{S}:9: target[2].path: the same path as target[1]",
    ),
}


@pytest.mark.parametrize("text, expected", BAD.values(), ids=BAD.keys())
def test_bad_configs_name_file_line_and_key(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found
    assert not any("hunter2" in p for p in found), "a password is never echoed"


def test_every_problem_is_reported_at_once() -> None:
    text = (
        'plan = "p.yaml"\nweeks = 99\ncolour = "red"\n'
        '[[target]]\ntype = "ics"\n'
        '[[target]]\ntype = "fax"\n'
    )
    found = problems(text)
    assert [p.split(": ")[0] for p in found] == [
        f"{S}:2",
        f"{S}:3",
        f"{S}:4",
        f"{S}:7",
    ], found


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(b'plan = "p.yaml"\n# caf\xe9\n', Path(S))
    assert str(caught.value) == f"{S}:2: expected UTF-8 text"
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nowhere.toml")
    assert str(caught.value).startswith(f"{tmp_path / 'nowhere.toml'}:1: cannot read the config")


@pytest.fixture
def calsync(monkeypatch: pytest.MonkeyPatch) -> object:
    # The lead registers these in cli.py; adding them here keeps the tests independent.
    # monkeypatch takes them out after the test: left in the shared group, they were
    # listed twice in the `calsync --help` of every later test in the same process.
    monkeypatch.setitem(cli.commands, "refresh", refresh_command)
    monkeypatch.setitem(cli.commands, "cron", cron_command)
    return cli


@pytest.mark.parametrize("name", ["syntax", "unknown-type", "inline-password", "weeks-big"])
@pytest.mark.parametrize("command", ["refresh", "cron"])
def test_the_commands_exit_2_with_the_message_and_no_traceback(
    tmp_path: Path, calsync: object, name: str, command: str
) -> None:
    config = tmp_path / "refresh.toml"
    config.write_text(BAD[name][0], encoding="utf-8")
    result = CliRunner().invoke(
        calsync,  # type: ignore[arg-type]
        [command, "--config", str(config)],
        env={"CALSYNC_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 2, result.output
    expected = BAD[name][1].replace(S, str(config))
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
