"""Map tiles: clusters below the cluster zoom, single cases with their deadline state from it, the
wards layer, scope, filters, guards, caching headers and a bounded size on a dense seed. Tiles are
decoded with `mapbox_vector_tile`."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import mapbox_vector_tile
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.casework.tiles import CLUSTER_BELOW_ZOOM, MAX_CASES
from tests.assertions import assert_error_shape
from tests.casework.conftest import City
from tests.factories import insert_report, resident, staff
from tests.factories.city import ORIGIN_LAT, ORIGIN_LNG, SIZE, centre

LOW = 10  # one tile holds the whole synthetic city
HIGH = 16
Headers = dict[str, str]


def tile_of(lat: float, lng: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lng + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def city_tiles(z: int) -> set[tuple[int, int, int]]:
    """Every tile of zoom `z` that meets the synthetic city."""
    lats = (ORIGIN_LAT, ORIGIN_LAT + SIZE)
    lngs = (ORIGIN_LNG, ORIGIN_LNG + 3 * SIZE)
    (_, x0, y0), (_, x1, y1) = tile_of(lats[1], lngs[0], z), tile_of(lats[0], lngs[1], z)
    return {(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}


async def get_tile(
    client: httpx.AsyncClient, headers: Headers, t: tuple[int, int, int], query: str = ""
) -> httpx.Response:
    z, x, y = t
    return await client.get(f"/v1/tiles/{z}/{x}/{y}.mvt{query}", headers=headers)


async def layers(
    client: httpx.AsyncClient, headers: Headers, t: tuple[int, int, int], query: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """{layer name: [feature properties]} of a tile (an empty tile: no layers)."""
    r = await get_tile(client, headers, t, query)
    assert r.status_code in (200, 204), r.text
    if r.status_code == 204:
        assert r.content == b""
        return {}
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return {
        name: [f["properties"] for f in layer["features"]]
        for name, layer in mapbox_vector_tile.decode(r.content).items()
    }


async def reports(
    client: httpx.AsyncClient, headers: Headers, t: tuple[int, int, int], query: str = ""
) -> list[dict[str, Any]]:
    return (await layers(client, headers, t, query)).get("reports", [])


async def cluster_total(client: httpx.AsyncClient, headers: Headers, z: int, query: str = "") -> int:
    total = 0
    for t in city_tiles(z):
        for p in await reports(client, headers, t, query):
            assert p["cluster"] is True
            total += p["count"]
    return total


async def seed(db: AsyncConnection) -> dict[str, str]:
    """W1: one case in each deadline state (and one overdue at acknowledging); W2: two; W3: one."""
    now = datetime.now(UTC)
    soon, later, past = now + timedelta(hours=3), now + timedelta(days=3), now - timedelta(hours=1)
    rows = {
        "w1_overdue": await insert_report(db, "W1", ack_due_at=past, resolve_due_at=later),
        "w1_due_soon": await insert_report(db, "W1", status="in_progress", resolve_due_at=soon),
        "w1_on_time": await insert_report(db, "W1", status="acknowledged", resolve_due_at=later),
        "w1_closed": await insert_report(db, "W1", status="resolved", resolve_due_at=past),
        "w2_new": await insert_report(db, "W2", ack_due_at=later, resolve_due_at=later),
        "w2_late": await insert_report(db, "W2", status="in_progress", resolve_due_at=past),
        "w3_new": await insert_report(db, "W3", created_at=now - timedelta(days=10)),
    }
    return {k: r.code for k, r in rows.items()}


async def test_clusters_below_the_cluster_zoom(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    assert LOW < CLUSTER_BELOW_ZOOM
    (only,) = city_tiles(LOW)
    feats = await reports(wf_client, city.leader[1], only)
    assert feats and all(p["cluster"] is True for p in feats)
    assert sum(p["count"] for p in feats) == len(c)
    assert sum(p["open_count"] for p in feats) == 6  # all but the resolved one
    assert sum(p["overdue_count"] for p in feats) == 2  # w1_overdue, w2_late
    # a finer zoom, over several tiles: each case counted once, in one tile
    z = CLUSTER_BELOW_ZOOM - 1
    assert await cluster_total(wf_client, city.leader[1], z) == len(c)
    # a lone case in its cell names itself (W3's, at the last cluster zoom, cells ≈ 150 m)
    lone = [p for t in city_tiles(z) for p in await reports(wf_client, city.leader[1], t) if p["count"] == 1]
    assert [p["code"] for p in lone] == [c["w3_new"]]
    # officers see the counts of their wards only
    assert await cluster_total(wf_client, city.officer_w1[1], LOW) == 4
    assert await cluster_total(wf_client, city.officer_w2[1], LOW) == 2


async def test_single_cases_with_their_deadline_state(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    t = tile_of(*centre("W1"), HIGH)
    assert HIGH >= CLUSTER_BELOW_ZOOM
    got = {p["code"]: p for p in await reports(wf_client, city.leader[1], t)}
    assert set(got) == {c["w1_overdue"], c["w1_due_soon"], c["w1_on_time"], c["w1_closed"]}
    assert {
        k: got[c[k]]["deadline_state"] for k in ("w1_overdue", "w1_due_soon", "w1_on_time", "w1_closed")
    } == {
        "w1_overdue": "overdue",
        "w1_due_soon": "due_soon",
        "w1_on_time": "on_time",
        "w1_closed": "closed",
    }
    p = got[c["w1_overdue"]]
    assert p["overdue"] is True and p["open"] is True and p["status"] == "new" and p["ward"] == "W1"
    assert p["category"] == city.category and "cluster" not in p
    assert got[c["w1_closed"]]["open"] is False and got[c["w1_closed"]]["overdue"] is False


async def test_scope_officer_of_one_ward_sees_nothing_of_another(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    w2 = tile_of(*centre("W2"), HIGH)
    assert {p["code"] for p in await reports(wf_client, city.leader[1], w2)} == {c["w2_new"], c["w2_late"]}
    officer = city.officer_w1[1]
    everything = [await get_tile(wf_client, officer, t) for z in (LOW, HIGH - 1, HIGH) for t in city_tiles(z)]
    assert all(r.status_code in (200, 204) for r in everything)
    body = b"".join(r.content for r in everything)
    for key in ("w2_new", "w2_late", "w3_new"):
        assert c[key].encode() not in body
    decoded = [mapbox_vector_tile.decode(r.content) for r in everything if r.content]
    assert {p["properties"]["code"] for d in decoded for p in d.get("wards", {}).get("features", [])} == {
        "W1"
    }
    assert {
        p["properties"].get("ward", "W1") for d in decoded for p in d.get("reports", {}).get("features", [])
    } == {"W1"}
    assert {p["code"] for p in await reports(wf_client, officer, tile_of(*centre("W1"), HIGH))} == {
        c[k] for k in ("w1_overdue", "w1_due_soon", "w1_on_time", "w1_closed")
    }


async def test_wards_layer(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    (only,) = city_tiles(LOW)
    got = await layers(wf_client, city.leader[1], only)  # no case at all: the wards alone
    assert "reports" not in got
    assert {(p["code"], p["name"]) for p in got["wards"]} == {
        ("W1", "Phường Một"),
        ("W2", "Phường Hai"),
        ("W3", "Phường Ba"),
    }
    assert {p["code"] for p in (await layers(wf_client, city.officer_w2[1], only))["wards"]} == {"W2"}
    _, admin = await staff(db_conn, "admin")
    assert {p["code"] for p in (await layers(wf_client, admin, only))["wards"]} >= {"W1", "W2", "W3"}


async def test_filters(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    c = await seed(db_conn)
    lead = city.leader[1]

    async def total(query: str) -> int:
        return await cluster_total(wf_client, lead, LOW, query)

    assert await total("") == 7
    assert await total("?status=new") == 3
    assert await total("?status=new,resolved") == 4
    assert await total("?status=closed") == 1
    assert await total("?ward=W2") == 2
    assert await total("?overdue=true") == 2
    assert await total("?overdue=false") == 5
    assert await total(f"?category={city.category}") == 7
    assert await total("?category=no-such-category") == 0
    today = datetime.now(UTC).date()
    assert await total(f"?from={today - timedelta(days=11)}&to={today - timedelta(days=9)}") == 1
    high = {p["code"] for p in await reports(wf_client, lead, tile_of(*centre("W1"), HIGH), "?overdue=true")}
    assert high == {c["w1_overdue"]}
    # the wards layer is not filtered
    (only,) = city_tiles(LOW)
    assert len((await layers(wf_client, lead, only, "?ward=W2"))["wards"]) == 3
    # a ward outside the caller's scope is 404, a bad status 400
    r = await get_tile(wf_client, city.officer_w1[1], only, "?ward=W2")
    assert_error_shape(r, 404, "area_not_found")
    assert (await get_tile(wf_client, lead, only, "?status=nonsense")).status_code == 400


async def test_who_may_fetch_and_bad_tiles(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    (only,) = city_tiles(LOW)
    assert (await get_tile(wf_client, city.officer_w1[1], only)).status_code == 200
    assert (await get_tile(wf_client, city.leader[1], only)).status_code == 200
    res = await resident(wf_client)
    assert_error_shape(await get_tile(wf_client, res.headers, only), 403, "forbidden")
    _, moderator = await staff(db_conn, "moderator")
    assert_error_shape(await get_tile(wf_client, moderator, only), 403, "forbidden")
    assert_error_shape(await wf_client.get("/v1/tiles/10/1/1.mvt"), 401, "unauthorized")
    for bad in ("12/3262/1924.png", "40/0/0.mvt", "2/9/0.mvt", "2/0/4.mvt", "2/0/x.mvt", "2/0/1"):
        assert_error_shape(
            await wf_client.get(f"/v1/tiles/{bad}", headers=city.leader[1]), 404, "tile_not_found"
        )


async def test_empty_tile_and_caching(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    empty = await get_tile(wf_client, city.leader[1], (10, 0, 0))
    assert empty.status_code == 204 and empty.content == b""
    assert "private" in empty.headers["cache-control"] and empty.headers["etag"]
    (only,) = city_tiles(LOW)
    first = await get_tile(wf_client, city.leader[1], only)
    cache = first.headers["cache-control"]
    assert first.status_code == 200 and "private" in cache and "max-age=15" in cache
    etag = first.headers["etag"]
    again = await wf_client.get(
        f"/v1/tiles/{only[0]}/{only[1]}/{only[2]}.mvt", headers={**city.leader[1], "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    await insert_report(db_conn, "W3")  # the content changed: a new ETag, a full answer
    changed = await wf_client.get(
        f"/v1/tiles/{only[0]}/{only[1]}/{only[2]}.mvt", headers={**city.leader[1], "If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    # another viewer's tile differs (scope), so the ETag does too
    assert (await get_tile(wf_client, city.officer_w1[1], only)).headers["etag"] != changed.headers["etag"]


DENSE = 3 * MAX_CASES


async def test_dense_tile_stays_small(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    """More cases than a tile may hold as points, all inside one tile of the highest zoom: the tile is
    clustered instead, its counts still add up, and no tile of any zoom passes 500 KB."""
    reporter = (await resident(db_conn)).id
    lat, lng = centre("W1")
    await db_conn.execute(
        text(
            "INSERT INTO reports (id, code, reporter_id, category_code, description, geom, ward_code, status, "
            "visibility, search_text, resolve_due_at) "
            "SELECT gen_random_uuid(), 'DN-' || i, :rep, :cat, 'dày', "
            "ST_SetSRID(ST_MakePoint(:lng + (i % 97) * 1e-6, :lat + (i % 89) * 1e-6), 4326), 'W1', "
            "(ARRAY['new','in_progress','resolved'])[1 + i % 3], 'public', 'day', now() + interval '1 day' "
            "FROM generate_series(1, :n) i"
        ),
        {"rep": reporter, "cat": city.category, "lat": lat, "lng": lng, "n": DENSE},
    )
    sizes = {}
    for z in (LOW, CLUSTER_BELOW_ZOOM - 1, CLUSTER_BELOW_ZOOM, HIGH):
        t = tile_of(lat, lng, z)
        r = await get_tile(wf_client, city.leader[1], t)
        assert r.status_code == 200
        sizes[z] = len(r.content)
        feats = mapbox_vector_tile.decode(r.content)["reports"]["features"]
        assert all(f["properties"]["cluster"] is True for f in feats), z
        assert sum(f["properties"]["count"] for f in feats) == DENSE, z
    assert max(sizes.values()) < 500_000, sizes
    # a tile within the limit keeps its single cases
    few = tile_of(*centre("W2"), HIGH)
    await insert_report(db_conn, "W2")
    (single,) = await reports(wf_client, city.leader[1], few)
    assert "cluster" not in single and single["deadline_state"] == "on_time"


async def test_agency_scope(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    """Staff of an agency see the cases routed to it, in any ward, and no ward boundary (they hold no
    area): the map's scan of the scope keeps the agency half of the rule."""
    await seed(db_conn)
    routed = await insert_report(db_conn, "W3", agency_code="evn")
    _, evn = await staff(db_conn, "officer", agencies=["evn"])
    (only,) = city_tiles(LOW)
    got = await layers(wf_client, evn, only)
    assert "wards" not in got
    assert [(p["count"], p["code"]) for p in got["reports"]] == [(1, routed.code)]
    assert {p["code"] for p in await reports(wf_client, evn, tile_of(*centre("W3"), HIGH))} == {routed.code}
