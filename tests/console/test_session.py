"""The console's cookie session: sign in, refresh (rotating), sign out, and who may use it."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.http import COOKIE, COOKIE_PATH
from tests.assertions import assert_error_shape
from tests.factories import make_city, resident, staff

PASSWORD = "correct horse battery"


def set_cookie(r: httpx.Response) -> tuple[str, dict[str, str | bool]]:
    """The value and attributes of the console cookie the answer sets."""
    headers = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    morsel = jar[COOKIE]
    raw = headers[0].lower()
    return morsel.value, {
        "path": morsel["path"],
        "max-age": morsel["max-age"],
        "httponly": "httponly" in raw,
        "secure": "secure" in raw,
        "samesite": morsel["samesite"].lower(),
    }


def with_cookie(value: str) -> dict[str, str]:
    # sent by hand: the test client talks plain http, where a jar would hold back a Secure cookie
    return {"Cookie": f"{COOKIE}={value}"}


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/v1/console/session", json={"username": username, "password": password})


async def test_sign_in_sets_a_strict_http_only_cookie_and_returns_who(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, _ = await staff(
        db_conn, "leader", ["W1", "W2"], username="minh.tran", password=PASSWORD, display_name="Trần Minh"
    )
    r = await sign_in(client, "Minh.Tran")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "user", "extent"}  # no refresh token in the body
    # the map opens on wards W1 and W2 (tests.factories.city: 0.01° squares from 106.70, 10.77)
    assert body["extent"] == pytest.approx([106.70, 10.77, 106.72, 10.78])
    assert body["user"] == {
        "id": str(uid),
        "username": "minh.tran",
        "display_name": "Trần Minh",
        "role": "leader",
        "areas": ["W1", "W2"],
        "agencies": [],
        "locale": "vi",
    }
    assert r.headers["cache-control"] == "no-store"
    value, attrs = set_cookie(r)
    assert value and value not in r.text
    assert attrs == {
        "path": COOKIE_PATH,
        "max-age": str(60 * 24 * 3600),
        "httponly": True,
        "secure": True,
        "samesite": "strict",
    }
    stats = await client.get(
        "/v1/stats", headers={"Authorization": f"Bearer {body['access_token']}"}
    )  # the token works
    assert stats.status_code == 200, stats.text


async def test_refresh_rotates_the_cookie_and_a_reused_one_ends_the_session(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    await staff(db_conn, "officer", ["W1"], username="officer.a", password=PASSWORD)
    first, _ = set_cookie(await sign_in(client, "officer.a"))
    r = await client.post("/v1/console/session/refresh", headers=with_cookie(first))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "officer" and r.json()["access_token"]
    second, attrs = set_cookie(r)
    assert second != first and attrs["httponly"] and attrs["samesite"] == "strict"
    # the first cookie again: theft signal, the whole family goes
    assert_error_shape(
        await client.post("/v1/console/session/refresh", headers=with_cookie(first)),
        401,
        "invalid_refresh_token",
    )
    assert_error_shape(
        await client.post("/v1/console/session/refresh", headers=with_cookie(second)),
        401,
        "invalid_refresh_token",
    )


async def test_refresh_without_a_cookie_is_401_in_the_callers_language(client: httpx.AsyncClient) -> None:
    vi = await client.post("/v1/console/session/refresh")
    assert assert_error_shape(vi, 401, "invalid_refresh_token")["message"].startswith("Phiên")
    en = await client.post("/v1/console/session/refresh", headers={"Accept-Language": "en"})
    assert assert_error_shape(en, 401, "invalid_refresh_token")["message"].startswith("No console session")


async def test_wrong_password_is_the_staff_sign_in_answer(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await staff(db_conn, "admin", username="root2", password=PASSWORD)
    r = await sign_in(client, "root2", "not the password")
    assert_error_shape(r, 401, "invalid_credentials")
    assert "set-cookie" not in r.headers


async def test_sign_out_clears_the_cookie_and_ends_the_session(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await staff(db_conn, "moderator", username="mod.b", password=PASSWORD)
    value, _ = set_cookie(await sign_in(client, "mod.b"))
    r = await client.delete("/v1/console/session", headers=with_cookie(value))
    assert r.status_code == 204
    cleared, attrs = set_cookie(r)
    assert cleared == "" and attrs["max-age"] == "0" and attrs["path"] == COOKIE_PATH
    assert_error_shape(
        await client.post("/v1/console/session/refresh", headers=with_cookie(value)),
        401,
        "invalid_refresh_token",
    )
    # without a cookie there is nothing to end, and that is no error
    assert (await client.delete("/v1/console/session")).status_code == 204


async def test_a_residents_refresh_token_opens_no_console_session(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    r = await client.post(
        "/v1/auth/device",
        json={"device_id": "android-console-1", "device_secret": "s" * 40, "platform": "android"},
    )
    token = r.json()["refresh_token"]
    assert_error_shape(
        await client.post("/v1/console/session/refresh", headers=with_cookie(token)),
        401,
        "invalid_refresh_token",
    )
    # and its family is revoked: the app's own refresh with that token's successor fails too
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": token})).status_code == 401
    await resident(db_conn)  # residents exist; they are simply not staff


async def test_config_says_whether_there_is_a_basemap(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/console/config")
    assert r.status_code == 200 and r.json() == {"map_style_url": None}
