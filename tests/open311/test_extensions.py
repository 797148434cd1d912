"""Open311 beyond the read basics: W3C datetimes in whole seconds, `media_url` (null or a stable link
that redirects to a fresh blurred rendition), list parameters repeated or comma-separated,
`updated_after`/`updated_before`, `extensions=true`, the `request/{id}` alias, discovery's contact and
key service, the category's `service_notice`, and Open311's error shape for unknown paths and methods."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import insert_report, make_city, photo_report, resident
from tests.media.conftest import Worker
from tests.media.files import jpeg

BASE = "/open311/v2"
# W3C / RFC 3339 date-time with an offset and no fraction of a second
WHOLE_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def codes(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [r["service_request_id"] for r in resp.json()]


async def test_datetimes_lists_updates_and_extensions(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    now = datetime.now(UTC)
    a = await insert_report(db_conn, "W1", category="ngap-nuoc", created_at=now - timedelta(hours=3))
    b = await insert_report(
        db_conn, "W2", category="den-duong", status="resolved", created_at=now - timedelta(hours=2)
    )
    old = await insert_report(db_conn, "W1", created_at=now - timedelta(days=200))
    await db_conn.execute(
        text("UPDATE reports SET updated_at = now() - interval '10 days' WHERE id <> :o"), {"o": old.id}
    )
    await db_conn.execute(text("UPDATE reports SET updated_at = now() WHERE id = :o"), {"o": old.id})

    listed = (await client.get(f"{BASE}/requests.json")).json()
    for record in listed:
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert record[field] is None or WHOLE_SECONDS.match(record[field]), (field, record[field])
        assert record["media_url"] is None  # no photo: null, never ""
        assert record["service_notice"]  # the category's promise
    # both statuses as a comma list, and repeated
    both = {a.code, b.code}
    assert set(codes(await client.get(f"{BASE}/requests.json", params={"status": "open,closed"}))) == both
    repeated = await client.get(f"{BASE}/requests.json?status=open&status=closed")
    assert set(codes(repeated)) == both
    assert codes(await client.get(f"{BASE}/requests.json?service_code=ngap-nuoc&service_code=den-duong")) in (
        [b.code, a.code],
    )
    assert (
        set(
            codes(
                await client.get(
                    f"{BASE}/requests.json?service_request_id={a.code}&service_request_id={b.code}"
                )
            )
        )
        == both
    )
    # updated_after alone follows changes however old the request (the 200-day-old one changed now)
    since = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    assert codes(await client.get(f"{BASE}/requests.json", params={"updated_after": since})) == [old.code]
    assert set(codes(await client.get(f"{BASE}/requests.json", params={"updated_before": since}))) == both
    bad = await client.get(f"{BASE}/requests.json", params={"updated_after": "soon"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400

    # extensions: ward, agency, deadlines and the public timeline as notes
    (ext,) = (await client.get(f"{BASE}/requests/{a.code}.json", params={"extensions": "true"})).json()
    attrs = ext["extended_attributes"]
    assert attrs["ward"] == "W1" and attrs["ward_name"] and attrs["duplicate_of"] is None
    assert attrs["resolve_by"] is None or WHOLE_SECONDS.match(attrs["resolve_by"])
    assert [n["type"] for n in ext["notes"]][:1] == ["created"]
    (plain,) = (await client.get(f"{BASE}/requests/{a.code}.json")).json()
    assert "extended_attributes" not in plain and "notes" not in plain
    xml = ET.fromstring((await client.get(f"{BASE}/requests.xml", params={"extensions": "true"})).content)
    assert xml.find("request/extended_attributes/ward") is not None

    # the singular spelling of the spec's swagger
    assert codes(await client.get(f"{BASE}/request/{a.code}.json")) == [a.code]


async def test_media_url_redirects_to_a_fresh_blurred_rendition(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    _, code = await photo_report(client, me, "W1", photo=jpeg(800, 600))
    await run_worker()
    (record,) = (await client.get(f"{BASE}/requests/{code}.json")).json()
    assert record["media_url"] and record["media_url"].endswith(f"/open311/v2/media/{code}")
    link = record["media_url"].split("/open311/v2", 1)[1]
    hop = await client.get(f"{BASE}{link}")
    assert hop.status_code == 302
    photo = await client.get(hop.headers["location"])
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
    none = await client.get(f"{BASE}/media/PA-ZZZZ-ZZZZ")
    assert none.status_code == 404 and none.json()[0]["code"] == 404


async def test_discovery_and_errors_in_open311_shape(client: httpx.AsyncClient) -> None:
    discovery = (await client.get(f"{BASE}/discovery.json")).json()
    assert discovery["contact"] and discovery["key_service"].startswith("http")
    for method, path in (
        ("GET", "/nothing/here.json"),
        ("GET", "/requests/a/b.json"),
        ("DELETE", "/services.json"),
        ("PUT", "/requests/PA-X.json"),
    ):
        r = await client.request(method, f"{BASE}{path}")
        assert r.status_code in (404, 405), (method, path, r.text)
        assert r.json() == [{"code": r.status_code, "description": r.json()[0]["description"]}]
    xml = await client.get(f"{BASE}/nothing.xml")
    assert xml.status_code == 404 and ET.fromstring(xml.content).findtext("error/code") == "404"
    # elsewhere the project's own shape stays
    other = await client.get("/v1/nothing")
    assert other.status_code == 404 and "error" in other.json()
