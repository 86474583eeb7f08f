"""A transcript of calsync's command line, recorded before the package moved into layer
folders (issue 13): every command prints the same bytes and exits with the same status
as before on the same inputs.

Each scenario below is a few invocations run one after the other in a folder of its
own (so a rerun sees the files the run before it wrote), in-process through click's
CliRunner, against the in-process fakes of Google Calendar (tests/fakegoogle.py) and
intervals.icu (tests/fakeintervals.py) where a scenario needs them. For each invocation
`tests/transcripts/SCENARIO.json` holds the arguments, the environment it set, stdout
and stderr (separately, as text), the exit status, and every file it created or changed
in the scenario's folder: the full text when it is UTF-8 of at most 20,000 characters,
else its size and sha256.

    CALSYNC_RECORD_TRANSCRIPT=1 python -m pytest tests/test_transcript.py   # re-record

Every invocation runs in this environment (so nothing depends on the day or the machine):
SOURCE_DATE_EPOCH=1795680000 (2026-11-26T08:00:00Z, the Thursday before the shipped
plans start; many invocations also give --now), CALSYNC_STATE_DIR, XDG_CONFIG_HOME and
XDG_STATE_HOME in the scenario's temporary folder, COLUMNS=80, no NO_COLOR, TERM,
CALSYNC_REQUEST_TIMEOUT, CALSYNC_MAX_WAIT or CALSYNC_RUN_TIMEOUT; the service endpoints
point at the fakes (or at 127.0.0.1:9, where nothing listens); PATH starts with a
folder holding a stand-in `calsync` program, the one `calsync cron` writes into its line.

Normalised (the only things that differ between two runs of the same code):

- the scenario's temporary folder (pytest's tmp_path), in output and file contents:
  `<TMP>`;
- the ports the fake servers listen on: `<GOOGLE-PORT>`, `<INTERVALS-PORT>`;
- the default config folder in the help of `refresh` and `cron` (calsync builds that
  help when the command's module is first imported, from the home folder of the test
  process; the scenarios import every command before the first invocation, so it never
  depends on which scenario ran first): `<USER-CONFIG>`. The help is wrapped around the
  real path (`/root/.config/calsync` when recorded), so such help is compared word by
  word, whatever the length of the path on the machine running the test;
- the time at the start of each line of a `refresh --log` file, which is the machine's
  clock by design (a log says when a run really happened): `<WALL-CLOCK>`.

The state folder (locks, whose file names are digests of the temporary paths) is not
part of the recorded files.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
import os
import re
import shlex
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from filelock import FileLock
from platformdirs import user_config_path

from tests.fakegoogle import FakeGoogleCalendar
from tests.fakeintervals import API_KEY, FakeIntervals
from tests.google_helpers import seed_work_week, write_token

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
DATA = Path(__file__).resolve().parent / "data"
RECORD = os.environ.get("CALSYNC_RECORD_TRANSCRIPT") == "1"
EPOCH = "1795680000"  # 2026-11-26T08:00:00Z
NOW = "2026-11-26T08:00:00Z"
NOWHERE = "http://127.0.0.1:9/"  # the discard port: nothing listens, every connection refused
MAX_TEXT = 20_000


def calsync_command() -> click.Command:
    """The click group behind the `calsync` program: the one place this file names it.
    Before issue 13's move it is `cli` in calsync/cli.py; after it, in calsync/cli/main.py
    (`calsync.cli.main:main` runs it)."""
    for name in ("calsync.cli.main", "calsync.cli"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        command = getattr(module, "cli", None)
        if isinstance(command, click.Command):
            return command
    raise LookupError("no click group `cli` in calsync.cli.main or calsync.cli")


# --- the scenarios ----------------------------------------------------------------------


@dataclass
class World:
    """What a scenario's invocations run in: its folder and the fakes it started."""

    folder: Path
    google: FakeGoogleCalendar | None = None
    intervals: FakeIntervals | None = None


Prepare = Callable[[World], None]


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    before: Prepare | None = None  # changes files or a fake before the run (not recorded)
    lock: bool = False  # another `calsync refresh` holds the refresh lock during the run


@dataclass(frozen=True)
class Scenario:
    setup: Prepare
    steps: tuple[Step, ...]
    google: bool = False
    intervals: bool = False


def step(name: str, command: str, **options: Any) -> Step:
    """An invocation written as on a shell line (without `calsync`)."""
    return Step(name, tuple(shlex.split(command)), **options)


def nothing(world: World) -> None:
    """A scenario that needs no files."""


