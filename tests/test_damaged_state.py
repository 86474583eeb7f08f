"""calsync's own state files, damaged: one line naming the file and the problem, exit 2,
nothing overwritten (issue 12, item 5). The CalDAV memory of created events is the
exception: losing it only risks bringing back deleted sessions, so a damaged one is one
warning and the sync goes on.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import caldav
import pytest
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from calsync.sync.engine import Action
from calsync.targets.caldav import KnownEvents
from calsync.targets.intervals.state import Made
from fakes.radicale_server import RadicaleServer
from tests.google_helpers import TEMPLATE, write_token

NOW = "2026-11-26T08:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    shutil.copyfile(TEMPLATE, path)
    return path


@pytest.fixture
def written(plan: Path, tmp_path: Path) -> Path:
    """training.ics as calsync wrote it for two weeks from 2026-11-30."""
    out = tmp_path / "training.ics"
    result = run("ics", str(plan), "-o", str(out), "--from", "2026-11-30", "--weeks", "2")
    assert result.exit_code == 0, result.output
    return out


def first(pattern: str, replacement: str) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, replacement, text, count=1, flags=re.MULTILINE)


DAMAGE = {
    "SEQUENCE:abc": (
        first(r"^SEQUENCE:0\r$", "SEQUENCE:abc\r"),
        "SEQUENCE 'abc' is not a whole number",
    ),
    "garbage DTSTART": (
        first(
            r"^DTSTART;TZID=Europe/Brussels:\d{8}T\d{6}\r$", "DTSTART;TZID=Europe/Brussels:soon\r"
        ),
        "DTSTART 'soon' is not a date and time",
    ),
    "Martian DTSTART": (
        first(r"^DTSTART;TZID=Europe/Brussels:", "DTSTART;TZID=Mars/Olympus_Mons:"),
        "DTSTART names the time zone 'Mars/Olympus_Mons', which is not an IANA zone",
    ),
    "no UID": (first(r"^UID:.*\r\n", ""), "an event has no UID"),
    "no DTSTAMP": (first(r"^DTSTAMP:.*\r\n", ""), "an event has no DTSTAMP"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_previous_ics_is_named_and_not_overwritten(
    damage: str, plan: Path, written: Path
) -> None:
    change, problem = DAMAGE[damage]
    text = written.read_bytes().decode()
    damaged = change(text)
    assert damaged != text
    written.write_bytes(damaged.encode())

    result = run("ics", str(plan), "-o", str(written), "--from", "2026-12-07", "--now", NOW)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"calsync: {written}:")
    assert problem in line
    # The line number points at the damage (or, for a missing property, its event).
    number = int(line.removeprefix(f"calsync: {written}:").split(":")[0])
    shown = damaged.splitlines()[number - 1]
    assert shown.startswith(("BEGIN:VEVENT", damage.split()[-1].split(":")[0]))
    assert written.read_bytes() == damaged.encode()


def test_a_refresh_names_the_damaged_ics_for_that_target(
    plan: Path, written: Path, tmp_path: Path
) -> None:
    written.write_bytes(
        first(r"^SEQUENCE:0\r$", "SEQUENCE:abc\r")(written.read_bytes().decode()).encode()
    )
    before = written.read_bytes()
    assert b"SEQUENCE:abc" in before
    config = tmp_path / "refresh.toml"
    config.write_text(f'plan = "plan.yaml"\n[[target]]\ntype = "ics"\npath = "{written.name}"\n')
    result = run(
        "refresh", "--config", str(config), "--today", "2026-11-30", "--now", NOW,
        env={"CALSYNC_STATE_DIR": str(tmp_path / "state")},
    )  # fmt: skip
    assert result.exit_code == 1  # one target failed; the run itself is fine
    assert "SEQUENCE 'abc' is not a whole number" in result.output
    assert written.read_bytes() == before


TOKENS = {
    "a JSON list": ("[]", "a JSON list where an object was expected"),
    "not JSON": ('{"token": "ya29', "not JSON"),
    "fields missing": ('{"token": "ya29.x"}', "missing fields"),
}


@pytest.mark.parametrize("content", TOKENS, ids=list(TOKENS))
def test_a_damaged_google_token_is_named_exit_2(content: str, plan: Path, tmp_path: Path) -> None:
    text, problem = TOKENS[content]
    token = tmp_path / "google-token.json"
    token.write_text(text, encoding="utf-8")
    result = run(
        "sync", "google", str(plan), "--token", str(token), "--from", "2026-11-30",
        env={"CALSYNC_GOOGLE_ENDPOINT": "http://127.0.0.1:9/"},  # never reached
    )  # fmt: skip
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"calsync: {token}: ") and problem in line
    assert "calsync auth google" in line
    assert token.read_text(encoding="utf-8") == text


def test_a_good_token_still_loads(tmp_path: Path) -> None:
    from calsync.targets.google import load_credentials

    credentials = load_credentials(write_token(tmp_path / "t.json"), None)
    assert credentials.refresh_token == "1//test-refresh-token"


# --- what calsync made (CalDAV, intervals.icu): a warning, never a failure -----------

GOOD_ENTRY = {
    "plan": "p",
    "href": "/athlete/training/p-2026-11-30-legs@calsync.ics",
    "start": "2026-11-30T10:00:00+01:00",
    "summary": "🏋 Legs",
    "hash": "0123456789abcdef0123",
    "sequence": 0,
}
GOOD_WORKOUT = {
    "plan": "p",
    "id": "4812",
    "start": "2026-11-30T10:00:00+01:00",
    "name": "🏋 Legs",
    "hash": "0123456789abcdef0123",
}
# Each memory with an entry it keeps and how its warnings name it.
KINDS = {
    "caldav": (KnownEvents, GOOD_ENTRY, "the CalDAV state file"),
    "intervals": (Made, GOOD_WORKOUT, "the intervals.icu state file"),
}


def memories(good: dict[str, object]) -> dict[str, tuple[bytes, str]]:
    bad = {"version": 1, "events": {"p/2026-11-30/legs": good, "x": "no"}}
    return {
        "not JSON": (b'{"version": 1, "events": {', "is damaged (not JSON"),
        "not UTF-8": (b"\xff\xfe\x00garbage", "is damaged (not JSON"),
        "a list": (b"[]", "is damaged (no 'events' object)"),
        "an unknown version": (b'{"version": 7, "events": {}}', "has an unknown version 7"),
        "a bad entry": (json.dumps(bad).encode(), "is damaged (1 unusable entry dropped)"),
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", memories(GOOD_ENTRY))
def test_a_damaged_memory_is_one_warning(kind: str, content: str, tmp_path: Path) -> None:
    memory, good, name = KINDS[kind]
    data, problem = memories(good)[content]
    path = tmp_path / "memory.json"
    path.write_bytes(data)
    said: list[str] = []
    known = memory(path, said.append)
    (warning,) = said
    assert warning.startswith(f"{name} {path} ") and problem in warning
    assert "may come back" in warning
    assert set(known.entries) <= {"p/2026-11-30/legs"}
    if content == "a bad entry":
        assert known.entries == {"p/2026-11-30/legs": good}


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_memory_is_one_warning(kind: str, tmp_path: Path) -> None:
    memory, _, name = KINDS[kind]
    path = tmp_path / "memory.json"
    path.mkdir()  # reading a folder fails for root too, unlike a mode 000 file
    said: list[str] = []
    memory(path, said.append)
    (warning,) = said
    assert f"{name} {path} cannot be read" in warning


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_memory_says_nothing(kind: str, tmp_path: Path) -> None:
    memory, good, _ = KINDS[kind]
    path = tmp_path / "memory.json"
    path.write_text(json.dumps({"version": 1, "events": {"p/2026-11-30/legs": good}}))
    said: list[str] = []
    known = memory(path, said.append)
    assert said == [] and known.entries == {"p/2026-11-30/legs": good}


@pytest.mark.parametrize("kind", KINDS)
def test_a_memory_that_cannot_be_written_is_one_warning(kind: str, tmp_path: Path) -> None:
    memory, good, _ = KINDS[kind]
    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    said: list[str] = []
    known = memory(blocked / "caldav" / "memory.json", said.append)
    known.keep("p/2026-11-30/legs", dict(good))
    known.save()  # does not raise: the calendar is in step, only the memory is not
    (warning,) = said
    assert str(blocked / "caldav" / "memory.json") in warning


def test_a_sync_with_a_damaged_caldav_memory_warns_once_and_goes_on(
    radicale: RadicaleServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from calsync.io.plans import load_plan
    from calsync.sync.request import Range, SyncRequest
    from calsync.targets import caldav as cs

    plan = load_plan(TEMPLATE)
    name = f"t{uuid.uuid4().hex[:12]}"
    other = caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)
    other.principal().make_calendar(name=name, cal_id=name)
    state = tmp_path / "known.json"
    state.write_text('{"version": 1, "events": {', encoding="utf-8")  # cut off mid-write
    first = date(2026, 11, 30)
    request = SyncRequest(
        span=Range(first, 1),
        now=plan.midnight(first),
        not_before=plan.midnight(first),
        overwrite_edits=False,
        restore_deleted=False,
        annotate=True,
        dry_run=False,
    )

    report = cs.caldav_target(
        plan, request, f"{radicale.home}{name}/", None, radicale.user, radicale.password, (),
        False, state_path=state,
    )  # fmt: skip

    assert not report.failures and report.changes.of(Action.CREATE)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("calsync: WARNING: the CalDAV state file ") and str(state) in line
    remembered = json.loads(state.read_text(encoding="utf-8"))["events"]
    assert len(remembered) == len(report.changes.of(Action.CREATE))
