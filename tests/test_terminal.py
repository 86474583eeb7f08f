"""calsync in a terminal and in a pipe, as a new user meets it: colours that follow
NO_COLOR, TERM=dumb and --color; `| head` and Ctrl-C; `calsync plan` without --json."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli

TEMPLATE = str(Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml")
FROM = ["--from", "2026-11-30"]
ANSI = "\x1b["


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """The output as a terminal would get it (the runner's color=True is a tty)."""
    result = CliRunner().invoke(cli, list(args), color=True, env=env or {})
    return result.output


# --- 13. colours -------------------------------------------------------------------------------


def test_a_terminal_gets_colours_by_default() -> None:
    assert ANSI in on_a_terminal("validate", TEMPLATE, env={"NO_COLOR": "", "TERM": "xterm"})


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_a_dumb_terminal_get_none(env: dict[str, str]) -> None:
    assert ANSI not in on_a_terminal("validate", TEMPLATE, env=env)


def test_color_never_and_always_override_the_guess() -> None:
    assert ANSI not in on_a_terminal("--color", "never", "validate", TEMPLATE)
    piped = CliRunner().invoke(cli, ["--color", "always", "validate", TEMPLATE], color=False)
    assert ANSI in piped.output


# --- 17. pipes, Ctrl-C, plan -------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("calsync") is None, reason="needs the installed console script")
def test_a_reader_that_stops_early_is_not_a_failure() -> None:
    shown = subprocess.Popen(
        ["calsync", "show", TEMPLATE, *FROM, "--weeks", "520"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert shown.stdout is not None and shown.stderr is not None
    first = shown.stdout.readline()
    shown.stdout.close()  # what `| head -1` does after its line
    status = shown.wait(timeout=60)
    assert first.startswith(b"Week 1 (build)")
    assert status == 0
    assert shown.stderr.read() == b""


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("calsync.cli.main.load_plan", interrupted)
    result = CliRunner().invoke(cli, ["validate", TEMPLATE])
    assert result.exit_code == 130
    assert result.stderr == "calsync: interrupted\n"


def test_plan_prints_json_without_being_asked() -> None:
    result = CliRunner().invoke(cli, ["plan", TEMPLATE, *FROM, "--weeks", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["sessions"] == 10


# --- 14. wrapped to the terminal, repeats grouped ----------------------------------------------


def check(*args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["check", TEMPLATE, *FROM, *args])
    return result.stdout.splitlines()


def in_a_terminal(*args: str, columns: int) -> list[str]:
    """`calsync ARGS` with a pseudo-terminal of `columns` columns as its output."""
    import os
    import pty

    main, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    with subprocess.Popen(["calsync", *args], stdout=secondary, stderr=secondary, env=env) as run:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the program is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        run.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode().replace("\r\n", "\n").splitlines()


@pytest.mark.skipif(shutil.which("calsync") is None, reason="needs the installed console script")
def test_conflicts_wrap_to_an_80_column_terminal_with_hints_just_indented() -> None:
    output = in_a_terminal("check", TEMPLATE, *FROM, "--weeks", "4", columns=80)
    totals = next(i for i, line in enumerate(output) if line.endswith("0 errors, 6 warnings"))
    lines = output[: totals + 1]  # the conflicts and the totals (the load table follows)
    assert max(len(line) for line in lines) <= 80
    hints = [line for line in lines if line.lstrip().startswith("hint:")]
    assert hints and all(line.startswith("      hint: ") for line in hints)


def test_a_pipe_gets_one_line_per_conflict_for_grep() -> None:
    lines = check("--weeks", "1")
    assert lines[0].startswith("warn  Fri 2026-12-04  hypertrophy-ride 'Zone 2 ride' (17:00-18:00)")
    assert lines[1] == (
        "      hint: shorten 'Zone 2 ride' to an easy 20m, or move it to Wednesday 15:00"
    )


def test_a_weekly_warning_is_listed_once_for_all_its_weeks() -> None:
    lines = check("--weeks", "4")
    fridays = [line for line in lines if "hypertrophy-ride" in line]
    assert fridays == [
        "warn  every Fri from 4 Dec to 18 Dec 2026  hypertrophy-ride 'Zone 2 ride' "
        "(17:00-18:00) lasts 1h on a leg day: for muscle growth, at most an easy 20m ride"
    ]
    assert any(line.endswith("0 errors, 6 warnings") for line in lines)  # each one counted


def test_ten_years_of_warnings_fit_on_a_screen() -> None:
    lines = check("--weeks", "520")
    totals = next(i for i, line in enumerate(lines) if line.endswith("1038 warnings"))
    assert totals < 20  # the conflicts come before the totals
    assert any(
        line.startswith("warn  on 390 Fridays from 4 Dec 2026 to 7 Nov 2036") for line in lines
    )
