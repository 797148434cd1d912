"""Partners file and follow requests through Open311: keys (admin endpoint and CLI), POST requests
through the app's own rules (ward, questions, screening, masking, idempotency per key), tokens for held
submissions, a `media_url` fetched into a processed photo, and mySociety's service request updates."""

from __future__ import annotations

import http.server
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.app import create_app
from api.core.db import Database
from api.core.settings import Settings
from tests.conftest import serving
from tests.factories import centre, make_city, staff
from tests.media.conftest import Worker
from tests.media.files import jpeg

BASE = "/open311/v2"


async def new_key(client: httpx.AsyncClient, db_conn: AsyncConnection, name: str = "Cổng 1022") -> str:
    _, admin = await staff(db_conn, "admin")
    made = await client.post("/v1/admin/apikeys", json={"name": name}, headers=admin)
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


def form(key: str, **extra: Any) -> dict[str, Any]:
    lat, lng = centre("W1")
    return {
        "api_key": key,
        "service_code": "ngap-nuoc",
        "lat": str(lat),
        "long": str(lng),
        "description": "Nước ngập tới đầu gối trước chợ, gọi 0903 123 456",
        "email": "Lan@Example.com",
        "first_name": "Lan",
        "last_name": "Nguyễn",
        "phone": "0903123456",
        **extra,
    }


