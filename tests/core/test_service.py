"""The service shell: health, readiness, the one error shape, request ids, OpenAPI."""

from __future__ import annotations

import httpx
import pytest
from litestar import get

from api.app import create_app
from api.core.migrate import NotMigrated
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.support.database import create_database, drop_database, unique_name


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health")
    assert len(r.headers["x-request-id"]) == 32


async def test_error_shape_404_and_405(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/nope"), 404, "not_found")
    assert_error_shape(await client.post("/health"), 405, "method_not_allowed")


async def test_error_messages_follow_accept_language(client: httpx.AsyncClient) -> None:
    vi = (await client.get("/nope")).json()["error"]["message"]
    en = (await client.get("/nope", headers={"Accept-Language": "en-US,en;q=0.9"})).json()["error"]["message"]
    assert vi == "Không tìm thấy." and en == "Not found."


async def test_validation_error_names_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/auth/device", json={"device_id": "short", "platform": "android"})
    err = assert_error_shape(r, 400, "validation_error")
    assert "device_id" in str(err["details"])
    r = await client.post("/v1/auth/device", json={"device_id": "device-0001", "platform": "android", "x": 1})
    err = assert_error_shape(r, 400, "validation_error")
    assert "x" in str(err["details"])
    r = await client.post(
        "/v1/auth/device", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error_shape(r, 400, "bad_request")


async def test_unexpected_failure_is_500_without_traceback(settings: Settings, database) -> None:
    @get("/boom", security=[{}])
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = create_app(settings, database=database)
    app.register(boom)
    async with serving(app) as client:
        r = await client.get("/boom")
    err = assert_error_shape(r, 500, "internal_error")
    assert "secret" not in r.text and "Traceback" not in r.text and err["details"] is None


async def test_ready_is_503_when_database_unreachable(settings: Settings) -> None:
    app = create_app(settings, database_url="postgresql://nobody@127.0.0.1:1/none", check_schema=False)
    async with serving(app) as client:
        r = await client.get("/ready")
    assert_error_shape(r, 503, "not_ready")


async def test_openapi_is_3_1(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert r.json()["openapi"].startswith("3.1")


async def test_app_refuses_to_start_on_an_unmigrated_database(settings: Settings, pg_admin_url: str) -> None:
    name = unique_name("phananh_empty")
    url = await create_database(pg_admin_url, name)
    try:
        with pytest.raises(ExceptionGroup) as raised:  # the lifespan's task group wraps it
            async with serving(create_app(settings, database_url=url)):
                pass
        assert raised.group_contains(NotMigrated, match="run `phananh migrate`")
    finally:
        await drop_database(pg_admin_url, name)
