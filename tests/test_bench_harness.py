"""The benchmark harness's own parts: the split export vdirsyncer syncs, the in-place
update of docs/benchmarks.md, and the Xandikos launcher."""

from __future__ import annotations

import http.client
from pathlib import Path

from click.testing import CliRunner
from icalendar import Calendar

from bench.peers import split_export
from bench.report import update
from bench.servers import caldav_server
from bench.workload import NOW, START, Workload
from calsync.cli.main import cli


def _export(plan: Path, out: Path) -> Path:
    args = ["ics", str(plan), "--from", START, "--weeks", "1", "--now", NOW, "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 3), result.output
    return out


def test_the_split_export_is_one_calendar_file_a_session(tmp_path: Path) -> None:
    work = Workload(weeks=1, latency=0, reps=1)
    export = _export(work.plan(tmp_path / "plan"), tmp_path / "training.ics")
    folder = tmp_path / "events"
    assert split_export(export, folder) == 10  # the template's first week: 10 sessions
    uids = set()
    for path in folder.glob("*.ics"):
        calendar = Calendar.from_ical(path.read_bytes())
        (event,) = calendar.walk("VEVENT")
        assert [z["TZID"] for z in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]
        assert path.name == f"{event['UID']}.ics"
        uids.add(str(event["UID"]))
    whole = Calendar.from_ical(export.read_bytes())
    assert uids == {str(e["UID"]) for e in whole.walk("VEVENT")}


def test_the_split_export_rewrites_only_the_changed_session(tmp_path: Path) -> None:
    work = Workload(weeks=1, latency=0, reps=1)
    folder = tmp_path / "events"
    split_export(_export(work.plan(tmp_path / "a"), tmp_path / "a.ics"), folder)
    assert split_export(_export(work.plan(tmp_path / "a"), tmp_path / "a.ics"), folder) == 0
    changed = _export(work.plan(tmp_path / "b", changed=True), tmp_path / "b.ics")
    assert split_export(changed, folder) == 1
    moved = folder / "hybrid-hypertrophy-2026-12-01-z2@calsync.ics"
    assert "DTSTART;TZID=Europe/Brussels:20261201T203000" in moved.read_text()


DOC = """# calsync benchmarks

How to run them.

## CalDAV

<!-- bench:caldav begin -->
old caldav table
<!-- bench:caldav end -->

## calsync fit

Prose about the rider.

<!-- bench:fit begin -->
old fit table
<!-- bench:fit end -->

### HiGHS and CP-SAT (hand-written)
"""


def test_a_section_is_replaced_in_place_and_the_rest_kept() -> None:
    text = update(DOC, {"caldav": "<!-- bench:caldav begin -->\nnew\n<!-- bench:caldav end -->"})
    assert text == DOC.replace("old caldav table", "new")


def test_a_section_without_markers_is_appended_under_its_title() -> None:
    body = "<!-- bench:google begin -->\nnew google\n<!-- bench:google end -->"
    text = update(DOC, {"google": body})
    assert text.startswith(DOC.rstrip())
    assert text.endswith(
        "\n\n## Google Calendar: calsync against a one-call-at-a-time client\n\n" + body + "\n"
    )


def test_xandikos_starts_on_a_free_port_and_makes_calendars() -> None:
    with caldav_server("Xandikos") as server:
        assert server.root.startswith("http://127.0.0.1:")
        port = int(server.root.rstrip("/").rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("MKCALENDAR", f"/{server.home}training/")
        assert connection.getresponse().status == 201
        connection.close()
