"""Staff see the 2025 ward a resident's pre-2025 address names; residents and the public do not."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.areas.cli import demo_wards
from api.reports.addresses import address_2025
from geo.importer import ImportOptions, import_file
from tests.factories import resident, staff

DEMO = ImportOptions(parent_code_field="provinceCode", parent_name_field="provinceName")
BEN_THANH = {"lat": 10.7725, "lng": 106.6981}


async def test_staff_case_view_names_the_2025_ward(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await import_file(db_conn, demo_wards(), DEMO)
    _, me = await resident(client)
    body = {
        **BEN_THANH,
        "category": "ngap-nuoc",
        "description": "Ngập sau mưa",
        "address": "45 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM",
    }
    r = await client.post("/v1/reports", json=body, headers=me)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    _, officer = await staff(db_conn, "officer", ["79"])
    view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()
    assert view["address_2025"] == {
        "code": "26740",
        "name": "Sài Gòn",
        "confidence": "high",
        "old": "Phường Bến Nghé, Quận 1",
        "known": True,
    }
    assert "address_2025" not in (await client.get(f"/v1/reports/{code}", headers=me)).json()
    assert "address_2025" not in (await client.get(f"/v1/reports/{code}")).json()

    written_2025 = {**body, "address": "45 Lê Lợi, phường Sài Gòn"}
    r = await client.post("/v1/reports", json=written_2025, headers=me)
    view = (await client.get(f"/v1/reports/{r.json()['code']}", headers=officer)).json()
    assert view["address_2025"] is None


async def test_a_ward_outside_our_areas_is_named_but_not_known(
    db_conn: AsyncConnection, session: AsyncSession
) -> None:
    await import_file(db_conn, demo_wards(), DEMO)
    far = await address_2025(session, "Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội", None)
    # Tràng Tiền was split; most of it went to Cửa Nam (Hà Nội, not among the demo wards)
    assert far is not None and (far.code, far.name, far.confidence, far.known) == (
        "00082",
        "Phường Cửa Nam",
        "medium",
        False,
    )
    near = await address_2025(session, "Phường 12, Quận 3, TP.HCM", None)
    assert near is not None and (near.code, near.name, near.known) == ("27142", "Nhiêu Lộc", True)
