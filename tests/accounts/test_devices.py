"""Resident app installs: registration, token use, refresh rotation and reuse detection."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.access.tokens import InvalidToken, Principal, decode_access
from api.app import create_app
from api.core.db import Database
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import insert_report, make_city, staff

SECRET = "k3Jd9xQ2vLm8Zp0rT5wY7bN1cF4gH6sA"  # what an app draws at install: 32 random characters
DEVICE = {
    "device_id": "android-7f3a9c01",
    "device_secret": SECRET,
    "platform": "android",
    "locale": "vi",
    "app_version": "1.4.2",
}


async def test_register_is_idempotent_per_device(client: httpx.AsyncClient) -> None:
    a = await client.post("/v1/auth/device", json=DEVICE)
    b = await client.post("/v1/auth/device", json=DEVICE)
    assert a.status_code == b.status_code == 200
    assert a.json()["user_id"] == b.json()["user_id"]
    assert a.json()["role"] == "resident" and a.json()["token_type"] == "Bearer"
    other = await client.post(
        "/v1/auth/device", json={**DEVICE, "device_id": "android-other-0002", "device_secret": "o" * 32}
    )
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
    device = {"device_id": "leaving-phone-01", "device_secret": SECRET, "platform": "android"}
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
    # the access token, minutes from its expiry, is refused at once (this process revoked it)
    assert_error_shape(await client.delete("/v1/me", headers=me), 401, "invalid_token")


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


# --- device secrets -----------------------------------------------------------------------------


async def test_the_device_id_alone_signs_nobody_in(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    first = (await client.post("/v1/auth/device", json=DEVICE)).json()
    without = {k: v for k, v in DEVICE.items() if k != "device_secret"}
    wrong = {**DEVICE, "device_secret": "w" * 32}
    no_secret = await client.post("/v1/auth/device", json=without)
    wrong_secret = await client.post("/v1/auth/device", json=wrong)
    assert_error_shape(no_secret, 401, "invalid_device_credentials")
    assert_error_shape(wrong_secret, 401, "invalid_device_credentials")
    assert "access_token" not in no_secret.text + wrong_secret.text
    # the same answer for an id nobody registered: the answer does not say whether an id exists
    unknown = await client.post("/v1/auth/device", json={**without, "device_id": "android-never-seen"})
    assert (unknown.status_code, unknown.json()) == (no_secret.status_code, no_secret.json())
    assert wrong_secret.json() == no_secret.json()
    # a lost response retried with the secret: the same resident
    again = await client.post("/v1/auth/device", json=DEVICE)
    assert again.status_code == 200 and again.json()["user_id"] == first["user_id"]
    # only a hash is kept
    stored = await db_conn.scalar(
        text("SELECT secret_hash FROM app_installs WHERE device_id = :d"), {"d": DEVICE["device_id"]}
    )
    assert stored == hashlib.sha256(SECRET.encode()).digest()
    short = await client.post("/v1/auth/device", json={**DEVICE, "device_secret": "too-short"})
    assert_error_shape(short, 400, "validation_error")


async def test_a_legacy_install_takes_its_secret_on_refresh(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    # an install registered before device secrets: none stored
    legacy = {**DEVICE, "device_id": "android-legacy-0001"}
    tokens = (await client.post("/v1/auth/device", json=legacy)).json()
    await db_conn.execute(
        text("UPDATE app_installs SET secret_hash = NULL WHERE device_id = :d"), {"d": legacy["device_id"]}
    )
    # its id cannot be registered again by anyone, whatever secret they send
    for secret in (SECRET, "a" * 40):
        r = await client.post("/v1/auth/device", json={**legacy, "device_secret": secret})
        assert_error_shape(r, 401, "invalid_device_credentials")

    # the app, updated, refreshes with its new secret: its refresh token vouches for it
    r = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"], "device_secret": SECRET}
    )
    assert r.status_code == 200 and r.json()["user_id"] == tokens["user_id"]
    refreshed = r.json()
    again = await client.post("/v1/auth/device", json=legacy)
    assert again.status_code == 200 and again.json()["user_id"] == tokens["user_id"]
    wrong = await client.post("/v1/auth/device", json={**legacy, "device_secret": "a" * 40})
    assert_error_shape(wrong, 401, "invalid_device_credentials")

    # once set, a refresh cannot change it, and the refused refresh token is not used up
    r = await client.post(
        "/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"], "device_secret": "a" * 40}
    )
    assert_error_shape(r, 401, "invalid_device_credentials")
    r = await client.post(
        "/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"], "device_secret": SECRET}
    )
    assert r.status_code == 200
    # an app that does not send it refreshes as before
    r = await client.post("/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 200


async def test_a_registration_flood_from_one_address_is_429(settings: Settings, database: Database) -> None:
    app = create_app(settings.with_(register_rate_per_ip_minute=3), database=database)
    async with serving(app) as client:
        for i in range(3):
            device = {**DEVICE, "device_id": f"android-flood-{i:04d}"}
            assert (await client.post("/v1/auth/device", json=device)).status_code == 200
        r = await client.post("/v1/auth/device", json={**DEVICE, "device_id": "android-flood-9999"})
        err = assert_error_shape(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60 and err["details"]["limit"] == 3
        # refused attempts count too: a wrong secret is no way around it
        r = await client.post("/v1/auth/device", json={**DEVICE, "device_secret": "w" * 32})
        assert_error_shape(r, 429, "rate_limited")
        # another address is not held back
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)),  # type: ignore[arg-type]
            base_url="http://testserver",
        )
        async with other:
            r = await other.post("/v1/auth/device", json={**DEVICE, "device_id": "android-elsewhere"})
            assert r.status_code == 200
