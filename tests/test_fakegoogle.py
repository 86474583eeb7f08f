"""Drive fakes/fakegoogle.py through the real googleapiclient, as calsync will."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from fakes.fakegoogle import ApiError, FakeGoogleCalendar, Fault, build_service

JSON = dict[str, Any]


@pytest.fixture
def server() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture
def service(server: FakeGoogleCalendar) -> Any:
    return build_service(server)


def session(event_id: str, day: int, hour: int = 7, **extra: Any) -> JSON:
    body: JSON = {
        "id": event_id,
        "summary": f"Session {event_id}",
        "start": {"dateTime": f"2025-03-{day:02d}T{hour:02d}:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": f"2025-03-{day:02d}T{hour + 1:02d}:00:00", "timeZone": "Europe/Berlin"},
    }
    return body | extra


def tagged(plan: str) -> JSON:
    return {"private": {"calsync": "1", "plan": plan}}


def error_reason(error: HttpError) -> str:
    return json.loads(error.content)["error"]["errors"][0]["reason"]


def test_insert_with_id_and_filter_by_private_property(
    server: FakeGoogleCalendar, service: Any
) -> None:
    events = service.events()
    created = events.insert(
        calendarId="primary", body=session("run00001", 3, extendedProperties=tagged("a"))
    ).execute()
    events.insert(
        calendarId="primary", body=session("run00002", 4, extendedProperties=tagged("b"))
    ).execute()
    events.insert(calendarId="primary", body=session("other0001", 5)).execute()

    found = events.list(
        calendarId="primary", privateExtendedProperty=["calsync=1", "plan=a"]
    ).execute()

    assert [e["id"] for e in found["items"]] == ["run00001"]
    assert created["status"] == "confirmed"
    assert created["iCalUID"] == "run00001@google.com"
    assert created["etag"].startswith('"')
    assert server.authorized and server.writes == 3


def test_rejects_invalid_and_duplicate_ids(service: Any) -> None:
    events = service.events()
    with pytest.raises(HttpError) as invalid:
        events.insert(calendarId="primary", body=session("Not_Base32hex", 3)).execute()
    events.insert(calendarId="primary", body=session("dup00001", 3)).execute()
    events.delete(calendarId="primary", eventId="dup00001").execute()
    with pytest.raises(HttpError) as duplicate:
        events.insert(calendarId="primary", body=session("dup00001", 3)).execute()

    assert invalid.value.status_code == 400
    assert (duplicate.value.status_code, error_reason(duplicate.value)) == (409, "duplicate")


def test_paging_over_several_pages(server: FakeGoogleCalendar, service: Any) -> None:
    for n in range(7):
        server.add_event("primary", session(f"page{n:04d}", 10 + n))
    events = service.events()
    request = events.list(calendarId="primary", maxResults=3)
    seen: list[str] = []
    pages = 0
    while request is not None:
        page = request.execute()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        last = page
        request = events.list_next(request, page)

    assert pages == 3
    assert seen == [f"page{n:04d}" for n in range(7)]
    assert "nextSyncToken" in last


def test_patch_merges_properties_and_honours_if_match(service: Any) -> None:
    events = service.events()
    created = events.insert(
        calendarId="primary", body=session("patch0001", 3, extendedProperties=tagged("a"))
    ).execute()
    patch = {"summary": "Intervals", "extendedProperties": {"private": {"plan": "b"}}}
    request = events.patch(calendarId="primary", eventId="patch0001", body=patch)
    request.headers["If-Match"] = created["etag"]
    patched = request.execute()

    stale = events.patch(calendarId="primary", eventId="patch0001", body={"summary": "x"})
    stale.headers["If-Match"] = created["etag"]
    with pytest.raises(HttpError) as failed:
        stale.execute()

    assert patched["summary"] == "Intervals"
    assert patched["extendedProperties"]["private"] == {"calsync": "1", "plan": "b"}
    assert patched["etag"] != created["etag"]
    assert (failed.value.status_code, error_reason(failed.value)) == (412, "conditionNotMet")


def test_delete_leaves_cancelled_event_visible_with_show_deleted(
    server: FakeGoogleCalendar, service: Any
) -> None:
    server.add_event("primary", session("gone00001", 3))
    events = service.events()
    events.delete(calendarId="primary", eventId="gone00001").execute()
    with pytest.raises(HttpError) as again:
        events.delete(calendarId="primary", eventId="gone00001").execute()

    hidden = events.list(calendarId="primary").execute()["items"]
    shown = events.list(calendarId="primary", showDeleted=True).execute()["items"]

    assert hidden == []
    assert [(e["id"], e["status"]) for e in shown] == [("gone00001", "cancelled")]
    assert (again.value.status_code, error_reason(again.value)) == (410, "deleted")


def test_sync_token_is_incremental_and_expires(server: FakeGoogleCalendar, service: Any) -> None:
    server.add_event("primary", session("snc00001", 3))
    server.add_event("primary", session("snc00002", 4))
    events = service.events()
    full = events.list(calendarId="primary").execute()
    events.patch(calendarId="primary", eventId="snc00001", body={"summary": "moved"}).execute()
    events.delete(calendarId="primary", eventId="snc00002").execute()

    delta = events.list(calendarId="primary", syncToken=full["nextSyncToken"]).execute()
    with pytest.raises(HttpError) as mixed:
        events.list(
            calendarId="primary", syncToken=delta["nextSyncToken"], timeMin="2025-03-01T00:00:00Z"
        ).execute()
    quiet = events.list(calendarId="primary", syncToken=delta["nextSyncToken"]).execute()
    server.expire_sync_tokens()
    with pytest.raises(HttpError) as gone:
        events.list(calendarId="primary", syncToken=delta["nextSyncToken"]).execute()

    assert {(e["id"], e["status"]) for e in delta["items"]} == {
        ("snc00001", "confirmed"),
        ("snc00002", "cancelled"),
    }
    assert mixed.value.status_code == 400
    assert quiet["items"] == []
    assert (gone.value.status_code, error_reason(gone.value)) == (410, "fullSyncRequired")


def test_batch_of_three_inserts_is_one_round_trip(server: FakeGoogleCalendar, service: Any) -> None:
    results: dict[str, JSON] = {}

    def collect(request_id: str, response: JSON, exception: Exception | None) -> None:
        assert exception is None
        results[request_id] = response

    batch = BatchHttpRequest(callback=collect, batch_uri=server.batch_uri)
    for n in range(3):
        batch.add(service.events().insert(calendarId="primary", body=session(f"bat{n:05d}", 3)))
    server.reset_counters()
    batch.execute()

    assert server.round_trips == 1
    assert server.api_calls == [("POST", "calendars/primary/events")] * 3
    assert sorted(r["id"] for r in results.values()) == ["bat00000", "bat00001", "bat00002"]
    assert server.writes == 3


def test_fault_inside_batch_hits_only_that_call(server: FakeGoogleCalendar, service: Any) -> None:
    outcomes: dict[str, int] = {}

    def collect(request_id: str, response: JSON, exception: HttpError | None) -> None:
        outcomes[request_id] = exception.status_code if exception else 200

    server.fail_at(2, Fault(status=503))
    batch = BatchHttpRequest(callback=collect, batch_uri=server.batch_uri)
    for n in range(3):
        batch.add(service.events().insert(calendarId="primary", body=session(f"flt{n:05d}", 3)))
    batch.execute()

    assert outcomes == {"1": 200, "2": 503, "3": 200}
    assert [e["id"] for e in server.events("primary")] == ["flt00000", "flt00002"]


def test_free_busy_merges_and_skips_transparent(server: FakeGoogleCalendar, service: Any) -> None:
    server.add_event("primary", session("bsa00001", 3, hour=7))
    server.add_event("primary", session("bsa00002", 3, hour=8))
    server.add_event("primary", session("free00001", 3, hour=12, transparency="transparent"))
    body = {
        "timeMin": "2025-03-03T00:00:00Z",
        "timeMax": "2025-03-04T00:00:00Z",
        "items": [{"id": "primary"}, {"id": "nobody@example.com"}],
    }

    answer = service.freebusy().query(body=body).execute()["calendars"]

    # 07:00-09:00 Berlin (UTC+1 in March) are two back-to-back sessions.
    assert answer["primary"]["busy"] == [
        {"start": "2025-03-03T06:00:00Z", "end": "2025-03-03T08:00:00Z"}
    ]
    assert answer["nobody@example.com"]["errors"][0]["reason"] == "notFound"


def test_rate_limit_then_retry(server: FakeGoogleCalendar, service: Any) -> None:
    server.inject(Fault(status=429, retry_after=1, match="^GET calendars/[^/]+/events$"))
    request = service.events().list(calendarId="primary")
    with pytest.raises(HttpError) as limited:
        request.execute()
    retried = request.execute()

    assert limited.value.status_code == 429
    assert limited.value.resp["retry-after"] == "1"
    assert error_reason(limited.value) == "rateLimitExceeded"
    assert retried["items"] == []
    assert server.round_trips == 2


def test_client_retries_rate_limit_with_num_retries(
    server: FakeGoogleCalendar, service: Any
) -> None:
    server.inject(Fault(status=403, reason="rateLimitExceeded", times=2))
    request = service.calendarList().list()
    request._sleep = lambda seconds: None  # googleapiclient's own backoff, made instant

    listed = request.execute(num_retries=3)

    assert [c["id"] for c in listed["items"]] == ["athlete@example.com"]
    assert server.round_trips == 3


def test_dropped_answer_is_resent_silently_by_httplib2(
    server: FakeGoogleCalendar, service: Any
) -> None:
    server.inject(Fault(drop=True, match="^POST "))
    with pytest.raises(HttpError) as resent:
        service.events().insert(calendarId="primary", body=session("lost00001", 3)).execute()

    # The insert was applied, its answer lost, and httplib2 re-sent the POST on its own.
    assert error_reason(resent.value) == "duplicate"
    assert server.round_trips == 2
    assert server.event("primary", "lost00001") is not None


def test_calendar_insert_and_list(service: Any) -> None:
    created = service.calendars().insert(body={"summary": "Training"}).execute()
    fetched = service.calendars().get(calendarId=created["id"]).execute()
    listed = service.calendarList().list(maxResults=1).execute()
    rest = service.calendarList().list(pageToken=listed["nextPageToken"], maxResults=1).execute()

    assert created["id"].endswith("@group.calendar.google.com")
    assert fetched["summary"] == "Training"
    assert [listed["items"][0]["id"], rest["items"][0]["id"]] == [
        "athlete@example.com",
        created["id"],
    ]


def test_add_event_validates_like_the_api(server: FakeGoogleCalendar) -> None:
    bad = session("back00001", 3) | {"end": {"dateTime": "2025-03-01T00:00:00Z"}}
    with pytest.raises(ApiError) as failed:
        server.add_event("primary", bad)

    assert failed.value.reason == "timeRangeEmpty"


def test_drop_inside_batch_loses_whole_answer_after_applying(server: FakeGoogleCalendar) -> None:
    service = build_service(server)
    # Call 3 is the first call of httplib2's silent resend of the whole batch.
    server.fail_at(1, Fault(drop=True))
    server.fail_at(3, Fault(drop=True))
    batch = BatchHttpRequest(batch_uri=server.batch_uri)
    for n in range(2):
        batch.add(service.events().insert(calendarId="primary", body=session(f"drp{n:05d}", 3)))

    with pytest.raises(ConnectionError):
        batch.execute()

    assert (server.round_trips, len(server.api_calls)) == (2, 4)
    assert [e["id"] for e in server.events("primary")] == ["drp00000", "drp00001"]


def test_sync_tokens_refuse_show_deleted_false_and_expire_per_calendar(
    server: FakeGoogleCalendar, service: Any
) -> None:
    other = server.add_calendar("Other")["id"]
    events = service.events()
    mine = events.list(calendarId="primary", showDeleted=True).execute()["nextSyncToken"]
    theirs = events.list(calendarId=other).execute()["nextSyncToken"]
    with pytest.raises(HttpError) as hidden:
        events.list(calendarId="primary", syncToken=mine, showDeleted=False).execute()
    with pytest.raises(HttpError) as elsewhere:
        events.list(calendarId=other, syncToken=mine).execute()

    server.expire_sync_tokens(other)
    with pytest.raises(HttpError) as expired:
        events.list(calendarId=other, syncToken=theirs).execute()
    still = events.list(calendarId="primary", syncToken=mine, showDeleted=True).execute()
    fresh = events.list(calendarId=other).execute()["nextSyncToken"]

    assert hidden.value.status_code == 400
    assert (elsewhere.value.status_code, error_reason(elsewhere.value)) == (410, "fullSyncRequired")
    assert (expired.value.status_code, error_reason(expired.value)) == (410, "fullSyncRequired")
    assert still["items"] == []
    assert events.list(calendarId=other, syncToken=fresh).execute()["items"] == []


def test_fields_select_a_partial_response(server: FakeGoogleCalendar, service: Any) -> None:
    server.add_event(
        "primary", session("prt00001", 3, location="Gym", extendedProperties=tagged("a"))
    )
    events = service.events()
    server.reset_counters()

    whole = events.list(calendarId="primary").execute()
    whole_bytes = server.bytes_down
    part = events.list(
        calendarId="primary",
        fields="nextSyncToken,items(id,start/dateTime,extendedProperties/private)",
    ).execute()

    assert set(part) == {"nextSyncToken", "items"}
    assert part["items"] == [
        {
            "id": "prt00001",
            "start": {"dateTime": "2025-03-03T07:00:00"},
            "extendedProperties": {"private": {"calsync": "1", "plan": "a"}},
        }
    ]
    assert whole["items"][0]["location"] == "Gym" and "etag" in whole
    assert 0 < server.bytes_down - whole_bytes < whole_bytes / 2
    with pytest.raises(HttpError) as broken:
        events.list(calendarId="primary", fields="items(id").execute()
    assert broken.value.status_code == 400
