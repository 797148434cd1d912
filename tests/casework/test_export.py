"""CSV / GeoJSON exports (content, filters, scope, streaming); the tiles are test_tiles.py's."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import asyncpg.cursor
import asyncpg.prepared_stmt
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.casework import export
from tests.casework.conftest import City
from tests.factories import any_category, insert_report, resident, staff


async def seed(db_conn: AsyncConnection) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "w1_new": (await insert_report(db_conn, "W1", ack_due_at=now - timedelta(hours=1))).code,
        "w1_done": (await insert_report(db_conn, "W1", status="resolved")).code,
        "w2_new": (await insert_report(db_conn, "W2")).code,
        "w3_new": (await insert_report(db_conn, "W3", description='Dấu "ngoặc", phẩy\nxuống dòng')).code,
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

    _, lw1 = await staff(db_conn, "leader", ["W1"])
    assert await codes("", lw1) == {c["w1_new"], c["w1_done"]}
    assert (await wf_client.get("/v1/export.csv?area=W2", headers=lw1)).status_code == 404
    assert (await wf_client.get("/v1/export.csv?ward=W2", headers=lw1)).status_code == 404
    # an officer: their wards' cases only
    assert await codes("", city.officer_w1[1]) == {c["w1_new"], c["w1_done"]}
    assert (await wf_client.get("/v1/export.csv?ward=W2", headers=city.officer_w1[1])).status_code == 404
    _, someone = await resident(db_conn)
    assert (await wf_client.get("/v1/export.csv", headers=someone)).status_code == 403


async def test_csv_names_and_local_times(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    """What the console shows: names beside codes, local times with their offset, opening as UTF-8."""
    await db_conn.execute(
        text(
            "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
            "VALUES ('den-hu', 'Đèn đường hỏng', 'Broken street light', 4, 3, 'days')"
        )
    )
    created = datetime(2031, 3, 3, 17, 30, tzinfo=UTC)  # 00:30 on the 4th in Ho Chi Minh City
    r1 = await insert_report(db_conn, "W1", category="den-hu", created_at=created)
    resp = await wf_client.get("/v1/export.csv?category=den-hu", headers=city.officer_w1[1])
    assert resp.status_code == 200, resp.text
    assert resp.content[:3] == b"\xef\xbb\xbf"  # the BOM, so spreadsheet programs read UTF-8
    text_ = resp.content.decode("utf-8")  # strict: the file is UTF-8 throughout
    assert "Đèn đường hỏng" in text_ and "Phường Một" in text_
    (row,) = parse_csv(resp.content)
    assert row["code"] == r1.code
    assert (row["category"], row["category_name_vi"], row["category_name_en"]) == (
        "den-hu",
        "Đèn đường hỏng",
        "Broken street light",
    )
    assert (row["ward"], row["ward_name"]) == ("W1", "Phường Một")
    assert row["created_at"] == "2031-03-04T00:30:00+07:00"
    assert datetime.fromisoformat(row["created_at"]) == created
    geo = await wf_client.get("/v1/export.geojson?category=den-hu", headers=city.officer_w1[1])
    (feature,) = geo.json()["features"]
    props = feature["properties"]
    assert props["ward_name"] == "Phường Một" and props["category_name_en"] == "Broken street light"
    assert props["created_at"] == "2031-03-04T00:30:00+07:00"
    # the officer of W2 does not get it
    other = await wf_client.get("/v1/export.csv?category=den-hu", headers=city.officer_w2[1])
    assert parse_csv(other.content) == []


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


# --- streaming -------------------------------------------------------------------------------------
#
# An export must not hold the whole result in memory: rows come from a server-side cursor a batch at a
# time and each batch is written out before the next is fetched. The test counts the seeded rows the
# driver (asyncpg) has handed over at the moment each body chunk leaves the app (the app is driven as
# raw ASGI: httpx's ASGITransport would buffer the whole body), so `fetchall()` then write — in one
# chunk or in slices — fails it.

STREAM_BATCH = 50  # export.BATCH for these tests, so that a few hundred rows make many batches
STREAM_ROWS = 12 * STREAM_BATCH + 7
CODE_PREFIX = "PA-STRM-"
SEEDED_CODE = re.compile(rb"PA-STRM-\d{5}")


async def seed_many(db_conn: AsyncConnection, n: int) -> set[str]:
    """`n` new cases in W1 by one INSERT … SELECT, codes PA-STRM-00001…"""
    reporter = (await resident(db_conn)).id
    await db_conn.execute(
        text(
            """
            INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, answers,
                                 geom, ward_code, status, visibility, search_text, created_at)
            SELECT gen_random_uuid(), :prefix || lpad(i::text, 5, '0'), :reporter, gen_random_uuid(), :cat,
                   'Ổ gà số ' || i, CAST('{}' AS jsonb),
                   ST_SetSRID(ST_MakePoint(106.705, 10.775), 4326), 'W1', 'new', 'public',
                   'o ga so ' || i, now() - make_interval(secs => i)
            FROM generate_series(1, :n) AS i
            """
        ),
        {"prefix": CODE_PREFIX, "reporter": reporter, "cat": await any_category(db_conn), "n": n},
    )
    return {f"{CODE_PREFIX}{i:05d}" for i in range(1, n + 1)}


@dataclass
class Fetched:
    """Seeded rows the database driver has returned so far (through a cursor or a plain fetch)."""

    codes: set[str]
    count: int = 0

    def see(self, records: Any) -> None:
        if isinstance(records, list):
            self.count += sum(
                1 for r in records if isinstance(r, asyncpg.Record) and r.get("code") in self.codes
            )


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> Fetched:
    counter = Fetched(set())

    def counting(fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            records = await fetch(*args, **kwargs)
            counter.see(records)
            return records

        return wrapper

    # SQLAlchemy's asyncpg dialect fetches with PreparedStatement.fetch (buffered results) or
    # Cursor.fetch (server-side cursors: `stream`, `yield_per`)
    monkeypatch.setattr(
        asyncpg.prepared_stmt.PreparedStatement,
        "fetch",
        counting(asyncpg.prepared_stmt.PreparedStatement.fetch),
    )
    monkeypatch.setattr(asyncpg.cursor.Cursor, "fetch", counting(asyncpg.cursor.Cursor.fetch))
    monkeypatch.setattr(export, "BATCH", STREAM_BATCH)
    return counter


@dataclass
class Chunk:
    body: bytes = field(repr=False)
    fetched: int  # seeded rows the driver had returned when this chunk was sent
    rows: int  # seeded rows in this chunk


@dataclass
class Streamed:
    status: int = 0
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return b"".join(c.body for c in self.chunks)


async def get_streamed(app: Litestar, path: str, headers: dict[str, str], fetched: Fetched) -> Streamed:
    """GET `path` from the app as raw ASGI, noting what the driver had fetched at each body chunk."""
    out = Streamed()
    done = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays until the response is over
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out.status = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                rows = len(set(SEEDED_CODE.findall(body)))  # (GeoJSON names a code twice per row)
                out.chunks.append(Chunk(body, fetched.count, rows))
            if not message.get("more_body", False):
                done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    done.set()
    return out


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
async def test_export_streams_in_batches(
    app: Litestar,
    wf_client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    city: City,
    fetched: Fetched,
    fmt: str,
) -> None:
    """Each batch of rows is sent before the next is fetched: the first rows leave while most of the
    result is still in the database, and the app never holds more than a batch or two unsent."""
    fetched.codes = await seed_many(db_conn, STREAM_ROWS)
    r = await get_streamed(app, f"/v1/export.{fmt}", city.leader[1], fetched)
    assert r.status == 200, r.body[:300]

    # the whole result, once
    if fmt == "csv":
        codes = [row["code"] for row in parse_csv(r.body)]
    else:
        codes = [f["id"] for f in json.loads(r.body)["features"]]
    assert sorted(c for c in codes if c.startswith(CODE_PREFIX)) == sorted(fetched.codes)
    assert fetched.count == STREAM_ROWS, "the rows were not read through the driver calls this test counts"

    with_rows = [c for c in r.chunks if c.rows]
    assert len(with_rows) >= STREAM_ROWS // STREAM_BATCH, (
        f"{STREAM_ROWS} rows in {len(with_rows)} chunks: not written batch by batch"
    )
    first = with_rows[0]
    assert first.fetched < STREAM_ROWS // 2, (
        f"the first rows were sent after {first.fetched} of {STREAM_ROWS} rows had been fetched"
    )
    sent = 0
    for chunk in r.chunks:
        sent += chunk.rows
        held = chunk.fetched - sent  # fetched from the database, not yet sent
        assert held <= 2 * STREAM_BATCH, f"{held} rows held in memory (batch {STREAM_BATCH})"
