"""The `intervals` target of `calsync refresh`: its config, and a refresh that runs it.

The server is tests/fakeintervals.py; the dates are given with --today and --now.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from calsync.cli.config import IntervalsTarget, parse_config
from calsync.cli.main import cli
from calsync.errors import ConfigError
from tests.fakeintervals import API_KEY, FakeIntervals
from tests.google_helpers import TEMPLATE


@pytest.fixture
def server() -> Iterator[FakeIntervals]:
    with FakeIntervals() as fake:
        yield fake


def config(text: str, tmp_path: Path) -> IntervalsTarget:
    parsed = parse_config(f'plan = "plan.yaml"\n{text}', tmp_path / "refresh.toml")
    (target,) = parsed.targets
    assert isinstance(target, IntervalsTarget)
    return target


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(f'plan = "plan.yaml"\n{text}', tmp_path / "refresh.toml")
    return [str(p) for p in caught.value.problems]


def test_an_intervals_target_reads_every_key(tmp_path: Path) -> None:
    target = config(
        "[[target]]\n"
        'type = "intervals"\n'
        'name = "head unit"\n'
        'athlete = "i424242"\n'
        'api_key_file = "keys/intervals"\n'
        'ride_type = "VirtualRide"\n'
        'indoor = ["intervals"]\n',
        tmp_path,
    )

    assert target == IntervalsTarget(
        name="head unit",
        athlete="i424242",
        api_key_file=tmp_path / "keys" / "intervals",
        ride_type="VirtualRide",
        indoor=("intervals",),
    )
    assert config('[[target]]\ntype = "intervals"\nkeyring = true\n', tmp_path).athlete == "0"


def test_an_api_key_in_the_config_is_refused_and_never_echoed(tmp_path: Path) -> None:
    found = problems(
        '[[target]]\ntype = "intervals"\napi_key = "s3cr3t-key"\napi_key_env = "K"\n', tmp_path
    )

    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'refresh.toml'}:4: target[1].api_key: ")
    assert "never written in the config" in found[0] and "s3cr3t-key" not in found[0]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("", "target[1]: give one of api_key_file, api_key_env, keyring = true"),
        (
            'api_key_env = "K"\nkeyring = true',
            "give one of api_key_file, api_key_env, keyring = true (found api_key_env, keyring)",
        ),
        ('keyring = true\nathlete = "me"', "target[1].athlete: expected 0 (the API key's owner)"),
        ('keyring = true\nride_type = "Zwift"', "target[1].ride_type: expected 'Ride' or 'Virtual"),
        ('keyring = true\nindoor = "intervals"', "target[1].indoor: expected a list of session"),
        ('api_key_env = "abc-123 x"', "target[1].api_key_env: expected the name of an environment"),
        ('keyring = true\nathelete = "0"', "unknown key (expected one of: api_key, api_key_env"),
    ],
)
def test_a_bad_intervals_target_names_the_key(tmp_path: Path, lines: str, expected: str) -> None:
    found = problems(f'[[target]]\ntype = "intervals"\n{lines}\n', tmp_path)

    assert any(expected in p for p in found), found


def refresh(folder: Path, server: FakeIntervals, day: str, key: str = API_KEY) -> Result:
    env = {
        "CALSYNC_INTERVALS_ENDPOINT": server.root_url,
        "CALSYNC_STATE_DIR": str(folder / "state"),
        "INTERVALS_KEY": key,
    }
    command = ["refresh", "--config", str(folder / "refresh.toml"), "--today", day]
    return CliRunner().invoke(cli, [*command, "--now", f"{day}T04:00:00+00:00"], env=env)


def test_refresh_keeps_intervals_in_step_with_the_rolling_window(
    server: FakeIntervals, tmp_path: Path
) -> None:
    shutil.copyfile(TEMPLATE, tmp_path / "plan.yaml")
    (tmp_path / "refresh.toml").write_text(
        'plan = "plan.yaml"\nweeks = 1\n'
        '[[target]]\ntype = "intervals"\napi_key_env = "INTERVALS_KEY"\nindoor = ["intervals"]\n',
        encoding="utf-8",
    )

    first = refresh(tmp_path, server, "2026-11-30")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("intervals.icu: 10 created, 0 updated, 0 deleted, 0 unchanged")
    assert len(server.events()) == 10

    server.reset_counters()
    same_day = refresh(tmp_path, server, "2026-11-30")
    assert "0 created, 0 updated, 0 deleted, 10 unchanged" in same_day.output
    assert server.writes == 0

    next_week = refresh(tmp_path, server, "2026-12-07")  # the newest week appears
    assert "intervals.icu: 10 created, 0 updated, 0 deleted, 0 unchanged" in next_week.output
    assert len(server.events()) == 20
    intervals = [e for e in server.events() if e["external_id"].endswith("/intervals")]
    assert {e["type"] for e in intervals} == {"VirtualRide"}


def test_a_refused_key_fails_the_intervals_target_only(
    server: FakeIntervals, tmp_path: Path
) -> None:
    shutil.copyfile(TEMPLATE, tmp_path / "plan.yaml")
    (tmp_path / "refresh.toml").write_text(
        'plan = "plan.yaml"\nweeks = 1\n'
        '[[target]]\ntype = "intervals"\napi_key_env = "INTERVALS_KEY"\n'
        '[[target]]\ntype = "ics"\npath = "training.ics"\n',
        encoding="utf-8",
    )

    result = refresh(tmp_path, server, "2026-11-30", key="wrong-key-77")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("intervals.icu: FAILED: intervals.icu refused the API key")
    assert lines[1] == f"ics {tmp_path / 'training.ics'}: 10 created, 0 updated, 0 unchanged"
    assert "wrong-key-77" not in result.output and API_KEY not in result.output
    assert (tmp_path / "training.ics").exists()