def out_folder(world: World) -> None:
    (world.folder / "out").mkdir()


def copy_template(name: str, to: str = "plan.yaml") -> Prepare:
    def setup(world: World) -> None:
        shutil.copyfile(ROOT / "templates" / f"{name}.yaml", world.folder / to)

    return setup


def edit(name: str, old: str, new: str) -> Prepare:
    def change(world: World) -> None:
        path = world.folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def write(name: str, text: str) -> Prepare:
    def setup(world: World) -> None:
        (world.folder / name).write_text(text, encoding="utf-8")

    return setup


def all_of(*parts: Prepare) -> Prepare:
    def setup(world: World) -> None:
        for part in parts:
            part(world)

    return setup


def copy_data(name: str) -> Prepare:
    def setup(world: World) -> None:
        shutil.copyfile(DATA / name, world.folder / name)

    return setup


def rider_without_week(world: World) -> None:
    """The rider's plan as first written: its wants, no week yet (as tests/test_fit.py)."""
    text = (ROOT / "templates" / "rider-fit.yaml").read_text(encoding="utf-8")
    text = re.sub(r"week: .*?\n\n", "", text, count=1, flags=re.S)
    (world.folder / "rider.yaml").write_text(text, encoding="utf-8")


def google_files(world: World) -> None:
    copy_template("hybrid-hypertrophy")(world)
    write_token(world.folder / "token.json")


def intervals_key(world: World) -> None:
    path = world.folder / "intervals-key"
    path.write_text(API_KEY + "\n", encoding="utf-8")
    path.chmod(0o600)


def work_week(world: World) -> None:
    """A realistic work week in the primary calendar (tests/google_helpers.py)."""
    assert world.google is not None
    seed_work_week(world.google, world.google.owner, date(2026, 11, 30))


def athlete_deletes_first_workout(world: World) -> None:
    assert world.intervals is not None
    first = min(e["id"] for e in world.intervals.events())
    world.intervals.delete_event(first)


def damage_ics(name: str) -> Prepare:
    """The first event's SEQUENCE of a file calsync wrote made unreadable."""

    def damage(world: World) -> None:
        path = world.folder / name
        text = path.read_bytes().decode()
        damaged = re.sub(r"^SEQUENCE:0\r$", "SEQUENCE:abc\r", text, count=1, flags=re.M)
        assert damaged != text
        path.write_bytes(damaged.encode())

    return damage


