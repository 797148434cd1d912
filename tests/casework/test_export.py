"""CSV / GeoJSON exports (content, filters, scope) and vector tiles (scope, attributes)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.casework.conftest import City, case


async def seed(db_conn: AsyncConnection) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "w1_new": (await case(db_conn, "W1", ack_due_at=now - timedelta(hours=1))).code,
        "w1_done": (await case(db_conn, "W1", status="resolved")).code,
        "w2_new": (await case(db_conn, "W2")).code,
        "w3_new": (await case(db_conn, "W3", description='Dấu "ngoặc", phẩy\nxuống dòng')).code,
    }


def parse_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_csv_content_filters_scope(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    r = await wf_client.get("/v1/export.csv", headers=city.leader[1])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["code"]: row for row in parse_csv(r.content)}
    assert set(rows) == set(c.values())
    assert rows[c["w3_new"]]["description"] == 'Dấu "ngoặc", phẩy\nxuống dòng'  # quoted round trip
    assert rows[c["w1_new"]]["overdue"] == "true" and rows[c["w2_new"]]["overdue"] == "false"
    assert rows[c["w1_new"]]["ward"] == "W1" and float(rows[c["w1_new"]]["lat"]) > 10

    async def codes(query: str, headers: dict[str, str] = city.leader[1]) -> set[str]:
        resp = await wf_client.get(f"/v1/export.csv?{query}", headers=headers)
        assert resp.status_code == 200, resp.text
        return {row["code"] for row in parse_csv(resp.content)}

    assert await codes("status=resolved") == {c["w1_done"]}
    assert await codes("area=W2") == {c["w2_new"]}
    assert await codes("overdue=true") == {c["w1_new"]}
    # the public list's filters, parsed by the same code as GET /v1/reports
    assert await codes("status=open") == {c["w1_new"], c["w2_new"], c["w3_new"]}
    assert await codes("status=resolved,new&ward=W1") == {c["w1_new"], c["w1_done"]}
    assert await codes("q=ngoac") == {c["w3_new"]}  # accent-free search
    assert await codes("bbox=106.71,10.77,106.72,10.78") == {c["w2_new"]}
    bad = await wf_client.get("/v1/export.csv?status=nonsense", headers=city.leader[1])
    assert bad.status_code == 400
    today = datetime.now(UTC).date()
    assert await codes(f"from={today + timedelta(days=2)}") == set()

    # a leader of W1 only: W1's cases; another area is 404
    from tests.support.staff import make_staff

    _, lw1 = await make_staff(db_conn, "leader", ["W1"])
    assert await codes("", lw1) == {c["w1_new"], c["w1_done"]}
    assert (await wf_client.get("/v1/export.csv?area=W2", headers=lw1)).status_code == 404
    assert (await wf_client.get("/v1/export.csv?ward=W2", headers=lw1)).status_code == 404
    assert (await wf_client.get("/v1/export.csv", headers=city.officer_w1[1])).status_code == 403


async def test_geojson(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    c = await seed(db_conn)
    r = await wf_client.get("/v1/export.geojson?area=W3", headers=city.leader[1])
    assert r.status_code == 200, r.text
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    (f,) = fc["features"]
    assert f["id"] == c["w3_new"] and f["geometry"]["type"] == "Point"
    lng, lat = f["geometry"]["coordinates"]
    assert (round(lng, 3), round(lat, 3)) == (106.725, 10.775)
    assert f["properties"]["ward"] == "W3" and f["properties"]["status"] == "new"
    empty = await wf_client.get("/v1/export.geojson?status=rejected", headers=city.leader[1])
    assert empty.json() == {"type": "FeatureCollection", "features": []}


async def test_tiles_scope(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    from tests.support.staff import make_staff

    c = await seed(db_conn)
    # zoom 12 tile containing the synthetic city (lng 106.70–106.73, lat 10.77–10.78)
    z, x, y = 12, 3262, 1924
    r = await wf_client.get(f"/v1/tiles/{z}/{x}/{y}.mvt", headers=city.leader[1])
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert all(code.encode() in r.content for code in c.values())
    assert b"overdue" in r.content and b"status" in r.content
    _, lw2 = await make_staff(db_conn, "leader", ["W2"])
    mine = await wf_client.get(f"/v1/tiles/{z}/{x}/{y}.mvt", headers=lw2)
    assert c["w2_new"].encode() in mine.content and c["w1_new"].encode() not in mine.content
    far = await wf_client.get(f"/v1/tiles/{z}/0/0.mvt", headers=city.leader[1])
    assert far.status_code == 200 and far.content == b""
    for bad in ("12/3262/1924.png", "40/0/0.mvt", "2/9/0.mvt"):
        assert (await wf_client.get(f"/v1/tiles/{bad}", headers=city.leader[1])).status_code == 404
