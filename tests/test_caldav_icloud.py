"""iCloud's layout: the principal on caldav.icloud.com, the calendar home on another host.

iCloud answers the principal's calendar-home-set with an absolute URL on a host
of its own domain (https://p37-caldav.icloud.com:443/<id>/calendars/), and every
calendar request must go there. Here a client stands in for the network: the two
discovery answers are iCloud's as published, and everything asked of the p37 host
goes to a real Radicale on 127.0.0.1, so discovery, listing and writing are the
real code. A home on a host of another domain is still refused: the password
goes only to the server named and its own hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import caldav
import pytest

from calsync.cli.sync_report import sync_counts
from calsync.core.model import Plan
from calsync.errors import TargetError
from calsync.io.plans import load_plan
from calsync.sync.request import Range, SyncRequest
from calsync.targets import caldav as cs
from calsync.targets.caldav.wire import Answer, Headers
from fakes.radicale_server import RadicaleServer

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
START = date(2026, 11, 30)
GIVEN = "https://caldav.icloud.com/"


def _multistatus(href: str, prop: str) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><multistatus xmlns="DAV:"><response>'
        f"<href>{href}</href><propstat><prop>{prop}</prop>"
        "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"
    ).encode()
    return Answer(207, "Multi-Status", Headers([("Content-Type", "text/xml")]), body)


class ICloudLayout:
    """The network as calsync sees it with iCloud, the p37 host being a real Radicale."""

    def __init__(self, radicale: RadicaleServer, home: str) -> None:
        self.url = GIVEN
        self.home = home  # what the principal names as its calendar home
        self.radicale = radicale
        self.inner = cs.make_client(radicale.root, radicale.user, radicale.password, False)
        self.asked: list[tuple[str, str]] = []  # (host, method)

    def request(
        self, url: str, method: str, body: str | bytes, headers: Mapping[str, str]
    ) -> Answer:
        parts = urlsplit(url)
        self.asked.append((parts.hostname or "", method))
        if parts.hostname == "caldav.icloud.com":
            if parts.path in ("", "/"):
                return _multistatus(
                    "/", "<current-user-principal><href>/athlete/principal/</href>"
                    "</current-user-principal>",
                )  # fmt: skip
            assert parts.path == "/athlete/principal/", url
            return _multistatus(
                "/athlete/principal/",
                '<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav">'
                f'<href xmlns="DAV:">{self.home}</href></calendar-home-set>',
            )
        assert parts.scheme == "https" and parts.hostname == "p37-caldav.icloud.com", url
        path = parts.path.replace("/athlete/calendars/", f"/{self.radicale.user}/", 1)
        return self.inner.request(self.radicale.root.rstrip("/") + path, method, body, headers)


def run(plan: Plan, client: ICloudLayout, state: Path) -> dict[str, int]:
    moment = datetime.combine(START, datetime.min.time(), tzinfo=plan.zone)
    request = SyncRequest(
        span=Range(START, 2), now=moment, not_before=moment, overwrite_edits=False,
        restore_deleted=False, annotate=True, dry_run=False,
    )  # fmt: skip
    report = cs.caldav_target(
        plan, request, GIVEN, "Training iCloud", "me@icloud.com", "abcd-efgh-ijkl-mnop",
        (), False, state_path=state, client=client, retry=cs.Retry(sleep=lambda s: None),
    )  # fmt: skip
    return {k: v for k, v in sync_counts(report).items() if v}


def test_a_home_on_icloud_s_other_host_is_found_and_written(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    plan = load_plan(TEMPLATE)
    client = ICloudLayout(radicale, "https://p37-caldav.icloud.com:443/athlete/calendars/")
    first = run(plan, client, tmp_path / "known.json")
    assert first.keys() == {"created"}
    discovery, rest = client.asked[:2], client.asked[2:]
    assert discovery == [("caldav.icloud.com", "PROPFIND")] * 2
    assert {host for host, _ in rest} == {"p37-caldav.icloud.com"}
    assert "MKCALENDAR" in {method for _, method in rest}

    owner = caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)
    [made] = [c for c in owner.principal().calendars() if c.get_display_name() == "Training iCloud"]
    assert len(made.events()) == first["created"]

    client.asked.clear()
    assert run(plan, client, tmp_path / "known.json") == {"unchanged": first["created"]}
    assert {host for host, _ in client.asked} == {"p37-caldav.icloud.com"}  # remembered


@pytest.mark.parametrize(
    "home",
    [
        "https://calendars.example.net/athlete/calendars/",  # another domain
        "http://p37-caldav.icloud.com/athlete/calendars/",  # down to http://
    ],
)
def test_a_home_elsewhere_is_refused_and_nothing_written(
    radicale: RadicaleServer, tmp_path: Path, home: str
) -> None:
    client = ICloudLayout(radicale, home)
    with pytest.raises(TargetError) as refused:
        run(load_plan(TEMPLATE), client, tmp_path / "known.json")
    assert str(refused.value) == (
        f"the CalDAV server at https://caldav.icloud.com links to {home} (another server, or "
        "not https): refused, the password goes only to https://caldav.icloud.com"
    )
    assert {host for host, _ in client.asked} == {"caldav.icloud.com"}
    assert "abcd-efgh" not in str(refused.value)
