"""Personal data in residents' text is masked on every public surface — the report page, the list and
its GeoJSON, Open311 JSON and XML — while staff read the original; and public search does not find
a report by the personal data in it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import any_category, centre, make_city, resident, set_state, staff

PHONE, EMAIL, CCCD, PLATE = "0903 123 456", "nguyen.van.a@gmail.com", "079203001234", "51F-123.45"
PERSONAL = (PHONE, EMAIL, CCCD, PLATE, "0903123456")
OFFICER_PHONE = "0987.654.321"
ALL = (*PERSONAL, OFFICER_PHONE)


def personal(what: str) -> str:
    return (
        f"{what}: gọi {PHONE}, email {EMAIL}, CCCD {CCCD}, xe {PLATE} đậu chắn hẻm 12/3 từ 05/6, phí 50.000đ"
    )


async def test_personal_data_is_masked_on_every_public_surface(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"])
    _, me = await resident(client)
    lat, lng = centre("W1")
    body = {
        "category": await any_category(db_conn),
        "description": personal("Cống nghẹt"),
        "address": f"Hẻm 12/3 Lê Lợi, Phường 12 (chủ nhà {PHONE})",
        "lat": lat,
        "lng": lng,
    }
    created = await client.post("/v1/reports", json=body, headers=me)
    assert created.status_code == 201 and created.json()["visibility"] == "public", created.text
    code = created.json()["code"]
    r = await client.post(
        f"/v1/reports/{code}/actions",
        json={"action": "comment", "message": f"Đã liên hệ chủ xe qua số {OFFICER_PHONE}"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    await set_state(db_conn, code, status="resolved", resolved_days_ago=1)
    r = await client.post(f"/v1/reports/{code}/reopen", json={"reason": personal("Vẫn ngập")}, headers=me)
    assert r.status_code == 200, r.text
    await set_state(db_conn, code, status="resolved", resolved_days_ago=1)
    r = await client.post(
        f"/v1/reports/{code}/rating", json={"stars": 2, "comment": personal("Chậm")}, headers=me
    )
    assert r.status_code == 200, r.text

    geojson = {"Accept": "application/geo+json"}
    surfaces = {
        "report": await client.get(f"/v1/reports/{code}"),
        "report, signed in as someone else": await client.get(
            f"/v1/reports/{code}", headers=(await resident(client, "other"))[1]
        ),
        "list": await client.get("/v1/reports"),
        "geojson": await client.get("/v1/reports", headers=geojson),
        "open311 json": await client.get("/open311/v2/requests.json"),
        "open311 xml": await client.get("/open311/v2/requests.xml"),
        "open311 one json": await client.get(f"/open311/v2/requests/{code}.json"),
        "open311 one xml": await client.get(f"/open311/v2/requests/{code}.xml"),
    }
    for name, answer in surfaces.items():
        assert answer.status_code == 200, (name, answer.text)
        assert code in answer.text, name
        leaked = [v for v in ALL if v in answer.text]
        assert not leaked, f"{name} shows {leaked}"
        # masked, the rest intact
        assert "[số điện thoại]" in answer.text and "Cống nghẹt" in answer.text, name
        assert "12/3" in answer.text and "Phường 12" in answer.text, name

    view = surfaces["report"].json()
    assert view["description"] == (
        "Cống nghẹt: gọi [số điện thoại], email [email], CCCD [số giấy tờ], xe [biển số] đậu chắn hẻm 12/3 "
        "từ 05/6, phí 50.000đ"
    )
    assert view["address"] == "Hẻm 12/3 Lê Lợi, Phường 12 (chủ nhà [số điện thoại])"
    reopened = next(e for e in view["timeline"] if e["kind"] == "reopened")
    assert reopened["reason"].startswith("Vẫn ngập: gọi [số điện thoại], email [email], CCCD [số giấy tờ]")
    assert view["rating_comment"].startswith("Chậm: gọi [số điện thoại], email [email]")
    (feature,) = [f for f in surfaces["geojson"].json()["features"] if f["properties"]["code"] == code]
    assert feature["properties"]["description"] == view["description"]
    (record,) = surfaces["open311 one json"].json()
    assert record["description"] == view["description"] and record["address"] == view["address"]
    assert record["status_notes"] == "Đã liên hệ chủ xe qua số [số điện thoại]"
    root = ET.fromstring(surfaces["open311 one xml"].content)
    assert root.findtext("request/description") == view["description"]

    # public search does not find a report by the personal data in it
    for value in ("0903123456", CCCD, "nguyen.van.a"):
        found = (await client.get("/v1/reports", params={"q": value})).json()["items"]
        assert found == [], value
    assert [
        i["code"] for i in (await client.get("/v1/reports", params={"q": "cong nghet"})).json()["items"]
    ] == [code]

    # staff in scope, and the reporter, read the original
    staff_view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()
    assert staff_view["description"] == body["description"] and staff_view["address"] == body["address"]
    assert next(e for e in staff_view["timeline"] if e["kind"] == "reopened")["reason"] == personal(
        "Vẫn ngập"
    )
    assert staff_view["rating_comment"] == personal("Chậm")
    assert staff_view["public_text"]["description"] == view["description"]
    mine = (await client.get(f"/v1/reports/{code}", headers=me)).json()
    assert mine["description"] == body["description"]
    assert (await client.get("/v1/me/reports", headers=me)).json()["items"][0]["description"] == body[
        "description"
    ]