async def test_keys_are_issued_once_listed_and_revoked(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, admin = await staff(db_conn, "admin")
    _, officer = await staff(db_conn, "officer", ["W1"])
    made = (await client.post("/v1/admin/apikeys", json={"name": "FixMyStreet"}, headers=admin)).json()
    assert made["key"].startswith("pa_") and made["prefix"] == made["key"][:8]
    listed = (await client.get("/v1/admin/apikeys", headers=admin)).json()
    assert [k["name"] for k in listed["items"]] == ["FixMyStreet"] and "key" not in listed["items"][0]
    assert (await client.get("/v1/admin/apikeys", headers=officer)).status_code == 403
    stored = await db_conn.scalar(text("SELECT key_hash FROM api_keys"))
    assert made["key"].encode() not in bytes(stored)  # only the hash is kept
    assert (await client.post(f"{BASE}/requests.json", data=form(made["key"]))).status_code == 200
    revoked = await client.delete(f"/v1/admin/apikeys/{made['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.post(f"{BASE}/requests.json", data=form(made["key"], description="lần nữa"))
    assert after.status_code == 403 and after.json()[0]["code"] == 403


async def test_post_request_goes_through_the_apps_rules(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    key = await new_key(client, db_conn)
    created = await client.post(f"{BASE}/requests.json", data=form(key, **{"attribute[depth_cm]": "40"}))
    assert created.status_code == 200, created.text
    (answer,) = created.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"} and answer["service_notice"]
    code = answer["service_request_id"]
    row = (
        await db_conn.execute(
            text(
                "SELECT r.ward_code, r.answers, r.anonymous, r.ack_due_at, u.display_name, u.phone, pr.email "
                "FROM reports r JOIN users u ON u.id = r.reporter_id "
                "JOIN partner_reporters pr ON pr.user_id = u.id WHERE r.code = :c"
            ),
            {"c": code},
        )
    ).one()
    assert row.ward_code == "W1" and row.answers == {"depth_cm": 40} and row.anonymous is True
    assert row.ack_due_at is not None  # deadlines set like any report
    assert (row.display_name, row.phone, row.email) == ("Lan Nguyễn", "0903123456", "lan@example.com")
    # published masked, with nothing of the person
    (public,) = (await client.get(f"{BASE}/requests/{code}.json")).json()
    assert "0903 123 456" not in public["description"] and "Lan" not in str(public)
    view = (await client.get(f"/v1/reports/{code}")).json()
    assert "reporter" not in view and "0903" not in str(view)

    # the same form again is a retry: the same request, no second report
    again = await client.post(f"{BASE}/requests.json", data=form(key, **{"attribute[depth_cm]": "40"}))
    assert again.json()[0]["service_request_id"] == code
    assert await db_conn.scalar(text("SELECT count(*) FROM reports")) == 1
    # the same resident (same email) is found again
    other = await client.post(f"{BASE}/requests.json", data=form(key, description="Ngập lại lần hai"))
    assert other.status_code == 200
    assert await db_conn.scalar(text("SELECT count(*) FROM partner_reporters")) == 1
    # an explicit Idempotency-Key reused for a different form is refused
    h = {"Idempotency-Key": "fms-000123"}
    assert (
        await client.post(f"{BASE}/requests.json", data=form(key, description="một"), headers=h)
    ).status_code == 200
    reused = await client.post(f"{BASE}/requests.json", data=form(key, description="hai"), headers=h)
    assert reused.status_code == 400 and reused.json()[0]["code"] == 400

    # XML answer
    xml = await client.post(f"{BASE}/requests.xml", data=form(key, description="Ngập ở hẻm 12"))
    root = ET.fromstring(xml.content)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id", "").startswith(
        "PA-"
    )


async def test_post_request_errors(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    key = await new_key(client, db_conn)
    cases: list[tuple[dict[str, Any], int]] = [
        ({**form(key), "api_key": ""}, 403),
        ({**form(key), "api_key": "pa_not-a-key"}, 403),
        ({**form(key), "service_code": "no-such"}, 404),
        ({**form(key), "lat": "10.0", "long": "150.0"}, 400),  # outside every ward
        (
            {k: v for k, v in form(key).items() if k not in ("lat", "long")}
            | {"address_string": "12 Lê Lợi"},
            400,
        ),
        ({**form(key), "description": ""}, 400),
        ({**form(key), "description": "x" * 4001}, 400),
        ({**form(key), "lat": "nan"}, 400),
        ({**form(key), "attribute[depth_cm]": "sâu lắm"}, 400),
        ({**form(key), "attribute[nope]": "1"}, 400),
        ({**form(key), "media_url": "ftp://example.com/a.jpg"}, 400),
        ({**form(key), "media_url": "http://127.0.0.1:9/a.jpg"}, 400),  # loopback refused by default
    ]
    for data, status in cases:
        r = await client.post(f"{BASE}/requests.json", data=data)
        assert r.status_code == status, (data, r.text)
        (err,) = r.json()
        assert err["code"] == status and err["description"], data
    assert await db_conn.scalar(text("SELECT count(*) FROM reports")) == 0  # nothing half-written
    long_ok = await client.post(f"{BASE}/requests.json", data={**form(key), "description": "d" * 4000})
    assert long_ok.status_code == 200, long_ok.text
    wrong = await client.post(f"{BASE}/services.json", data=form(key))
    assert wrong.status_code == 404 and wrong.json()[0]["code"] == 404


async def test_held_submission_answers_a_token(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    key = await new_key(client, db_conn)
    _, moderator = await staff(db_conn, "moderator", ["T1"])
    held = await client.post(
        f"{BASE}/requests.json", data=form(key, description="Đ.m bọn chúng đổ rác, dit me may")
    )
    assert held.status_code == 200, held.text
    (answer,) = held.json()
    assert set(answer) == {"token", "service_notice"}
    token = answer["token"]
    (pending,) = (await client.get(f"{BASE}/tokens/{token}.json")).json()
    assert pending == {"token": token, "service_request_id": ""}
    code = await db_conn.scalar(
        text("SELECT r.code FROM reports r JOIN partner_submissions p ON p.report_id = r.id")
    )
    published = await client.post(f"/v1/moderation/{code}", json={"action": "publish"}, headers=moderator)
    assert published.status_code == 200, published.text
    (done,) = (await client.get(f"{BASE}/tokens/{token}.json")).json()
    assert done["service_request_id"] == code
    root = ET.fromstring((await client.get(f"{BASE}/tokens/{token}.xml")).content)
    assert root.findtext("request/service_request_id") == code
    assert (await client.get(f"{BASE}/tokens/tk_nothing.json")).status_code == 404


async def test_service_request_updates_both_ways(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    key = await new_key(client, db_conn)
    other_key = await new_key(client, db_conn, "Another partner")
    code = (await client.post(f"{BASE}/requests.json", data=form(key))).json()[0]["service_request_id"]
    _, officer = await staff(db_conn, "officer", ["W1"])
    acted = await client.post(
        f"/v1/reports/{code}/actions",
        json={"action": "acknowledge", "message": "Đã tiếp nhận"},
        headers=officer,
    )
    assert acted.status_code == 200
    updates = (await client.get(f"{BASE}/servicerequestupdates.json")).json()
    (ack,) = [u for u in updates if u["service_request_id"] == code]
    assert ack["status"] == "investigating" and ack["description"] == "Đã tiếp nhận" and ack["update_id"]
    xml = ET.fromstring((await client.get(f"{BASE}/servicerequestupdates.xml")).content)
    assert xml.tag == "service_request_updates" and xml.find("request_update/update_id") is not None

    posted = await client.post(
        f"{BASE}/servicerequestupdates.json",
        data={
            "api_key": key,
            "service_request_id": code,
            "description": "Vẫn còn ngập",
            "email": "lan@example.com",
        },
    )
    assert posted.status_code == 200, posted.text
    view = (await client.get(f"/v1/reports/{code}")).json()
    assert "Vẫn còn ngập" in [e.get("message") for e in view["timeline"]]
    foreign = await client.post(
        f"{BASE}/servicerequestupdates.json",
        data={"api_key": other_key, "service_request_id": code, "description": "không phải của tôi"},
    )
    assert foreign.status_code == 404


@pytest.fixture
def photo_server(tmp_path: Path) -> Iterator[str]:
    """A tiny web server on loopback serving one JPEG (the partner's media host)."""
    (tmp_path / "ngap.jpg").write_bytes(jpeg(900, 700))
    (tmp_path / "notes.txt").write_text("not a photo")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


async def test_media_url_is_fetched_into_a_processed_photo(
    settings: Settings, database: Database, db_conn: AsyncConnection, photo_server: str, run_worker: Worker
) -> None:
    app: Litestar = create_app(settings.with_(open311_fetch_private=True), database=database)
    async with serving(app) as client:
        await make_city(db_conn)
        key = await new_key(client, db_conn)
        made = await client.post(
            f"{BASE}/requests.json", data=form(key, media_url=f"{photo_server}/ngap.jpg")
        )
        assert made.status_code == 200, made.text
        code = made.json()[0]["service_request_id"]
        await run_worker()
        (record,) = (await client.get(f"{BASE}/requests/{code}.json")).json()
        assert record["media_url"]
        hop = await client.get(record["media_url"].replace("http://testserver", ""))
        assert hop.status_code == 302
        assert (await client.get(hop.headers["location"])).headers["content-type"].startswith("image/")
        for url in (f"{photo_server}/notes.txt", f"{photo_server}/missing.jpg"):
            refused = await client.post(
                f"{BASE}/requests.json", data=form(key, media_url=url, description=url)
            )
            assert refused.status_code == 400 and "media_url" in refused.json()[0]["description"]
