"""Resident app installs: registration, token use, refresh rotation and reuse detection."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.access.tokens import InvalidToken, Principal, decode_access
from tests.assertions import assert_error_shape
from tests.factories import insert_report, make_city, staff

DEVICE = {"device_id": "android-7f3a9c01", "platform": "android", "locale": "vi", "app_version": "1.4.2"}


async def test_register_is_idempotent_per_device(client: httpx.AsyncClient) -> None:
    a = await client.post("/v1/auth/device", json=DEVICE)
    b = await client.post("/v1/auth/device", json=DEVICE)
    assert a.status_code == b.status_code == 200
    assert a.json()["user_id"] == b.json()["user_id"]
    assert a.json()["role"] == "resident" and a.json()["token_type"] == "Bearer"
    other = await client.post("/v1/auth/device", json={**DEVICE, "device_id": "android-other-0002"})
    assert other.json()["user_id"] != a.json()["user_id"]


async def test_refresh_rotates_and_reuse_revokes_family(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v1/auth/device", json=DEVICE)).json()
    r1 = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r1.status_code == 200
    second = r1.json()
    assert second["refresh_token"] != first["refresh_token"]
    # the old token again: theft signal, the whole family dies
    reuse = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error_shape(reuse, 401, "invalid_refresh_token")
    after = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error_shape(after, 401, "invalid_refresh_token")


async def test_logout_revokes(client: httpx.AsyncClient) -> None:
    tokens = (await client.post("/v1/auth/device", json=DEVICE)).json()
    assert (
        await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 204
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error_shape(r, 401, "invalid_refresh_token")


async def test_bad_bearer_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert_error_shape(r, 401, "invalid_token")
    assert_error_shape(await client.get("/v1/me"), 401, "unauthorized")


async def test_access_token_identifies_the_resident(client: httpx.AsyncClient) -> None:
    tokens = (await client.post("/v1/auth/device", json=DEVICE)).json()
    r = await client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200
    assert r.json()["id"] == tokens["user_id"] and r.json()["role"] == "resident"


async def test_concurrent_first_registration_gives_one_user(fresh_client: httpx.AsyncClient) -> None:
    results = await asyncio.gather(*(fresh_client.post("/v1/auth/device", json=DEVICE) for _ in range(10)))
    assert {r.status_code for r in results} == {200}
    assert len({r.json()["user_id"] for r in results}) == 1


async def test_profile_can_be_added_later(client: httpx.AsyncClient) -> None:
    tokens = (await client.post("/v1/auth/device", json=DEVICE)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await client.patch(
        "/v1/me", json={"display_name": "  Chị Lan ", "phone": "090 123 4567"}, headers=auth
    )
    assert (
        r.status_code == 200 and r.json()["display_name"] == "Chị Lan" and r.json()["phone"] == "0901234567"
    )
    assert_error_shape(await client.patch("/v1/me", json={"phone": "12"}, headers=auth), 400, "invalid_phone")
    assert_error_shape(
        await client.patch("/v1/me", json={"email": "x"}, headers=auth), 400, "validation_error"
    )
    r = await client.patch("/v1/me", json={"phone": None}, headers=auth)
    assert r.json()["phone"] is None and r.json()["display_name"] == "Chị Lan"


async def test_resident_can_erase_their_account(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    device = {"device_id": "leaving-phone-01", "platform": "android"}
    tokens = (await client.post("/v1/auth/device", json=device)).json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    await client.patch("/v1/me", json={"display_name": "Anh Minh", "phone": "0901234567"}, headers=me)
    push = {"token": "fcm-leaving-phone", "platform": "android"}
    assert (await client.post("/v1/me/devices", json=push, headers=me)).status_code in (200, 201)
    rep = await insert_report(db_conn, "W1", reporter_id=uuid.UUID(tokens["user_id"]))
    assert (await client.get(f"/v1/reports/{rep.code}")).json()["reporter"] == {"display_name": "Anh Minh"}

    assert (await client.delete("/v1/me", headers=me)).status_code == 204

    # the report stays, without its reporter; nothing personal is left on the account
    public = (await client.get(f"/v1/reports/{rep.code}")).json()
    assert public["code"] == rep.code and public.get("reporter") is None
    row = (
        await db_conn.execute(
            text("SELECT display_name, phone, disabled FROM users WHERE id = :id"), {"id": tokens["user_id"]}
        )
    ).one()
    assert tuple(row) == (None, None, True)
    devices = await db_conn.scalar(
        text("SELECT count(*) FROM push_devices WHERE user_id = :id"), {"id": tokens["user_id"]}
    )
    assert devices == 0
    # signed out everywhere; the same phone starts afresh as someone new
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error_shape(r, 401, "invalid_refresh_token")
    again = (await client.post("/v1/auth/device", json=device)).json()
    assert again["user_id"] != tokens["user_id"]
    assert_error_shape(await client.delete("/v1/me", headers=me), 401, "unauthorized")


async def test_staff_accounts_are_not_erased_by_themselves(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"])
    assert_error_shape(await client.delete("/v1/me", headers=officer), 403, "staff_account")


async def test_a_remembered_token_still_expires() -> None:
    """Verified tokens are remembered (no signature check per request), but never past their expiry."""
    secret = "s" * 40
    who = Principal(uuid.uuid4(), "resident")
    exp = int(time.time()) + 2
    token = jwt.encode({"sub": str(who.id), "role": who.role, "typ": "access", "exp": exp}, secret, "HS256")
    assert decode_access(token, secret) == who
    assert decode_access(token, secret) == who  # the remembered answer
    with pytest.raises(InvalidToken):
        decode_access(token, "t" * 40)  # remembered per secret: another key verifies anew
    await asyncio.sleep(exp - time.time() + 0.05)
    with pytest.raises(InvalidToken):
        decode_access(token, secret)