BROKEN_YAML = "plan: hybrid\ntimezone: Europe/Brussels\nweek: [mon: legs\n"
PINGER = (  # a busy calendar whose event repeats every second, for ever (exit 2)
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:t@test\r\n"
    "SUMMARY:Ping\r\nDTSTART:20200101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
REFRESH_TOML = """\
plan = "plan.yaml"
weeks = 1

[[target]]
type = "ics"
path = "out/training.ics"

[[target]]
type = "google"
token = "token.json"
busy = ["primary"]

[[target]]
type = "intervals"
api_key_file = "intervals-key"
"""
UNKNOWN_KEY = edit("plan.yaml", "goal: hypertrophy", "colour: blue\ngoal: hypertrophy")
ERROR_LEVEL = all_of(  # a second ride right after Wednesday's intervals: gap, level error
    edit("plan.yaml", "colour: blue\n", ""),
    edit("plan.yaml", "  wed: [intervals 20:00]", "  wed: [intervals 20:00, z2 21:00]"),
)
RENAMED = edit("plan.yaml", "title: Upper body", "title: Upper body and arms")
HELP = [
    "validate", "show", "check", "plan", "ics", "fit", "refresh", "cron", "sync",
    "sync google", "sync caldav", "sync intervals", "auth", "auth google", "templates", "init",
]  # fmt: skip
P = "plan.yaml"
W1 = "--from 2026-11-30 --weeks 1"  # the first week of the shipped plans
GOOGLE = f"sync google {P} --token token.json {W1} --now {NOW}"
INTERVALS = f"sync intervals {P} {W1} --now {NOW}"
CALDAV = f"sync caldav {P} {W1}"
REFRESH = "refresh --config refresh.toml"

SCENARIOS: dict[str, Scenario] = {
    "help": Scenario(
        nothing,
        (
            step("top-level help", "--help"),
            step("top-level -h", "-h"),
            step("version", "--version"),
            *(step(f"{name} --help", f"{name} --help") for name in HELP),
        ),
    ),
    "usage": Scenario(
        copy_template("hybrid-hypertrophy"),
        (
            step("no command", ""),
            step("unknown command", f"shwo {P}"),
            step("unknown option", f"show {P} --colour"),
            step("not a date", f"show {P} --from 2026-11-31"),
            step("weeks out of range", f"check {P} --weeks 0"),
            step("no such plan", "validate missing.yaml"),
            step("bad SOURCE_DATE_EPOCH", f"show {P}", env={"SOURCE_DATE_EPOCH": "soon"}),
            step("unknown sync target", f"sync outlook {P}"),
            step("ics has no --json", f"ics {P} -o training.ics {W1} --json"),
        ),
    ),
    "plan-commands": Scenario(
        all_of(copy_template("hybrid-hypertrophy"), copy_data("work-calendar.ics")),
        (
            step("templates", "templates"),
            step("init", "init cycling-first"),
            step("init over an existing file", "init cycling-first"),
            step("validate", f"validate {P}"),
            step("validate --fail-on warn", f"validate {P} --fail-on warn"),
            step("validate cycling-first", "validate cycling-first.yaml"),
            step("show two weeks", f"show {P} --from 2026-11-30 --weeks 2"),
            step("show from a weekday word", f"show {P} --from fri --weeks 1"),
            step("show from before the plan starts", f"show {P} --from 2026-11-02"),
            step("show --color always", f"--color always show {P} {W1}"),
            step("check four weeks", f"check {P} --from 2026-11-30 --weeks 4"),
            step("check --json with busy", f"check {P} {W1} --json --busy work-calendar.ics"),
            step("plan", f"plan {P} {W1} --now {NOW}"),
            step("plan --json with busy", f"plan {P} {W1} --json --busy work-calendar.ics"),
        ),
    ),
    "bad-input": Scenario(
        all_of(
            copy_template("hybrid-hypertrophy"),
            write("broken.yaml", BROKEN_YAML),
            write("pinger.ics", PINGER),
            copy_data("one-broken-event.ics"),
        ),
        (
            step("broken YAML", "validate broken.yaml"),
            step("broken YAML to ics", "ics broken.yaml -o never.ics"),
            step("a busy file that repeats for ever", f"show {P} {W1} --busy pinger.ics"),
            step("a busy file with a broken event", f"check {P} {W1} --busy one-broken-event.ics"),
            step("an unknown key", f"check {P} {W1}", before=UNKNOWN_KEY),
            step("a conflict at level error", f"check {P} {W1}", before=ERROR_LEVEL),
            step("a conflict at level error, ics still written", f"ics {P} -o training.ics {W1}"),
            step("a conflict at level error, --json", f"check {P} {W1} --json"),
        ),
    ),
    "ics": Scenario(
        copy_template("hybrid-hypertrophy"),
        (
            step("fresh", f"ics {P} -o training.ics {W1} --now {NOW}"),
            step("rerun over the previous file", f"ics {P} -o training.ics {W1}"),
            step(
                "a changed plan",
                f"ics {P} -o training.ics {W1} --now 2026-11-28T08:00:00Z",
                before=RENAMED,
            ),
            step("to stdout", f"ics {P} --from 2026-12-21 --weeks 1"),
            step(
                "a damaged previous file",
                f"ics {P} -o training.ics {W1} --now 2026-11-29T08:00",
                before=damage_ics("training.ics"),
            ),
        ),
    ),
    "fit": Scenario(
        all_of(rider_without_week, copy_template("hybrid-hypertrophy")),
        (
            step("fit", "fit rider.yaml --from 2026-12-07"),
            step("fit --json", "fit rider.yaml --from 2026-12-07 --json"),
            step("fit --write", "fit rider.yaml --from 2026-12-07 --write"),
            step("fit --write again", "fit rider.yaml --from 2026-12-07 --write"),
            step("a plan without fit", f"fit {P} --from 2026-12-07"),
            step(
                "wants that cannot fit",
                "fit rider.yaml --from 2026-12-07 --write",
                before=edit("rider.yaml", "    legs: 2\n", "    legs: 4\n"),
            ),
        ),
    ),
    "google": Scenario(
        google_files,
        (
            step("dry run", f"{GOOGLE} --dry-run"),
            step("first sync, around a work week", f"{GOOGLE} --busy primary", before=work_week),
            step("rerun --json", f"{GOOGLE} --busy primary --json"),
            step("a changed plan", f"{GOOGLE} --busy primary", before=RENAMED),
            step("a damaged token", GOOGLE, before=write("token.json", '{"token": "ya29')),
        ),
        google=True,
    ),
    "intervals": Scenario(
        all_of(copy_template("hybrid-hypertrophy"), intervals_key),
        (
            step("first sync", f"{INTERVALS} --api-key-file intervals-key"),
            step(
                "rerun after the athlete deleted a workout",
                f"{INTERVALS} --api-key-file intervals-key --json",
                before=athlete_deletes_first_workout,
            ),
            step(
                "a wrong key",
                f"{INTERVALS} --api-key-env INTERVALS_KEY",
                env={"INTERVALS_KEY": "not-the-key"},
            ),
            step("no key", INTERVALS),
        ),
        intervals=True,
    ),
    "caldav": Scenario(
        all_of(copy_template("hybrid-hypertrophy"), write("password", "secret\n")),
        (
            step("not a URL", f"{CALDAV} --url caldav.example.com/dav --password-file password"),
            step("no password", f"{CALDAV} --url https://caldav.example.com/ --username me"),
            step("a password in the URL", f"{CALDAV} --url https://me:hunter2@caldav.example.com/"),
            step(
                "nothing listening",
                f"{CALDAV} --url http://127.0.0.1:9/me/ --username me --password-file password",
            ),
            step("no --url", f"sync caldav {P}"),
        ),
    ),
    "refresh": Scenario(
        all_of(google_files, intervals_key, write("refresh.toml", REFRESH_TOML), out_folder),
        (
            step("first run", f"{REFRESH} --today 2026-11-30"),
            step("the same day again, --json", f"{REFRESH} --today 2026-11-30 --json"),
            step("next week, --quiet, --log", f"{REFRESH} --today 2026-12-07 -q --log refresh.log"),
            step("another refresh holds the lock", f"{REFRESH} --today 2026-12-07", lock=True),
            step(
                "a damaged ics target",
                f"{REFRESH} --today 2026-12-07",
                before=damage_ics("out/training.ics"),
            ),
            step(
                "a config with an unknown key",
                REFRESH,
                before=edit("refresh.toml", "weeks = 1\n", "weeks = 1\nwhen = 5\n"),
            ),
            step("no config", "refresh --config missing.toml"),
            step(
                "cron", "cron --config refresh.toml", before=edit("refresh.toml", "when = 5\n", "")
            ),
            step(
                "cron --systemd",
                "cron --config refresh.toml --systemd --log refresh.log --at 'daily 06:30'",
            ),
            step("cron without a config", "cron"),
            step("cron at a bad time", "cron --config refresh.toml --at 'MON 25:00'"),
        ),
        google=True,
        intervals=True,
    ),
    "auth": Scenario(
        nothing,
        (
            step("no client file", "auth google --client-secrets nope.json"),
            step("no client file in the config folder", "auth google --no-browser"),
        ),
    ),
}


# --- running and recording ------------------------------------------------------------


def base_env(root: Path, world: World) -> dict[str, str | None]:
    return {
        "SOURCE_DATE_EPOCH": EPOCH,
        "CALSYNC_STATE_DIR": str(root / "state"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_STATE_HOME": str(root / "xdg-state"),
        "COLUMNS": "80",
        "LINES": "24",
        "NO_COLOR": None,
        "TERM": None,
        "CALSYNC_REQUEST_TIMEOUT": None,
        "CALSYNC_MAX_WAIT": None,
        "CALSYNC_RUN_TIMEOUT": None,
        "CALSYNC_GOOGLE_ENDPOINT": world.google.root_url if world.google else NOWHERE,
        "CALSYNC_INTERVALS_ENDPOINT": world.intervals.root_url if world.intervals else NOWHERE,
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }


class Normaliser:
    def __init__(self, root: Path, world: World) -> None:
        self.pairs: list[tuple[str, str]] = [(str(root), "<TMP>")]
        if world.google is not None:
            self.pairs.append(
                (f"127.0.0.1:{port_of(world.google.root_url)}", "127.0.0.1:<GOOGLE-PORT>")
            )
        if world.intervals is not None:
            self.pairs.append(
                (f"127.0.0.1:{port_of(world.intervals.root_url)}", "127.0.0.1:<INTERVALS-PORT>")
            )
        # click may wrap the path itself (after a '-' or '/'), so any line break with its
        # indent is allowed between two of its characters.
        folder = str(user_config_path("calsync"))
        self.user_config = re.compile(r"(?:\n *)?".join(re.escape(char) for char in folder))

    def __call__(self, text: str) -> str:
        for old, new in self.pairs:
            text = text.replace(old, new)
        return self.user_config.sub("<USER-CONFIG>", text)


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """The record as compared: help that names the user's config folder is wrapped
    around that folder's real path, so its words are compared, not where lines break."""
    if "<USER-CONFIG>" not in record.get("stdout", ""):
        return record
    return {**record, "stdout": " ".join(record["stdout"].split())}


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1].strip("/")


def snapshot(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(("state/", "bin/")):
            files[relative] = path.read_bytes()
    return files


# A `refresh --log` line starts with when the run happened: the machine's clock in its
# zone, on purpose never --now or SOURCE_DATE_EPOCH (calsync/refresh.py, append_log).
LOG_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d) (?=exit \d+: )", re.M)


def file_record(name: str, data: bytes, normalise: Normaliser) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and len(text) <= MAX_TEXT:
        if name.endswith(".log"):
            text = LOG_STAMP.sub("<WALL-CLOCK> ", text)
        return {"text": normalise(text)}
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def import_every_command(group: click.Command) -> None:
    """Import the commands calsync loads lazily, now, under this process's environment.
    Their help is built when their module is first imported (`refresh --help` names the
    default config folder); imported inside an invocation, it would name the folder of
    whichever scenario came first, and differ with the order the tests run in."""
    if isinstance(group, click.Group):
        context = click.Context(group)
        for name in group.list_commands(context):
            found = group.get_command(context, name)
            if isinstance(found, click.Group) and found is not group:
                import_every_command(found)


def run_scenario(
    name: str, scenario: Scenario, root: Path, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    folder = root / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (root / "bin").mkdir()
    program = root / "bin" / "calsync"
    program.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")  # only its path is used
    program.chmod(0o755)
    records = []
    with ExitStack() as stack:
        world = World(folder)
        if scenario.google:
            world.google = stack.enter_context(FakeGoogleCalendar())
        if scenario.intervals:
            world.intervals = stack.enter_context(FakeIntervals())
        normalise = Normaliser(root, world)
        scenario.setup(world)
        command = calsync_command()
        import_every_command(command)
        for each in scenario.steps:
            if each.before is not None:
                each.before(world)
            before = snapshot(root)
            env = {**base_env(root, world), **each.env}
            with ExitStack() as held:
                if each.lock:
                    lock = root / "state" / "refresh.lock"
                    lock.parent.mkdir(parents=True, exist_ok=True)
                    guard = FileLock(lock, timeout=0)
                    guard.acquire()
                    held.callback(guard.release)
                result = CliRunner().invoke(command, list(each.argv), env=env, prog_name="calsync")
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(f"{name}: {each.name}: uncaught") from result.exception
            after = snapshot(root)
            changed = {k: v for k, v in after.items() if before.get(k) != v}
            gone = sorted(set(before) - set(after))
            records.append(
                {
                    "step": each.name,
                    "argv": list(each.argv),
                    "env": each.env,
                    "exit": result.exit_code,
                    "stdout": normalise(result.stdout),
                    "stderr": normalise(result.stderr),
                    "files": {k: file_record(k, v, normalise) for k, v in sorted(changed.items())},
                    **({"deleted": gone} if gone else {}),
                }
            )
    return records


def lines(record: dict[str, Any]) -> list[str]:
    """A record as readable lines, for a diff: text fields line by line."""
    out = [f"argv: {record['argv']}", f"env: {record['env']}", f"exit: {record['exit']}"]
    for stream in ("stdout", "stderr"):
        out += [f"{stream}:", *(f"  {line}" for line in record[stream].split("\n"))]
    for name, content in record["files"].items():
        if "text" in content:
            out += [f"file {name}:", *(f"  {line}" for line in content["text"].split("\n"))]
        else:
            out.append(f"file {name}: {content}")
    if record.get("deleted"):
        out.append(f"deleted: {record['deleted']}")
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_command_line_says_what_it_said_before(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["pytest"])  # `calsync cron` looks at argv[0]
    got = run_scenario(name, SCENARIOS[name], tmp_path, monkeypatch)
    path = TRANSCRIPTS / f"{name}.json"
    if RECORD:
        TRANSCRIPTS.mkdir(exist_ok=True)
        document = {"scenario": name, "steps": got}
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")  # and read back below
    want = json.loads(path.read_text(encoding="utf-8"))["steps"]
    assert [r["step"] for r in got] == [r["step"] for r in want], "the scenario's steps changed"
    differ = [
        "\n".join(
            difflib.unified_diff(
                lines(old), lines(new), f"{name}: {old['step']} (recorded)",
                f"{name}: {new['step']} (now)", lineterm="", n=2,
            )
        )
        for old, new in zip(want, got, strict=True)
        if comparable(old) != comparable(new)
    ]  # fmt: skip
    assert not differ, "\n\n".join(differ)
