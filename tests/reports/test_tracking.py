"""GET /v1/reports/{code}: who sees what; the QR code."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import insert_report, make_city, resident, staff


async def _add_event(db_conn: AsyncConnection, report_id: uuid.UUID, message: str, note: str) -> None:
    await db_conn.execute(
        text(
            "INSERT INTO report_events (id, report_id, kind, actor_role, from_status, to_status, public_message, "
            "internal_note, is_public) VALUES (:id, :r, 'acknowledged', 'officer', 'new', 'acknowledged', :m, :n, true)"
        ),
        {"id": uuid.uuid4(), "r": report_id, "m": message, "n": note},
    )


async def test_public_view_hides_an_anonymous_reporter_and_internal_notes(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    await db_conn.execute(text("UPDATE users SET display_name = 'Chị Lan' WHERE id = :u"), {"u": uid})
    rep = await insert_report(db_conn, "W1", reporter_id=uid, description="Đèn đường hỏng")
    await db_conn.execute(text("UPDATE reports SET anonymous = true WHERE id = :r"), {"r": rep.id})
    await _add_event(db_conn, rep.id, "Đã tiếp nhận", "gọi đội điện chiếu sáng")

    public = (await client.get(f"/v1/reports/{rep.code}")).json()
    assert public["code"] == rep.code and public["ward"] == {"code": "W1", "name": "Phường Một"}
    assert "reporter" not in public and "visibility" not in public and "answers" not in public
    assert [e["kind"] for e in public["timeline"]] == ["created", "acknowledged"]
    assert public["timeline"][1]["message"] == "Đã tiếp nhận"
    assert "gọi đội" not in str(public)

    own = (await client.get(f"/v1/reports/{rep.code.lower()}", headers=me)).json()
    assert own["reporter"]["id"] == str(uid) and own["reporter"]["display_name"] == "Chị Lan"
    assert own["anonymous"] is True and "gọi đội" not in str(own)  # residents never see notes

    _, officer = await staff(db_conn, "officer", ["W1"])
    seen = (await client.get(f"/v1/reports/{rep.code}", headers=officer)).json()
    assert seen["timeline"][1]["note"] == "gọi đội điện chiếu sáng"
    _, other = await staff(db_conn, "officer", ["W2"])
    outsider = (await client.get(f"/v1/reports/{rep.code}", headers=other)).json()
    assert "reporter" not in outsider and "gọi đội" not in str(outsider)


async def test_named_reporter_shows_only_the_display_name(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, _ = await resident(client)
    await db_conn.execute(
        text("UPDATE users SET display_name = 'Anh Minh', phone = '0901234567' WHERE id = :u"), {"u": uid}
    )
    rep = await insert_report(db_conn, "W2", reporter_id=uid)
    public = (await client.get(f"/v1/reports/{rep.code}")).json()
    assert public["reporter"] == {"display_name": "Anh Minh"}
    assert "0901234567" not in str(public)


async def test_held_reports_are_404_to_the_public_but_not_to_the_reporter(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    rep = await insert_report(db_conn, "W1", reporter_id=uid, visibility="pending_review")
    assert_error_shape(await client.get(f"/v1/reports/{rep.code}"), 404, "report_not_found")
    _, stranger = await resident(client, "r2")
    assert_error_shape(await client.get(f"/v1/reports/{rep.code}", headers=stranger), 404, "report_not_found")
    mine = await client.get(f"/v1/reports/{rep.code}", headers=me)
    assert mine.status_code == 200 and mine.json()["visibility"] == "pending_review"
    _, officer = await staff(db_conn, "officer", ["W1"])
    assert (await client.get(f"/v1/reports/{rep.code}", headers=officer)).status_code == 200
    _, other = await staff(db_conn, "officer", ["W3"])
    assert_error_shape(await client.get(f"/v1/reports/{rep.code}", headers=other), 404, "report_not_found")
    assert_error_shape(await client.get(f"/v1/reports/{rep.code}/qr.png"), 404, "report_not_found")


async def test_unknown_code_is_404(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/v1/reports/PA-XXXX-XXXX"), 404, "report_not_found")


async def test_qr_code_is_a_png_of_the_public_link(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    rep = await insert_report(db_conn, "W3")
    r = await client.get(f"/v1/reports/{rep.code}/qr.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(r.content))
    assert img.width == img.height and img.width >= 150

    from api.core.settings import Settings
    from api.reports.http import public_link

    assert (
        public_link(Settings(public_base_url="http://testserver"), rep.code.lower())
        == f"http://testserver/r/{rep.code}"
    )
