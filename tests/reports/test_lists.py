"""GET /v1/reports and GET /v1/me/reports: filters, diacritic-insensitive search, keyset pages, GeoJSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, centre, insert_report, make_city, resident


async def codes(client: httpx.AsyncClient, query: str, **kw: object) -> list[str]:
    r = await client.get(f"/v1/reports?{query}", **kw)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return [it["code"] for it in r.json()["items"]]


async def test_search_ignores_vietnamese_diacritics(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    flood = await insert_report(db_conn, "W1", description="Đường ngập sâu sau mưa")
    await insert_report(db_conn, "W1", description="Rác thải ùn ứ")
    assert await codes(client, "q=duong ngap") == [flood.code]
    assert await codes(client, "q=ĐƯỜNG NGẬP") == [flood.code]
    assert await codes(client, "q=ngap%25") == []  # LIKE wildcards are literal


async def test_filters(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    a = await insert_report(db_conn, "W1", status="new")
    b = await insert_report(db_conn, "W2", status="resolved")
    hidden = await insert_report(db_conn, "W2", visibility="hidden")
    await db_conn.execute(text("UPDATE reports SET category_code = 'tieng-on' WHERE id = :i"), {"i": b.id})
    old = await insert_report(db_conn, "W3")
    await db_conn.execute(
        text("UPDATE reports SET created_at = now() - interval '40 days' WHERE id = :i"), {"i": old.id}
    )
    everything = await codes(client, "")
    assert set(everything) == {a.code, b.code, old.code} and hidden.code not in everything
    assert set(await codes(client, "status=open")) == {a.code, old.code}
    assert await codes(client, "status=closed") == [b.code]
    assert await codes(client, "category=tieng-on") == [b.code]
    assert await codes(client, "ward=W2") == [b.code]
    assert set(await codes(client, "ward=T1")) == {a.code, b.code, old.code}
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert set(await codes(client, f"since={since}")) == {a.code, b.code}
    lat, lng = centre("W1")
    assert await codes(client, f"near={lat},{lng}&radius=300") == [a.code]
    assert set(await codes(client, f"near={lat},{lng}&radius=2500")) == {a.code, b.code, old.code}
    bbox = f"{ORIGIN_LNG},{ORIGIN_LAT},{ORIGIN_LNG + 0.02},{ORIGIN_LAT + 0.01}"
    assert set(await codes(client, f"bbox={bbox}")) == {a.code, b.code}


async def test_bad_filters_are_400_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for query, name in [
        ("near=abc", "near"),
        ("near=95,10", "near"),
        ("near=10.7,106.7&radius=50000", "radius"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=107,11,106,10", "bbox"),
        ("status=lost", "status"),
    ]:
        err = assert_error_shape(await client.get(f"/v1/reports?{query}"), 400, "invalid_parameter")
        assert err["details"]["parameter"] == name
    err = assert_error_shape(await client.get("/v1/reports?cursor=!!!"), 400, "bad_cursor")
    assert err["details"]["parameter"] == "cursor"
    assert (await client.get("/v1/reports?limit=1000")).status_code == 400


async def test_keyset_pages_have_no_gaps_or_repeats(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    made = [await insert_report(db_conn, "W1") for _ in range(7)]
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        r = (await client.get(f"/v1/reports?limit=3{'&cursor=' + cursor if cursor else ''}")).json()
        seen += [it["code"] for it in r["items"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(m.code for m in made) and len(seen) == 7


async def test_geojson_output(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    rep = await insert_report(db_conn, "W2")
    r = await client.get("/v1/reports", headers={"Accept": "application/geo+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["next_cursor"] is None
    [feature] = fc["features"]
    lat, lng = centre("W2")
    assert feature["geometry"] == {"type": "Point", "coordinates": [lng, lat]}
    assert feature["properties"]["code"] == rep.code


async def test_my_reports_newest_first_with_held_ones(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    first = await insert_report(db_conn, "W1", reporter_id=uid)
    second = await insert_report(db_conn, "W2", reporter_id=uid, visibility="pending_review")
    await db_conn.execute(
        text("UPDATE reports SET created_at = now() - interval '1 hour' WHERE id = :i"), {"i": first.id}
    )
    await insert_report(db_conn, "W1")  # someone else's
    body = (await client.get("/v1/me/reports", headers=me)).json()
    assert [it["code"] for it in body["items"]] == [second.code, first.code]
    assert body["items"][0]["visibility"] == "pending_review"
    assert_error_shape(await client.get("/v1/me/reports"), 401, "unauthorized")
