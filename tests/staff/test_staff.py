"""Staff accounts: `phananh users create`, sign-in with lockout, and user administration."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import QueuePool

from api.app import create_app
from api.core.db import Database, make_engine
from api.core.settings import Settings
from api.run import cli
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import make_city, resident, staff

PASSWORD = "correct horse battery"


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"username": username, "password": password})


def auth(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


# --- sign-in ------------------------------------------------------------------------------------


async def test_login_issues_tokens_that_work_and_rotate(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, _ = await staff(db_conn, "officer", ["W1"], username="lan.nguyen", password=PASSWORD)
    r = await login(client, "Lan.Nguyen", PASSWORD)  # usernames are case-free
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["role"] == "officer" and tokens["user_id"] == str(uid) and tokens["token_type"] == "Bearer"
    me = await client.get("/v1/me", headers=auth(tokens))
    assert me.status_code == 200 and me.json()["username"] == "lan.nguyen"
    again = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200 and again.json()["role"] == "officer"
    last = await db_conn.scalar(text("SELECT last_login_at FROM users WHERE id = :id"), {"id": uid})
    assert last is not None


async def test_failures_are_indistinguishable(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await staff(db_conn, "admin", username="root1", password=PASSWORD)
    wrong = await login(client, "root1", "not the password")
    unknown = await login(client, "nobody-here", "not the password")
    assert_error_shape(wrong, 401, "invalid_credentials")
    assert wrong.json() == unknown.json()
    # residents have no password and cannot sign in this way
    await resident(db_conn)
    assert_error_shape(await login(client, "", "x"), 400, "validation_error")


async def test_lockout_after_repeated_failures(
    settings: Settings, database: Database, db_conn: AsyncConnection
) -> None:
    app = create_app(settings.with_(login_max_failures=3, login_lockout_minutes=10), database=database)
    uid, _ = await staff(db_conn, "leader", [], username="locky", password=PASSWORD)
    async with serving(app) as client:
        # two failures, then a success resets the count
        for _ in range(2):
            assert_error_shape(await login(client, "locky", "wrong-password"), 401, "invalid_credentials")
        assert (await login(client, "locky", PASSWORD)).status_code == 200
        for _ in range(2):
            await login(client, "locky", "wrong-password")
        assert (
            await db_conn.scalar(text("SELECT locked_until FROM users WHERE id = :id"), {"id": uid}) is None
        )
        third = await login(client, "locky", "wrong-password")
        locked_until = await db_conn.scalar(
            text("SELECT locked_until - now() > interval '9 minutes' FROM users WHERE id = :id"), {"id": uid}
        )
        assert locked_until is True
        # locked: even the right password is refused, with the same answer as a wrong one
        refused = await login(client, "locky", PASSWORD)
        assert_error_shape(refused, 401, "invalid_credentials")
        assert refused.json() == third.json()
        # the lock runs out
        await db_conn.execute(
            text("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = :id"), {"id": uid}
        )
        assert (await login(client, "locky", PASSWORD)).status_code == 200


async def test_disabled_user_is_refused_and_signed_out(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, admin = await staff(db_conn, "admin")
    uid, _ = await staff(db_conn, "officer", ["W1"], username="off1", password=PASSWORD)
    tokens = (await login(client, "off1", PASSWORD)).json()
    officer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/v1/officer/queue", headers=officer)).status_code == 200
    r = await client.patch(f"/v1/admin/users/{uid}", json={"disabled": True}, headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    # the access token still has minutes to live, but the account's powers end now
    assert_error_shape(await client.get("/v1/officer/queue", headers=officer), 401, "invalid_token")
    assert_error_shape(await login(client, "off1", PASSWORD), 401, "invalid_credentials")
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error_shape(r, 401, "invalid_refresh_token")
    r = await client.patch(f"/v1/admin/users/{uid}", json={"disabled": False}, headers=admin)
    assert (await login(client, "off1", PASSWORD)).status_code == 200


async def test_a_role_change_or_a_password_reset_ends_the_tokens_already_issued(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, admin = await staff(db_conn, "admin")
    uid, _ = await staff(db_conn, "leader", ["T1"], username="role1", password=PASSWORD)
    tokens = (await login(client, "role1", PASSWORD)).json()
    assert (await client.get("/v1/officer/queue", headers=auth(tokens))).status_code == 200
    r = await client.patch(f"/v1/admin/users/{uid}", json={"role": "officer"}, headers=admin)
    assert r.status_code == 200
    # the token says "leader": refused; the refresh token still works and gives the new role
    assert_error_shape(await client.get("/v1/officer/queue", headers=auth(tokens)), 401, "invalid_token")
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and r.json()["role"] == "officer"
    officer = r.json()
    assert (await client.get("/v1/officer/queue", headers=auth(officer))).status_code == 200
    # a scope change alone keeps the tokens (they do not carry the scope)
    r = await client.patch(f"/v1/admin/users/{uid}", json={"areas": ["W1"]}, headers=admin)
    assert (await client.get("/v1/officer/queue", headers=auth(officer))).status_code == 200

    r = await client.post(
        f"/v1/admin/users/{uid}/password", json={"password": "a new passphrase"}, headers=admin
    )
    assert r.status_code == 204
    assert_error_shape(await client.get("/v1/officer/queue", headers=auth(officer)), 401, "invalid_token")
    fresh = (await login(client, "role1", "a new passphrase")).json()
    assert (await client.get("/v1/officer/queue", headers=auth(fresh))).status_code == 200


async def test_a_sign_in_flood_from_one_address_is_429(settings: Settings, database: Database) -> None:
    app = create_app(settings.with_(login_rate_per_ip_minute=2), database=database)
    async with serving(app) as client:
        for _ in range(2):
            assert_error_shape(
                await login(client, "nobody-here", "not the password"), 401, "invalid_credentials"
            )
        r = await login(client, "nobody-here", "not the password")
        err = assert_error_shape(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60 and err["details"]["window_s"] == 60


async def test_the_password_is_checked_with_no_connection_held(
    settings: Settings, fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes a core for tens of milliseconds: meanwhile the sign-in holds no pooled connection,
    no session's turn and no row lock."""
    from api.staff import service

    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            uid, _ = await staff(conn, "admin", username="held", password=PASSWORD)
    finally:
        await engine.dispose()
    app = create_app(settings, database_url=fresh_db)
    seen: list[tuple[int, bool]] = []
    verify = service.verify_password

    def watching(stored: str | None, password: str) -> bool:
        db: Database = app.state.db
        pool, turns = db.engine.pool, db._turns
        assert isinstance(pool, QueuePool)
        seen.append((pool.checkedout(), turns is None or not turns.locked()))
        return verify(stored, password)

    monkeypatch.setattr(service, "verify_password", watching)
    async with serving(app) as client:
        db: Database = app.state.db
        db._turns = asyncio.Semaphore(1)  # one session at a time: a held turn would show
        assert (await login(client, "held", PASSWORD)).status_code == 200
        assert_error_shape(await login(client, "held", "wrong password"), 401, "invalid_credentials")
        assert_error_shape(await login(client, "nobody", "wrong password"), 401, "invalid_credentials")
    assert seen == [(0, True)] * 3
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT failed_logins, last_login_at IS NOT NULL FROM users WHERE id = :id"),
                    {"id": uid},
                )
            ).one()
    finally:
        await engine.dispose()
    assert tuple(row) == (1, True)


