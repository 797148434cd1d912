"""Open311 GeoReport v2 (read-only) through HTTP: discovery, services, definitions, requests and their
filters, JSON and XML, Open311's error shape; only public reports ever appear."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import insert_report, make_city

BASE = "/open311/v2"


def _hours_ago(h: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=h)


async def test_discovery_and_services(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    discovery = (await client.get(f"{BASE}/discovery.json")).json()
    (endpoint,) = discovery["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["formats"] == ["application/json", "text/xml"]

    services = (await client.get(f"{BASE}/services.json")).json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["ngap-nuoc"]["service_name"] == "Ngập nước" and by_code["ngap-nuoc"]["metadata"] is True
    english = (await client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"})).json()
    assert {s["service_code"]: s["service_name"] for s in english}["ngap-nuoc"] == "Flooding"

    xml = await client.get(f"{BASE}/services.xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and len(root.findall("service")) == len(services)

    definition = (await client.get(f"{BASE}/services/ngap-nuoc.json")).json()
    assert definition["attributes"][0] | {"description": "?"} == {
        "variable": True,
        "code": "depth_cm",
        "datatype": "number",
        "required": False,
        "datatype_description": "",
        "order": 1,
        "description": "?",
        "values": [],
    }
    noise = (await client.get(f"{BASE}/services/tieng-on.json", headers={"Accept-Language": "en"})).json()
    (attr,) = noise["attributes"]
    assert attr["datatype"] == "singlevaluelist" and attr["description"] == "Time of day"
    assert [v["key"] for v in attr["values"]] == ["sang", "chieu", "toi", "dem"]
    assert attr["values"][0]["name"] == "Morning"  # the label, in the reader's language
    root = ET.fromstring((await client.get(f"{BASE}/services/tieng-on.xml")).content)
    assert [k.text for k in root.findall("attributes/attribute/values/value/key")] == [
        "sang",
        "chieu",
        "toi",
        "dem",
    ]

    missing = await client.get(f"{BASE}/services/no-such-thing.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    bad = await client.get(f"{BASE}/services.html")
    assert bad.status_code == 404 and bad.json() == [
        {"code": 404, "description": bad.json()[0]["description"]}
    ]


async def test_requests_list_only_public_reports_with_the_spec_filters(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    flood = await insert_report(
        db_conn, "W1", category="ngap-nuoc", description="Đường ngập sâu", created_at=_hours_ago(2)
    )
    fixed = await insert_report(
        db_conn, "W2", category="den-duong", status="resolved", created_at=_hours_ago(1)
    )
    await db_conn.execute(
        text("UPDATE report_events SET public_message = 'Đã thay bóng đèn' WHERE report_id = :r"),
        {"r": fixed.id},
    )
    held = await insert_report(db_conn, "W1", category="ngap-nuoc", visibility="pending_review")
    old = await insert_report(db_conn, "W1", created_at=datetime.now(UTC) - timedelta(days=120))

    listed = (await client.get(f"{BASE}/requests.json")).json()
    assert [r["service_request_id"] for r in listed] == [fixed.code, flood.code]  # newest first, 90 days
    one = listed[1]
    assert (
        one["status"] == "open"
        and one["service_code"] == "ngap-nuoc"
        and one["description"] == "Đường ngập sâu"
    )
    assert one["agency_responsible"] == "Phường Một" and one["requested_datetime"].startswith("20")
    assert isinstance(one["lat"], float) and isinstance(one["long"], float)
    assert listed[0]["status"] == "closed" and listed[0]["status_notes"] == "Đã thay bóng đèn"
    assert held.code not in str(listed)

    def codes(resp: httpx.Response) -> list[str]:
        return [r["service_request_id"] for r in resp.json()]

    assert codes(await client.get(f"{BASE}/requests.json", params={"status": "closed"})) == [fixed.code]
    assert codes(await client.get(f"{BASE}/requests.json", params={"service_code": "ngap-nuoc,xyz"})) == [
        flood.code
    ]
    # ids override every other filter (and held reports stay invisible)
    by_id = await client.get(
        f"{BASE}/requests.json",
        params={"service_request_id": f"{old.code},{held.code}", "status": "closed", "start_date": ""},
    )
    assert codes(by_id) == [old.code]
    start = (datetime.now(UTC) - timedelta(days=150)).isoformat()
    end = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    assert codes(
        await client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": end})
    ) == [old.code]
    page2 = await client.get(f"{BASE}/requests.json", params={"page": "2", "page_size": "1"})
    assert codes(page2) == [flood.code]

    xml = ET.fromstring((await client.get(f"{BASE}/requests.xml")).content)
    assert xml.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in xml.findall("request")] == [fixed.code, flood.code]

    single = await client.get(f"{BASE}/requests/{flood.code}.json")
    assert single.status_code == 200 and codes(single) == [flood.code]
    assert (await client.get(f"{BASE}/requests/{held.code}.json")).status_code == 404
    err = ET.fromstring((await client.get(f"{BASE}/requests/PA-ZZZZ-ZZZZ.xml")).content)
    assert err.tag == "errors" and err.findtext("error/code") == "404"

    for params in (
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": end, "end_date": start},  # backwards
        {"start_date": (datetime.now(UTC) - timedelta(days=200)).isoformat(), "end_date": end},  # > 90 days
        {"page_size": "0"},
        {"page": "x"},
    ):
        r = await client.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 400 and r.json()[0]["code"] == 400 and r.json()[0]["description"], params
