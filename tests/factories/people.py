"""Residents and staff: a user and the Authorization headers of a valid access token.

    uid, headers = await resident(client)               # POST /v1/auth/device
    uid, headers = await resident(db_conn)              # the accounts service that route calls
    officer = await staff(db_conn, "officer", ["W1"])   # one documented SQL insert (+ scope rows)
    r = await client.get("/v1/officer/queue", headers=officer.headers)

Tokens are signed with the secret of the `settings` fixture (pass `settings=` if yours differs).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import NamedTuple

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.access.tokens import Principal, encode_access
from api.accounts.service import register_install
from api.core.settings import Settings

TEST_JWT_SECRET = "test-secret-" + "x" * 32  # the `settings` fixture's secret (tests/conftest.py)

Db = AsyncConnection | AsyncSession


class Person(NamedTuple):
    """Who a test acts as. Unpacks as `uid, headers = await staff(...)`."""

    id: uuid.UUID
    headers: dict[str, str]

    @property
    def token(self) -> str:
        return self.headers["Authorization"].removeprefix("Bearer ")


def factory_settings() -> Settings:
    """Settings whose secret is the `settings` fixture's: enough for the services the factories call."""
    return Settings(jwt_secret=TEST_JWT_SECRET)


def bearer(
    user_id: uuid.UUID, role: str, settings: Settings | None = None, ttl_s: int = 3600
) -> dict[str, str]:
    secret = settings.jwt_secret if settings is not None else TEST_JWT_SECRET
    return {"Authorization": f"Bearer {encode_access(Principal(user_id, role), secret, ttl_s)}"}


@asynccontextmanager
async def session_on(db: Db) -> AsyncIterator[AsyncSession]:
    """A session of its own on `db`'s connection, inside `db`'s transaction: what a service commits
    there is a savepoint, so the test's transaction (rolled back at the end) still holds everything."""
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    async with AsyncSession(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint") as s:
        yield s


# every test install holds this secret (a retry with the same name is the same resident)
DEVICE_SECRET = "test-device-secret-0123456789abcdef"


async def resident(
    via: httpx.AsyncClient | Db,
    name: str | None = None,
    *,
    locale: str | None = None,
    platform: str = "android",
    settings: Settings | None = None,
) -> Person:
    """A resident: an app install registered through POST /v1/auth/device when `via` is a client,
    otherwise through the accounts service that route calls (`register_install`), in `via`'s
    transaction. Either way: a `users` row, its `app_installs` row and a refresh token.

    `name` makes the device id fixed (the same name, the same resident); without it every call is a
    new install. `locale` is sent only when given (the API's default is "vi").
    """
    device_id = f"device-{name}-0001" if name else f"android-{uuid.uuid4().hex[:12]}"
    if isinstance(via, httpx.AsyncClient):
        body = {"device_id": device_id, "device_secret": DEVICE_SECRET, "platform": platform}
        if locale is not None:
            body["locale"] = locale
        r = await via.post("/v1/auth/device", json=body)
        assert r.status_code == 200, r.text
        tokens = r.json()
        return Person(uuid.UUID(tokens["user_id"]), {"Authorization": f"Bearer {tokens['access_token']}"})
    async with session_on(via) as s:
        issued = await register_install(
            s,
            settings or factory_settings(),
            device_id=device_id,
            device_secret=DEVICE_SECRET,
            platform=platform,
            locale=locale or "vi",
            app_version=None,
        )
    return Person(issued.user_id, {"Authorization": f"Bearer {issued.access_token}"})


async def staff(
    db: Db,
    role: str,
    areas: Sequence[str] = (),
    *,
    agencies: Sequence[str] = (),
    username: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
    locale: str = "vi",
    settings: Settings | None = None,
) -> Person:
    """A staff user of `role` ("officer", "leader", "moderator", "admin") scoped to `areas` and
    `agencies`, which must exist already (e.g. `await make_city(db_conn)` first).

    One documented insert rather than `api.staff.service.create_user`: that one hashes a password
    (argon2, slow) for every account and refuses what some tests need (a leader with no scope).
    Give `password=` for an account that can also sign in through POST /v1/auth/login.
    """
    uid = uuid.uuid4()
    digest = None
    if password is not None:
        from api.staff.passwords import hash_password

        digest = hash_password(password)
    await db.execute(
        text(
            "INSERT INTO users (id, role, username, password_hash, display_name, locale) "
            "VALUES (:id, :role, :u, :h, :d, :l)"
        ),
        {
            "id": uid,
            "role": role,
            "u": username or f"{role}-{uid.hex[:10]}",
            "h": digest,
            "d": display_name,
            "l": locale,
        },
    )
    for code in areas:
        await db.execute(
            text("INSERT INTO user_areas (user_id, area_code) VALUES (:id, :a)"), {"id": uid, "a": code}
        )
    for code in agencies:
        await db.execute(
            text("INSERT INTO user_agencies (user_id, agency_code) VALUES (:id, :a)"), {"id": uid, "a": code}
        )
    return Person(uid, bearer(uid, role, settings))


async def role_of(db: Db, user_id: uuid.UUID) -> str:
    return str(await db.scalar(text("SELECT role FROM users WHERE id = :id"), {"id": user_id}))
