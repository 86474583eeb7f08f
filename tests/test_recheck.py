"""`calsync.sync.recheck.landed`: after a lost answer, a 409 or a 412, did our write land?

One pure judgement for every backend (Google and CalDAV call it; their own tests,
tests/test_google_sync.py and tests/test_caldav_sync.py, show each asks it the
same way through its test server). The decision: a cancelled event is never a
create or update that landed, and is a delete that did.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from calsync.core.content import EventContent
from calsync.sync.engine import Action, Change, Outcome, Remote
from calsync.sync.recheck import landed

BRUSSELS = ZoneInfo("Europe/Brussels")
START = datetime(2026, 12, 2, 18, 0, tzinfo=BRUSSELS)
KEY = "hybrid/2026-12-02/intervals"
CONTENT = EventContent(
    uid="hybrid-2026-12-02-intervals@calsync",
    key=KEY,
    plan="hybrid",
    summary="🚴 Intervals",
    description="Ride, hard, 1h\nPlan week 1, build\nFrom the calsync plan 'hybrid'.",
    start=START,
    end=START + timedelta(hours=1),
    timezone="Europe/Brussels",
    location=None,
    categories=("Training",),
    reminder=15,
)
# The event as our write would have left it: our fingerprint, stored and current.
OURS = Remote(
    key=KEY,
    ref="cs0123",
    start=START,
    summary=CONTENT.summary,
    stored=CONTENT.fingerprint,
    current=CONTENT.fingerprint,
    etag='"2"',
)


def write(action: Action) -> Change:
    if action is Action.DELETE:
        return Change(action, KEY, START, CONTENT.summary, remote=OURS)
    remote = None if action is Action.CREATE else replace(OURS, stored="older", current="older")
    return Change(action, KEY, START, CONTENT.summary, CONTENT, remote)


def test_a_create_or_update_whose_event_holds_the_plan_landed() -> None:
    for action in (Action.CREATE, Action.UPDATE):
        assert landed(write(action), OURS, live=True) is Outcome.DONE


def test_a_cancelled_event_is_not_a_create_or_update_that_landed() -> None:
    """Even with our fingerprint: calsync never writes a cancelled event, so the owner
    deleted it between our read and our write."""
    cancelled = replace(OURS, cancelled=True)
    for action in (Action.CREATE, Action.UPDATE):
        assert landed(write(action), cancelled, live=False) is Outcome.EDITED


def test_an_event_the_owner_changed_is_not_a_write_that_landed() -> None:
    edited = replace(OURS, current="the owner's")
    stale = replace(OURS, stored="older", current="older")
    for action in (Action.CREATE, Action.UPDATE):
        assert landed(write(action), edited, live=True) is Outcome.EDITED
        assert landed(write(action), stale, live=True) is Outcome.EDITED
        assert landed(write(action), None, live=False) is Outcome.EDITED  # gone since
        assert landed(write(action), None, live=True) is Outcome.EDITED  # not ours any more


def test_a_delete_landed_when_nothing_live_is_left() -> None:
    change = write(Action.DELETE)
    assert landed(change, None, live=False) is Outcome.DONE  # CalDAV: 404 or 410
    assert landed(change, replace(OURS, cancelled=True), live=False) is Outcome.DONE  # Google
    assert landed(change, OURS, live=True) is Outcome.EDITED  # still there: the owner's now
    assert landed(change, None, live=True) is Outcome.EDITED  # there, and not ours


@given(
    action=st.sampled_from(list(Action)),
    cancelled=st.booleans(),
    current=st.sampled_from([CONTENT.fingerprint, "the owner's"]),
    stored=st.sampled_from([CONTENT.fingerprint, "older"]),
)
def test_done_only_when_the_target_shows_what_the_write_meant(
    action: Action, cancelled: bool, current: str, stored: str
) -> None:
    now = replace(OURS, cancelled=cancelled, current=current, stored=stored)
    outcome = landed(write(action), now, live=not cancelled)
    shows_plan = not cancelled and current == stored == CONTENT.fingerprint
    expected = cancelled if action is Action.DELETE else shows_plan
    assert (outcome is Outcome.DONE) == expected