# --- the command line ---------------------------------------------------------------------------


async def test_cli_creates_the_first_admin(
    fresh_db: str,
    fresh_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PHANANH_DATABASE_URL", fresh_db)
    monkeypatch.setenv("PHANANH_JWT_SECRET", "cli-secret-" + "y" * 32)
    argv = ["users", "create", "--username", "Admin", "--password", PASSWORD, "--role", "admin"]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "created admin admin" in capsys.readouterr().out
    r = await login(fresh_client, "admin", PASSWORD)
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # the same name again, an officer without scope, an unknown area: refused
    assert await asyncio.to_thread(cli.main, argv) == 2
    assert "taken" in capsys.readouterr().err
    base = ["users", "create", "--username", "off-1", "--password", PASSWORD, "--role", "officer"]
    assert await asyncio.to_thread(cli.main, base) == 2
    assert await asyncio.to_thread(cli.main, [*base, "--area", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    # a locked-out admin gets back in with `users password`
    for _ in range(5):
        await login(fresh_client, "admin", "wrong password")
    assert (await login(fresh_client, "admin", PASSWORD)).status_code == 401
    new = ["users", "password", "--username", "ADMIN", "--password", "another passphrase"]
    assert await asyncio.to_thread(cli.main, new) == 0
    assert (await login(fresh_client, "admin", "another passphrase")).status_code == 200
    assert (
        await asyncio.to_thread(
            cli.main, ["users", "password", "--username", "ghost", "--password", PASSWORD]
        )
        == 2
    )


# --- administration -----------------------------------------------------------------------------


async def test_admin_creates_updates_and_resets(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    admin_id, admin = await staff(db_conn, "admin")
    body = {
        "username": "Minh.Tran",
        "password": PASSWORD,
        "role": "officer",
        "areas": ["W1"],
        "display_name": "Trần Minh",
    }
    r = await client.post("/v1/admin/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["username"] == "minh.tran" and user["areas"] == ["W1"] and user["role"] == "officer"
    assert "password" not in r.text and "hash" not in r.text
    assert_error_shape(
        await client.post("/v1/admin/users", json={**body, "username": "MINH.TRAN"}, headers=admin),
        409,
        "username_taken",
    )
    assert_error_shape(
        await client.post(
            "/v1/admin/users", json={**body, "username": "x1x", "areas": ["ZZ"]}, headers=admin
        ),
        422,
        "unknown_area",
    )
    assert_error_shape(
        await client.post("/v1/admin/users", json={**body, "username": "x2x", "areas": []}, headers=admin),
        422,
        "scope_required",
    )
    assert_error_shape(
        await client.post(
            "/v1/admin/users", json={**body, "username": "x3x", "password": "short"}, headers=admin
        ),
        400,
        "validation_error",
    )
    # promote to leader of the whole city
    r = await client.patch(
        f"/v1/admin/users/{user['id']}", json={"role": "leader", "areas": ["T1"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["role"] == "leader" and r.json()["areas"] == ["T1"]
    assert r.json()["display_name"] == "Trần Minh"
    # an admin cannot demote or disable themselves
    assert_error_shape(
        await client.patch(
            f"/v1/admin/users/{admin_id}", json={"role": "officer", "areas": ["W1"]}, headers=admin
        ),
        409,
        "self_change",
    )
    assert_error_shape(
        await client.patch(f"/v1/admin/users/{uuid.uuid4()}", json={"disabled": True}, headers=admin),
        404,
        "user_not_found",
    )
    # reset password: the old one stops working, the lock is cleared, sessions end
    tokens = (await login(client, "minh.tran", PASSWORD)).json()
    await db_conn.execute(
        text("UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = :id"),
        {"id": uuid.UUID(user["id"])},
    )
    r = await client.post(
        f"/v1/admin/users/{user['id']}/password", json={"password": "a new passphrase"}, headers=admin
    )
    assert r.status_code == 204
    assert_error_shape(await login(client, "minh.tran", PASSWORD), 401, "invalid_credentials")
    assert (await login(client, "minh.tran", "a new passphrase")).status_code == 200
    r = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error_shape(r, 401, "invalid_refresh_token")


async def test_list_filters_and_leader_scope(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    await make_city_two(db_conn)
    _, admin = await staff(db_conn, "admin", username="adm")
    await staff(db_conn, "officer", ["W1"], username="o-w1", display_name="Lê Văn Đức")
    await staff(db_conn, "officer", ["W2"], username="o-w2")
    await staff(db_conn, "officer", ["X1"], username="o-x1")
    _, leader = await staff(db_conn, "leader", ["T1"], username="lead-t1")
    _, leader_x = await staff(db_conn, "leader", ["X1"], username="lead-x")
    await staff(db_conn, "moderator", [], username="mod")

    def names(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [u["username"] for u in r.json()["items"]]

    assert names(await client.get("/v1/admin/users", headers=admin)) == [
        "adm",
        "lead-t1",
        "lead-x",
        "mod",
        "o-w1",
        "o-w2",
        "o-x1",
    ]
    assert names(await client.get("/v1/admin/users?role=officer&area=T1", headers=admin)) == ["o-w1", "o-w2"]
    assert names(await client.get("/v1/admin/users?q=duc", headers=admin)) == ["o-w1"]  # accent-free search
    page = await client.get("/v1/admin/users?limit=3", headers=admin)
    assert names(page) == ["adm", "lead-t1", "lead-x"]
    cursor = page.json()["next_cursor"]
    page = await client.get("/v1/admin/users", params={"limit": 3, "cursor": cursor}, headers=admin)
    assert names(page) == ["mod", "o-w1", "o-w2"]
    page = await client.get(
        "/v1/admin/users", params={"limit": 3, "cursor": page.json()["next_cursor"]}, headers=admin
    )
    assert names(page) == ["o-x1"] and page.json()["next_cursor"] is None
    # leaders read the staff of their own areas only
    assert names(await client.get("/v1/admin/users", headers=leader)) == ["lead-t1", "o-w1", "o-w2"]
    assert names(await client.get("/v1/admin/users", headers=leader_x)) == ["lead-x", "o-x1"]
    x1 = (await client.get("/v1/admin/users?area=X1&role=officer", headers=admin)).json()["items"][0]["id"]
    assert (await client.get(f"/v1/admin/users/{x1}", headers=leader_x)).status_code == 200
    assert_error_shape(await client.get(f"/v1/admin/users/{x1}", headers=leader), 404, "user_not_found")
    # but may not change anything
    assert_error_shape(
        await client.patch(f"/v1/admin/users/{x1}", json={"disabled": True}, headers=leader_x),
        403,
        "forbidden",
    )


async def make_city_two(conn: AsyncConnection) -> None:
    """A second province X with one ward X1 (no geometry needed for scope tests)."""
    from geo import AreaIn, upsert_area

    await upsert_area(conn, AreaIn(code="X", name="Tỉnh Khác", level="province"))
    await upsert_area(conn, AreaIn(code="X1", name="Xã Một", level="commune", parent_code="X"))


async def test_roles_other_than_admin_are_refused(
    app: Litestar, client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, someone = await resident(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"])
    body = {"username": "abc", "password": PASSWORD, "role": "admin"}
    assert_error_shape(await client.post("/v1/admin/users", json=body), 401, "unauthorized")
    for headers in (someone, officer):
        assert_error_shape(await client.post("/v1/admin/users", json=body, headers=headers), 403, "forbidden")
        assert_error_shape(await client.get("/v1/admin/users", headers=headers), 403, "forbidden")
