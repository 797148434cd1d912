"""The public area endpoints over HTTP, on the synthetic city and the demo wards."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from api.app import create_app, with_fast_paths
from api.areas.cli import demo_wards
from api.core.db import make_engine
from api.core.settings import Settings
from geo.importer import ImportOptions, import_file
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, SIZE, centre, make_city

DEMO = ImportOptions(parent_code_field="provinceCode", parent_name_field="provinceName")


async def test_lookup_inside_a_ward(db_conn: AsyncConnection, client: httpx.AsyncClient) -> None:
    await make_city(db_conn)
    lat, lng = centre("W2")
    r = await client.get("/v1/areas/lookup", params={"lat": lat, "lng": lng})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ward": {"code": "W2", "name": "Phường Hai", "level": "ward"},
        "ancestors": [{"code": "T1", "name": "Thành phố Thử", "level": "province"}],
        "snapped": False,
        "distance_m": None,
        "near_boundary": False,
    }


async def test_lookup_snaps_to_the_nearest_ward(db_conn: AsyncConnection, client: httpx.AsyncClient) -> None:
    await make_city(db_conn)
    r = await client.get("/v1/areas/lookup", params={"lat": ORIGIN_LAT + SIZE / 2, "lng": ORIGIN_LNG - 0.001})
    body = r.json()
    assert r.status_code == 200 and body["ward"]["code"] == "W1" and body["snapped"] is True
    assert 100 < body["distance_m"] < 120


async def test_lookup_on_a_shared_edge_is_flagged(
    db_conn: AsyncConnection, client: httpx.AsyncClient
) -> None:
    await make_city(db_conn)
    r = await client.get("/v1/areas/lookup", params={"lat": ORIGIN_LAT + SIZE / 2, "lng": ORIGIN_LNG + SIZE})
    assert r.json()["ward"]["code"] == "W1" and r.json()["near_boundary"] is True


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_outside_the_service_area(
    db_conn: AsyncConnection, client: httpx.AsyncClient, lang: str
) -> None:
    await make_city(db_conn)
    r = await client.get(
        "/v1/areas/lookup",
        params={"lat": ORIGIN_LAT + SIZE / 2, "lng": ORIGIN_LNG - 0.003},  # ~330 m out, snap is 200 m
        headers={"Accept-Language": lang},
    )
    err = assert_error_shape(r, 422, "outside_service_area")
    expected = "ngoài khu vực phục vụ" if lang == "vi" else "outside the service area"
    assert expected in err["message"]
    assert err["details"]["snap_distance_m"] == 200.0


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "abc", "lng": "106.7"},
        {"lat": "10.7", "lng": ""},
        {"lat": "91", "lng": "106.7"},
        {"lat": "10.7", "lng": "-180.5"},
        {"lat": "nan", "lng": "106.7"},
        {"lat": "inf", "lng": "106.7"},
        {"lng": "106.7"},
    ],
)
async def test_malformed_coordinates_are_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    r = await client.get("/v1/areas/lookup", params=params)
    assert_error_shape(r, 400, "validation_error")


async def test_demo_wards_answer_the_sanity_points(
    db_conn: AsyncConnection, client: httpx.AsyncClient
) -> None:
    await import_file(db_conn, demo_wards(), DEMO)
    for (lat, lng), name in [
        ((10.7725, 106.6981), "Bến Thành"),
        ((10.7769, 106.7009), "Sài Gòn"),
        ((10.76788394, 106.65735539), "Phú Thọ"),
    ]:
        r = await client.get("/v1/areas/lookup", params={"lat": lat, "lng": lng})
        assert r.status_code == 200, r.text
        assert r.json()["ward"]["name"] == name
        assert r.json()["ancestors"] == [{"code": "79", "name": "Thành phố Hồ Chí Minh", "level": "province"}]


async def test_tree_listing_and_pages(db_conn: AsyncConnection, client: httpx.AsyncClient) -> None:
    await make_city(db_conn)
    roots = (await client.get("/v1/areas")).json()
    assert [a["code"] for a in roots["items"]] == ["T1"] and roots["total"] == 1
    assert roots["items"][0]["is_leaf"] is False
    page = (await client.get("/v1/areas", params={"parent": "T1", "limit": 1})).json()
    assert [a["code"] for a in page["items"]] == ["W1"] and page["total"] == 3
    cursor = page["next_cursor"]
    page = (await client.get("/v1/areas", params={"parent": "T1", "limit": 2, "cursor": cursor})).json()
    assert [a["code"] for a in page["items"]] == ["W2", "W3"] and page["total"] == 3
    assert page["next_cursor"] is None
    assert page["items"][0] == {
        "code": "W2",
        "name": "Phường Hai",
        "name_ascii": "Phuong Hai",
        "level": "ward",
        "parent_code": "T1",
        "is_leaf": True,
    }
    r = await client.get("/v1/areas", params={"parent": "NOPE"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "area_not_found"
    assert (await client.get("/v1/areas", params={"limit": 0})).status_code == 400


async def test_one_area_with_geometry(db_conn: AsyncConnection, client: httpx.AsyncClient) -> None:
    await make_city(db_conn)
    plain = (await client.get("/v1/areas/W1")).json()
    assert plain["geometry"] is None and plain["children"] == 0
    assert [a["code"] for a in plain["ancestors"]] == ["T1"]
    geo = (await client.get("/v1/areas/W1", params={"geometry": "true"})).json()["geometry"]
    assert geo["type"] == "MultiPolygon"
    ring = geo["coordinates"][0][0]
    corners = {(ORIGIN_LNG + dx, ORIGIN_LAT + dy) for dx in (0, SIZE) for dy in (0, SIZE)}
    assert {(round(x, 6), round(y, 6)) for x, y in ring} == {(round(x, 6), round(y, 6)) for x, y in corners}
    province = (await client.get("/v1/areas/T1")).json()
    assert province["children"] == 3 and province["ancestors"] == []
    assert_error_shape(await client.get("/v1/areas/ZZ"), 404, "area_not_found")


async def test_lookup_is_public_and_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    op = spec["paths"]["/v1/areas/lookup"]["get"]
    assert op["operationId"] == "lookupArea" and op["security"] == [{}]
    assert {"200", "400", "422"} <= set(op["responses"])


async def test_lookups_take_a_few_connections_from_the_apps_pool(settings: Settings, fresh_db: str) -> None:
    """Served for real (not bound to a test transaction), through the fast paths: lookups run on
    connections of the app's own pool, at most `lookup_connections` at once, kept between lookups."""
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await import_file(conn, demo_wards(), DEMO)
    await engine.dispose()
    app = create_app(settings.with_(lookup_connections=2), database_url=fresh_db)
    fast = with_fast_paths(app)
    async with serving(app, fast=fast) as client:
        params = {"lat": 10.7725, "lng": 106.6981}
        answers = await asyncio.gather(*(client.get("/v1/areas/lookup", params=params) for _ in range(12)))
        assert {(r.status_code, r.json()["ward"]["name"]) for r in answers} == {(200, "Bến Thành")}
        outside = await client.get("/v1/areas/lookup", params={"lat": 0, "lng": 0})
        assert outside.status_code == 422
        pool = app.state.db.engine.pool
        assert pool.checkedout() == 2  # the lookups' own, kept checked out between turns
        assert pool.checkedin() <= 1  # the schema check's
        assert fast.answered["/v1/areas/lookup"] == 13
    assert pool.checkedout() == 0  # shutting down returned them
