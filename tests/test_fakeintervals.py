"""The intervals.icu test server answers as the OpenAPI document (and its own notes) say.

Plain `requests` calls, no calsync code: if these hold, the calsync tests that use the
server test calsync against intervals.icu's documented behaviour, not against itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fakes.fakeintervals import API_KEY, ATHLETE_ID, FakeIntervals, Fault

AUTH = ("API_KEY", API_KEY)
RIDE = {
    "category": "WORKOUT",
    "type": "Ride",
    "name": "Sweet spot",
    "start_date_local": "2026-12-01T18:00:00",
    "moving_time": 3600,
    "external_id": "plan:sweet-spot",
}


@pytest.fixture
def server() -> Iterator[FakeIntervals]:
    with FakeIntervals() as fake:
        yield fake


def call(server: FakeIntervals, method: str, path: str, **options: Any) -> requests.Response:
    options.setdefault("auth", AUTH)
    return requests.request(method, server.root_url + path, timeout=5, **options)


def test_basic_auth_with_the_user_api_key_and_athlete_0_as_the_keys_owner(
    server: FakeIntervals,
) -> None:
    me = call(server, "GET", "api/v1/athlete/0")
    assert me.status_code == 200
    assert me.json() == {"id": ATHLETE_ID, "name": "Test Athlete", "timezone": "Europe/Brussels"}
    assert call(server, "GET", f"api/v1/athlete/{ATHLETE_ID}").json()["id"] == ATHLETE_ID
    assert call(server, "GET", "api/v1/athlete/0", auth=("API_KEY", "wrong")).status_code == 401
    assert call(server, "GET", "api/v1/athlete/0", auth=("me", API_KEY)).status_code == 401
    assert call(server, "GET", "api/v1/athlete/i777").status_code == 403


def test_bulk_create_then_list_by_local_dates_newest_inclusive_and_category(
    server: FakeIntervals,
) -> None:
    note = {"category": "NOTE", "name": "Physio", "start_date_local": "2026-12-02T00:00:00"}
    made = call(server, "POST", "api/v1/athlete/0/events/bulk", json=[RIDE, note])
    assert made.status_code == 200
    ride, physio = made.json()
    assert ride["id"] != physio["id"] and ride["athlete_id"] == ATHLETE_ID
    assert ride["end_date_local"] == "2026-12-01T19:00:00"

    def listed(**params: str) -> list[int]:
        answer = call(server, "GET", "api/v1/athlete/0/events", params=params)
        return [e["id"] for e in answer.json()]

    assert listed(oldest="2026-12-01", newest="2026-12-02") == [ride["id"], physio["id"]]
    assert listed(oldest="2026-12-01", newest="2026-12-01") == [ride["id"]]  # inclusive
    assert listed(oldest="2026-12-02", newest="2026-12-09") == [physio["id"]]
    assert listed(oldest="2026-12-01", newest="2026-12-09", category="WORKOUT") == [ride["id"]]
    assert listed(oldest="2026-12-01", newest="2026-12-09", category="WORKOUT,NOTE") == [
        ride["id"],
        physio["id"],
    ]


def test_a_personal_api_key_never_upserts_by_external_id(server: FakeIntervals) -> None:
    for _ in range(2):
        made = call(server, "POST", "api/v1/athlete/0/events/bulk?upsert=true", json=[RIDE])
        assert made.status_code == 200
    assert [e["external_id"] for e in server.events()] == ["plan:sweet-spot"] * 2


def test_update_keeps_what_it_is_not_given_and_unknown_ids_are_404(server: FakeIntervals) -> None:
    (ride,) = call(server, "POST", "api/v1/athlete/0/events/bulk", json=[RIDE]).json()

    put = call(server, "PUT", f"api/v1/athlete/0/events/{ride['id']}", json={"name": "Threshold"})

    assert put.status_code == 200
    assert put.json()["name"] == "Threshold" and put.json()["type"] == "Ride"
    assert call(server, "GET", "api/v1/athlete/0/events/999999").status_code == 404
    assert call(server, "PUT", "api/v1/athlete/0/events/999999", json={}).status_code == 404


def test_steps_in_the_description_set_the_moving_time(server: FakeIntervals) -> None:
    body = {**RIDE, "description": "Warm up well\n- 15m 55%\n- 30m 90%\n- 15m 50%"}
    (ride,) = call(server, "POST", "api/v1/athlete/0/events/bulk", json=[body]).json()
    assert ride["moving_time"] == 60 * 60 and ride["end_date_local"] == "2026-12-01T19:00:00"


def test_bulk_delete_by_id_ignores_missing_ids_and_never_matches_external_ids(
    server: FakeIntervals,
) -> None:
    first, second = call(server, "POST", "api/v1/athlete/0/events/bulk", json=[RIDE, RIDE]).json()

    doomed = [{"id": first["id"]}, {"id": 424242}, {"external_id": "plan:sweet-spot"}]
    answer = call(server, "PUT", "api/v1/athlete/0/events/bulk-delete", json=doomed)

    assert answer.json() == {"eventsDeleted": 1}
    assert [e["id"] for e in server.events()] == [second["id"]]


def test_a_local_time_with_an_offset_or_no_category_is_refused(server: FakeIntervals) -> None:
    offset = {**RIDE, "start_date_local": "2026-12-01T18:00:00+01:00"}
    assert call(server, "POST", "api/v1/athlete/0/events", json=offset).status_code == 422
    no_category = {k: v for k, v in RIDE.items() if k != "category"}
    assert call(server, "POST", "api/v1/athlete/0/events", json=no_category).status_code == 422
    assert server.events() == []


def test_the_rate_limit_answers_429_with_retry_after_until_time_passes() -> None:
    with FakeIntervals(rate=0.1, burst=3) as server:  # slow refill: a slow machine is no matter
        answers = [call(server, "GET", "api/v1/athlete/0") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].headers["Retry-After"] == "1"
        server.advance(10)
        assert call(server, "GET", "api/v1/athlete/0").status_code == 200


def test_faults_fail_drop_or_lose_the_answer(server: FakeIntervals) -> None:
    server.inject(Fault(503, retry_after=2, match=r"^GET api/v1/athlete/0$"))
    failed = call(server, "GET", "api/v1/athlete/0")
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "2"

    server.inject(Fault(drop=True, apply=True, match="bulk"))
    with pytest.raises(requests.ConnectionError):
        call(server, "POST", "api/v1/athlete/0/events/bulk", json=[RIDE])
    assert len(server.events()) == 1  # done, the answer lost

    server.inject(Fault(drop=True, apply=False, match="bulk"))
    with pytest.raises(requests.ConnectionError):
        call(server, "POST", "api/v1/athlete/0/events/bulk", json=[RIDE])
    assert len(server.events()) == 1  # the request lost
