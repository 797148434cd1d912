"""Staff users for tests: a row in `users` (+ scope) and a signed access token, without HTTP.

    uid, headers = await make_staff(db_conn, "officer", ["W1"])
    r = await client.get("/v1/officer/queue", headers=headers)

Tokens are signed with the secret of the `settings` fixture (pass `settings=` if yours differs).
Give `password=` to make an account that can also sign in through POST /v1/auth/login.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.access.tokens import Principal, encode_access
from api.core.settings import Settings

TEST_JWT_SECRET = "test-secret-" + "x" * 32  # the `settings` fixture's secret (tests/conftest.py)


def bearer(
    user_id: uuid.UUID, role: str, settings: Settings | None = None, ttl_s: int = 3600
) -> dict[str, str]:
    secret = settings.jwt_secret if settings is not None else TEST_JWT_SECRET
    return {"Authorization": f"Bearer {encode_access(Principal(user_id, role), secret, ttl_s)}"}


async def make_staff(
    db_conn: AsyncConnection,
    role: str,
    areas: Sequence[str] = (),
    *,
    agencies: Sequence[str] = (),
    username: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
    locale: str = "vi",
    settings: Settings | None = None,
) -> tuple[uuid.UUID, dict[str, str]]:
    """(user id, Authorization headers) of a new staff user scoped to `areas` / `agencies`.

    The areas (and agencies) must exist already, e.g. `await make_city(db_conn)` first.
    """
    uid = uuid.uuid4()
    digest = None
    if password is not None:
        from api.staff.passwords import hash_password

        digest = hash_password(password)
    await db_conn.execute(
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
        await db_conn.execute(
            text("INSERT INTO user_areas (user_id, area_code) VALUES (:id, :a)"), {"id": uid, "a": code}
        )
    for code in agencies:
        await db_conn.execute(
            text("INSERT INTO user_agencies (user_id, agency_code) VALUES (:id, :a)"), {"id": uid, "a": code}
        )
    return uid, bearer(uid, role, settings)


async def make_resident(
    db_conn: AsyncConnection, settings: Settings | None = None
) -> tuple[uuid.UUID, dict[str, str]]:
    """A resident user (no app install row) and their headers."""
    uid = uuid.uuid4()
    await db_conn.execute(text("INSERT INTO users (id, role) VALUES (:id, 'resident')"), {"id": uid})
    return uid, bearer(uid, "resident", settings)
