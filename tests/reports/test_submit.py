"""POST /v1/reports: the rules of submitting, through HTTP against the real database.

Every test runs twice: through the Litestar app alone, and through the fast paths `phananh serve`
puts in front of it (api/core/fastpath.py), which must give the same answers — and must answer
itself. tests/core/test_hot_routes.py compares the two ways answer by answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.app import create_app, with_fast_paths
from api.core.db import make_engine
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, centre, make_city, resident

LAT, LNG = centre("W2")


@pytest.fixture(params=["litestar", "fast_path"])
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def served(app: Litestar, stack: str) -> AsyncIterator[httpx.AsyncClient]:
    fast = with_fast_paths(app) if stack == "fast_path" else None
    async with serving(app, fast=fast) as client:
        yield client
    if fast is not None:  # the fast path answered, not Litestar behind it
        assert fast.answered["/v1/reports"] > 0


@pytest.fixture
async def client(app: Litestar, stack: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(app, stack) as c:
        yield c


def body(**kw: object) -> dict[str, object]:
    return {"category": "ngap-nuoc", "description": "Đường ngập sâu 30cm", "lat": LAT, "lng": LNG, **kw}


async def test_created_report(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    r = await client.post(
        "/v1/reports", json=body(accuracy_m=8, address="Hẻm 12", answers={"depth_cm": 30}), headers=me
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["status"] == "new" and got["visibility"] == "public"
    assert got["ward"] == {"code": "W2", "name": "Phường Hai"} and got["agency"] is None
    assert got["code"].startswith("PA-") and len(got["code"]) == 12
    assert not set(got["code"][3:]) & set("01OIL")
    assert got["due"]["acknowledge_by"] < got["due"]["resolve_by"] and got["nearby"] == []
    row = (
        await db_conn.execute(
            text("SELECT reporter_id, ward_code, answers, search_text FROM reports WHERE code = :c"),
            {"c": got["code"]},
        )
    ).one()
    assert row.reporter_id == uid and row.ward_code == "W2" and row.answers == {"depth_cm": 30}
    assert row.search_text == "duong ngap sau 30cm hem 12"
    events = (
        await db_conn.execute(
            text("SELECT kind, to_status FROM report_events WHERE report_id = :i"),
            {"i": uuid.UUID(got["id"])},
        )
    ).all()
    assert [tuple(e) for e in events] == [("created", "new")]


async def test_text_is_nfc_normalised(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    decomposed = "Đường ngập".replace("ư", "u\u031b").replace("ậ", "a\u0323\u0302")
    assert decomposed != "Đường ngập"
    r = await client.post("/v1/reports", json=body(description=f"  {decomposed}  "), headers=me)
    stored = await db_conn.scalar(
        text("SELECT description FROM reports WHERE code = :c"), {"c": r.json()["code"]}
    )
    assert stored == "Đường ngập"


async def test_rejections(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    assert_error_shape(await client.post("/v1/reports", json=body()), 401, "unauthorized")
    cases = [
        (body(description="   "), 400, "description_required"),
        (body(description="x" * 2001), 400, "text_too_long"),
        (body(address="y" * 301), 400, "text_too_long"),
        (body(category="ufo"), 422, "unknown_category"),
        (body(lat=91), 400, "validation_error"),
        (body(lng="abc"), 400, "validation_error"),
        (body(extra=1), 400, "validation_error"),
        (body(answers={"depth_cm": "deep"}), 422, "invalid_answers"),
        (body(answers={"colour": "blue"}), 422, "invalid_answers"),
        (body(category="cay-gay-do"), 422, "invalid_answers"),  # a required question
        (body(category="rac-thai"), 422, "photo_required"),
        (body(lat=ORIGIN_LAT + 0.005, lng=ORIGIN_LNG - 0.01), 422, "outside_service_area"),  # ~1 km out
    ]
    for payload, status, code in cases:
        assert_error_shape(await client.post("/v1/reports", json=payload, headers=me), status, code)
    assert await db_conn.scalar(text("SELECT count(*) FROM reports")) == 0
    en = await client.post("/v1/reports", json=cases[-1][0], headers={**me, "Accept-Language": "en"})
    assert "outside the service area" in en.json()["error"]["message"]
    vi = await client.post("/v1/reports", json=cases[-1][0], headers=me)
    assert "ngoài khu vực" in vi.json()["error"]["message"]


async def test_near_edge_is_snapped_and_flagged(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    r = await client.post(
        "/v1/reports", json=body(lat=ORIGIN_LAT + 0.005, lng=ORIGIN_LNG - 0.0005), headers=me
    )
    assert r.status_code == 201 and r.json()["ward"]["code"] == "W1"
    assert 40 < r.json()["snapped_m"] < 70


async def test_routing_to_an_agency(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    await db_conn.execute(text("INSERT INTO category_routes VALUES ('mat-dien', 'T1', 'evn')"))
    _, me = await resident(client)
    r = await client.post(
        "/v1/reports", json=body(category="mat-dien", description="Mất điện cả khu"), headers=me
    )
    assert r.status_code == 201 and r.json()["agency"] == "evn" and r.json()["ward"]["code"] == "W2"


async def test_nearby_open_reports_of_the_same_category(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, a = await resident(client, "a")
    _, b = await resident(client, "b")
    first = (await client.post("/v1/reports", json=body(), headers=a)).json()
    await client.post("/v1/reports", json=body(category="tieng-on", description="Karaoke"), headers=a)
    far = body(lat=LAT + 0.002)  # ~220 m: beyond the 100 m flooding radius
    await client.post("/v1/reports", json=far, headers=a)
    second = (await client.post("/v1/reports", json=body(lat=LAT + 0.0003), headers=b)).json()  # ~33 m
    assert [n["code"] for n in second["nearby"]] == [first["code"]]
    assert 25 < second["nearby"][0]["distance_m"] < 40
    # ~78 m from the first: beyond the default 50 m, within flooding's own 100 m; nearest first
    mid = (await client.post("/v1/reports", json=body(lat=LAT + 0.0007), headers=b)).json()
    assert [n["code"] for n in mid["nearby"]] == [second["code"], first["code"]]
    await db_conn.execute(text("UPDATE reports SET status = 'closed' WHERE code = :c"), {"c": first["code"]})
    third = (await client.post("/v1/reports", json=body(), headers=b)).json()
    assert [n["code"] for n in third["nearby"]] == [second["code"], mid["code"]]


async def test_personal_data_is_masked_and_abuse_held(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    r = await client.post("/v1/reports", json=body(description="Gọi tôi 0901 234 567"), headers=me)
    assert r.status_code == 201 and r.json()["visibility"] == "public"
    assert (await client.get(f"/v1/reports/{r.json()['code']}")).json()[
        "description"
    ] == "Gọi tôi [số điện thoại]"
    r = await client.post("/v1/reports", json=body(description="Đường ngập vcl"), headers=me)
    assert r.status_code == 201 and r.json()["visibility"] == "pending_review"
    assert (await client.get(f"/v1/reports/{r.json()['code']}")).status_code == 404


async def test_anonymous_flag(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    await db_conn.execute(text("UPDATE users SET display_name = 'Bà Tư' WHERE id = :u"), {"u": uid})
    code = (await client.post("/v1/reports", json=body(anonymous=True), headers=me)).json()["code"]
    assert "Bà Tư" not in (await client.get(f"/v1/reports/{code}")).text
    named = (await client.post("/v1/reports", json=body(), headers=me)).json()["code"]
    assert (await client.get(f"/v1/reports/{named}")).json()["reporter"] == {"display_name": "Bà Tư"}


async def test_idempotent_replay_and_changed_body(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    headers = {**me, "Idempotency-Key": "key-0000-0001"}
    first = await client.post("/v1/reports", json=body(), headers=headers)
    again = await client.post("/v1/reports", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert_error_shape(
        await client.post("/v1/reports", json=body(description="khác"), headers=headers),
        409,
        "idempotency_key_reused",
    )
    cid = str(uuid.uuid4())
    a = await client.post("/v1/reports", json=body(client_id=cid), headers=me)
    b = await client.post("/v1/reports", json=body(client_id=cid), headers=me)
    assert a.json()["id"] == b.json()["id"]
    assert await db_conn.scalar(text("SELECT count(*) FROM reports")) == 2
    # a client id already used under another Idempotency-Key is refused, and nothing is written
    assert_error_shape(
        await client.post(
            "/v1/reports", json=body(client_id=cid), headers={**me, "Idempotency-Key": "key-0000-0002"}
        ),
        409,
        "client_id_reused",
    )
    assert await db_conn.scalar(text("SELECT count(*) FROM reports")) == 2
    # … and the refused request did not keep its key: the same key serves a good report
    retry = await client.post("/v1/reports", json=body(), headers={**me, "Idempotency-Key": "key-0000-0002"})
    assert retry.status_code == 201
    # another resident may use the same key for their own report
    _, other = await resident(client, "other")
    c = await client.post("/v1/reports", json=body(), headers={**other, "Idempotency-Key": "key-0000-0001"})
    assert c.status_code == 201 and c.json()["id"] != first.json()["id"]


async def test_rate_limit_answers_429_with_retry_after(
    settings: Settings, database, db_conn: AsyncConnection, stack: str
) -> None:
    await make_city(db_conn)
    app = create_app(settings.with_(report_rate_per_device_hour=2), database=database)
    async with served(app, stack) as client:
        _, me = await resident(client)
        for i in range(2):
            r = await client.post(
                "/v1/reports", json=body(), headers={**me, "Idempotency-Key": f"rate-key-{i:04d}"}
            )
            assert r.status_code == 201
        blocked = await client.post("/v1/reports", json=body(), headers=me)
        err = assert_error_shape(blocked, 429, "rate_limited")
        assert 1 <= int(blocked.headers["retry-after"]) <= 3600 and err["details"]["limit"] == 2
        # a replay of an accepted key is answered from the stored result, not limited
        replay = await client.post(
            "/v1/reports", json=body(), headers={**me, "Idempotency-Key": "rate-key-0000"}
        )
        assert replay.status_code == 201
        _, other = await resident(client, "other")
        assert (await client.post("/v1/reports", json=body(), headers=other)).status_code == 201


@pytest.fixture
async def city_db(fresh_db: str) -> AsyncIterator[str]:
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await make_city(conn)
    await engine.dispose()
    yield fresh_db


async def test_fifty_concurrent_retries_make_one_report(settings: Settings, city_db: str, stack: str) -> None:
    app = create_app(settings, database_url=city_db)
    async with served(app, stack) as client:
        _, me = await resident(client)
        headers = {**me, "Idempotency-Key": "flaky-network-retry-01"}
        answers = await asyncio.gather(
            *(client.post("/v1/reports", json=body(), headers=headers) for _ in range(50))
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    engine = make_engine(city_db, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM reports")) == 1
        assert await conn.scalar(text("SELECT count(*) FROM report_events")) == 1
    await engine.dispose()
