"""The memo of the .ics file calsync wrote: it says what reading the file says, it is
used only for the very bytes it was made of, and losing it changes nothing but speed."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync.core.loader import parse_plan
from calsync.targets.ics import DamagedFile, Previous, export, read_previous
from calsync.targets.ics.memo import memo_path, recalled
from tests.plan_texts import FIRST_NOW, LATER_NOW, first_instant, schedule
from tests.strategies import SETTINGS, plans

START = date(2026, 11, 30)
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"


def same_reading(a: Previous, b: Previous) -> bool:
    return a.stamps == b.stamps and a.past == b.past and a.held == b.held


@SETTINGS
@given(text=plans(), weeks=st.integers(1, 5), later=st.integers(0, 3), again=st.integers(1, 5))
def test_the_memo_says_what_reading_the_file_says_and_gives_the_same_bytes(
    text: str, weeks: int, later: int, again: int
) -> None:
    plan_id = parse_plan(text, "plan.yaml").id
    with tempfile.TemporaryDirectory() as folder:
        out, twin = Path(folder) / "training.ics", Path(folder) / "twin.ics"
        export(schedule(text, START, weeks), out, FIRST_NOW)
        shutil.copyfile(out, twin)  # the same file, without a memo
        after = schedule(text, START + timedelta(weeks=later), again)
        export(after, out, LATER_NOW)
        export(after, twin, LATER_NOW)
        assert out.read_bytes() == twin.read_bytes()

        data = out.read_bytes()
        for shift in (0, 1, 2):
            first = first_instant(after) + timedelta(weeks=shift)
            remembered = recalled(memo_path(out), data, plan_id, first)
            if remembered is not None:  # none for a file with a repeated local time
                assert same_reading(remembered, read_previous(data, plan_id, first, "x"))


def test_a_rerun_over_an_unchanged_file_reads_the_memo(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    out = tmp_path / "training.ics"
    export(schedule(text, START, 4), out, FIRST_NOW)
    plan_id = parse_plan(text, "plan.yaml").id
    first = first_instant(schedule(text, START, 4))

    remembered = recalled(memo_path(out), out.read_bytes(), plan_id, first)

    assert remembered is not None and remembered.plain
    assert same_reading(remembered, read_previous(out.read_bytes(), plan_id, first, "x"))
    assert recalled(memo_path(out), out.read_bytes(), "another-plan", first) is None


def test_a_file_edited_since_is_read_again_and_its_damage_still_refused(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    out = tmp_path / "training.ics"
    weeks = schedule(text, START, 2)
    export(weeks, out, FIRST_NOW)
    damaged = out.read_bytes().replace(b"SEQUENCE:0\r\n", b"SEQUENCE:abc\r\n", 1)
    out.write_bytes(damaged)

    assert recalled(memo_path(out), damaged, weeks.plan.id, first_instant(weeks)) is None
    with pytest.raises(DamagedFile, match="SEQUENCE 'abc' is not a whole number"):
        export(weeks, out, LATER_NOW)
    assert out.read_bytes() == damaged  # nothing written


def test_a_damaged_memo_is_a_scan_and_is_written_anew(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    out = tmp_path / "training.ics"
    weeks = schedule(text, START, 2)
    export(weeks, out, FIRST_NOW)
    written = out.read_bytes()
    memo_path(out).write_text('{"calsync-ics-memo": 1, "digest": ', encoding="utf-8")

    export(weeks, out, LATER_NOW)

    assert out.read_bytes() == written  # nothing changed, so nothing was rewritten
    assert json.loads(memo_path(out).read_bytes())["plan"] == weeks.plan.id
