"""Retention: reports closed longer than PHANANH_RETENTION_DAYS lose their personal data, nothing else does."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import push
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings, SettingsError, load_settings
from api.reports import retention
from api.reports.jobs import erase_expired
from media.storage import LocalStorage, new_key
from moderation import REDACTED
from tests.factories import Report, insert_report, make_city, resident, staff

NAME, PHONE = "Nguyễn Văn An", "0901234567"
NOW = datetime.now(UTC)


@dataclass
class Stored:
    """A media row seeded with its objects in the local store: key per rendition name, and the original."""

    id: uuid.UUID
    original: str
    renditions: dict[str, str]


async def _close(db_conn: AsyncConnection, r: Report, status: str, days_ago: float, **cols: Any) -> None:
    cols = {"status": status, "closed_at": NOW - timedelta(days=days_ago), **cols}
    sets = ", ".join(f"{k} = :{k}" if k != "answers" else "answers = CAST(:answers AS jsonb)" for k in cols)
    await db_conn.execute(text(f"UPDATE reports SET {sets} WHERE id = :id"), {**cols, "id": r.id})


async def _media(
    db_conn: AsyncConnection,
    store: LocalStorage,
    tmp: Path,
    report: Report,
    owner: uuid.UUID,
    *,
    status: str = "ready",
    names: tuple[str, ...] = ("thumb", "large", "large_original"),
) -> Stored:
    """A photo of `report`, its original still stored (as while processing) and its renditions, one of
    them a staff-only copy (not a public rendition: it must go)."""
    src = tmp / f"{uuid.uuid4().hex}.bin"
    src.write_bytes(b"\xff\xd8 not really a jpeg")
    original = new_key("o")
    await store.put_file(original, src, "image/jpeg")
    token = new_key("r").split("/")[1]
    keys = {n: f"r/{token}/{n}.webp" for n in names} if status == "ready" else {}
    for key in keys.values():
        await store.put_file(key, src, "image/webp")
    mid = uuid.uuid4()
    await db_conn.execute(
        text(
            """
            INSERT INTO media (id, owner_id, kind, content_type, size, sha256, storage_key, status, report_id,
                               position, info, private, distance_from_report_m, far_from_report, renditions,
                               received_sha256, attached_at, expires_at)
            VALUES (:id, :owner, 'photo', 'image/jpeg', 20, :sha, :key, :status, :report, 0,
                    CAST(:info AS jsonb), CAST(:private AS jsonb), 12.5, false, CAST(:renditions AS jsonb),
                    :sha, now(), now() + interval '1 day')
            """
        ),
        {
            "id": mid,
            "owner": owner,
            "sha": "ab" * 32,
            "key": original,
            "status": status,
            "report": report.id,
            "info": json.dumps({"width": 640, "height": 480, "blurhash": "LEHV6nWB2yk8"}),
            "private": json.dumps({"gps": [10.77, 106.7], "taken_at": "2023-01-02T03:04:05"}),
            "renditions": json.dumps(
                {n: {"key": k, "content_type": "image/webp", "size": 20} for n, k in keys.items()}
            ),
        },
    )
    return Stored(mid, original, keys)


async def _row(db_conn: AsyncConnection, sql: str, **params: Any) -> Any:
    row = (await db_conn.execute(text(sql), params)).mappings().one_or_none()
    return None if row is None else dict(row)


async def _count(db_conn: AsyncConnection, sql: str, **params: Any) -> int:
    return int(await db_conn.scalar(text(sql), params) or 0)


async def test_reports_closed_past_retention_lose_their_personal_data(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client, "reporter")
    assert (await client.patch("/v1/me", json={"display_name": NAME, "phone": PHONE}, headers=me)).is_success
    follower, _ = await resident(client, "follower")
    officer, officer_h = await staff(db_conn, "officer", ["W1"])
    store = config_for(settings).storage
    assert isinstance(store, LocalStorage)

    old = await insert_report(
        db_conn, "W1", reporter_id=uid, description=f"Ngập sâu, gọi {NAME} 0901 234 567 hoặc an@example.vn"
    )
    await _close(
        db_conn,
        old,
        "closed",
        800,
        address=f"Trước nhà {NAME}",
        answers=json.dumps({"depth_cm": 40, "pole_number": "T-12, gọi 0912345678", "sdt_lien_he": PHONE}),
        rating=4,
        rating_comment=f"Cảm ơn, {NAME} rất hài lòng",
        rated_at=NOW - timedelta(days=801),
        follower_count=1,
    )
    rejected = await insert_report(db_conn, "W1", reporter_id=uid)
    await _close(db_conn, rejected, "rejected", 800)
    duplicate = await insert_report(db_conn, "W1")
    await _close(db_conn, duplicate, "duplicate", 800, duplicate_of=old.id)
    recent = await insert_report(db_conn, "W1", reporter_id=uid, description=f"Gọi {PHONE}")
    await _close(db_conn, recent, "closed", 100, follower_count=1)
    resolved = await insert_report(db_conn, "W1", reporter_id=uid)  # in the closed group, yet not closed
    await db_conn.execute(
        text("UPDATE reports SET status = 'resolved', resolved_at = :t WHERE id = :id"),
        {"t": NOW - timedelta(days=800), "id": resolved.id},
    )
    open_ = await insert_report(
        db_conn, "W1", reporter_id=uid, status="in_progress", created_at=NOW - timedelta(days=900)
    )

    # what ties people to the old case (and, for comparison, to the recent one)
    for r in (old, recent):
        await db_conn.execute(
            text("INSERT INTO report_follows (report_id, user_id) VALUES (:r, :u)"),
            {"r": r.id, "u": follower},
        )
        await db_conn.execute(
            text(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, report_id, status_code, response) "
                "VALUES (:u, :k, '\\x00', :r, 201, CAST('{}' AS jsonb))"
            ),
            {"u": uid, "k": f"key-{r.code}", "r": r.id},
        )
    await db_conn.execute(
        text(
            """
            INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, from_status, to_status,
                                       public_message, internal_note, reason, is_public, created_at)
            VALUES (gen_random_uuid(), :r, 'commented', :officer, 'officer', NULL, NULL,
                    'Đã liên hệ người phản ánh', :note, NULL, true, now() - interval '801 days'),
                   (gen_random_uuid(), :r, 'reopened', :uid, 'resident', 'closed', 'in_progress',
                    NULL, NULL, :why, true, now() - interval '802 days')
            """
        ),
        {
            "r": old.id,
            "officer": officer,
            "uid": uid,
            "note": f"Anh {NAME} ({PHONE}) chỉ chỗ ngập, đội 3 xử lý",
            "why": "Vẫn ngập, gọi 0901.234.567",
        },
    )
    async with database.session() as s:
        await push.register_device(s, user_id=uid, token="tok-reporter-1234", platform="android", locale="vi")
        for code in (old.code, recent.code):
            await push.notify(
                s,
                user_ids=[uid, follower],
                kind="resolved",
                texts={"vi": push.Text("Đã xử lý", f"Phản ánh {code}")},
                report_code=code,
            )
        await s.commit()
    photo = await _media(db_conn, store, tmp_path, old, uid)
    pending = await _media(db_conn, store, tmp_path, old, uid, status="processing")
    kept_photo = await _media(db_conn, store, tmp_path, recent, uid)
    before_recent = await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=recent.id)
    before_open = await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=open_.id)

    tied = (
        "SELECT (SELECT count(*) FROM report_follows WHERE report_id = :r)"
        " + (SELECT count(*) FROM idempotency_keys WHERE report_id = :r)"
        " + (SELECT count(*) FROM notifications WHERE report_code = :c)"
        " + (SELECT count(*) FROM push_outbox WHERE data->>'report_code' = :c)"
    )
    assert await _count(db_conn, tied, r=old.id, c=old.code) == 5

    assert await erase_expired(database, settings) == 3

    # the old case, field by field
    r = await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=old.id)
    assert r["reporter_id"] is None and r["anonymous"] is True and r["client_id"] is None
    assert r["erased_at"] is not None
    assert r["description"] == f"Ngập sâu, gọi {REDACTED} [số điện thoại] hoặc [email]"
    assert r["address"] == f"Trước nhà {REDACTED}"
    assert r["answers"] == {"depth_cm": 40, "pole_number": "T-12, gọi [số điện thoại]"}
    assert r["rating"] == 4 and r["rating_comment"] == f"Cảm ơn, {REDACTED} rất hài lòng"
    assert (
        r["follower_count"] == 0 and "0901" not in r["search_text"] and "nguyen van" not in r["search_text"]
    )
    assert (r["status"], r["category_code"], r["ward_code"]) == ("closed", old.category_code, "W1")
    events = {
        e["kind"]: e
        for e in (
            await db_conn.execute(text("SELECT * FROM report_events WHERE report_id = :r"), {"r": old.id})
        ).mappings()
    }
    assert events["created"]["actor_id"] is None and events["created"]["actor_role"] == "resident"
    assert (
        events["reopened"]["actor_id"] is None
        and events["reopened"]["reason"] == "Vẫn ngập, gọi [số điện thoại]"
    )
    assert events["commented"]["actor_id"] == officer  # staff stay named: the city's record of its work
    assert events["commented"]["public_message"] == "Đã liên hệ người phản ánh"
    assert (
        events["commented"]["internal_note"] == f"Anh {REDACTED} ([số điện thoại]) chỉ chỗ ngập, đội 3 xử lý"
    )
    assert await _count(db_conn, "SELECT count(*) FROM report_follows WHERE report_id = :r", r=old.id) == 0
    assert await _count(db_conn, "SELECT count(*) FROM idempotency_keys WHERE report_id = :r", r=old.id) == 0
    assert await _count(db_conn, "SELECT count(*) FROM notifications WHERE report_code = :c", c=old.code) == 0
    assert (
        await _count(db_conn, "SELECT count(*) FROM push_outbox WHERE data->>'report_code' = :c", c=old.code)
        == 0
    )

    # its media: the public renditions stay, everything else about the person goes
    m = await _row(db_conn, "SELECT * FROM media WHERE id = :id", id=photo.id)
    assert m["private"] == {} and m["distance_from_report_m"] is None and m["far_from_report"] is False
    assert m["owner_id"] is None and m["sha256"] is None and m["received_sha256"] is None
    assert sorted(m["renditions"]) == ["large", "thumb"] and m["info"]["blurhash"] == "LEHV6nWB2yk8"
    assert await store.stat(photo.original) is None
    assert await store.stat(photo.renditions["large_original"]) is None
    assert await store.stat(photo.renditions["large"]) and await store.stat(photo.renditions["thumb"])
    assert await _row(db_conn, "SELECT id FROM media WHERE id = :id", id=pending.id) is None
    assert await store.stat(pending.original) is None

    # the public record still reads well, and shows nobody
    view = (await client.get(f"/v1/reports/{old.code}")).json()
    assert view["description"] == r["description"] and "reporter" not in view
    assert [e["kind"] for e in view["timeline"]] == ["reopened", "commented", "created"]
    assert [sorted(x["renditions"]) for x in view["media"]] == [["large", "thumb"]]
    staff_view = (await client.get(f"/v1/reports/{old.code}", headers=officer_h)).json()
    assert "reporter" not in staff_view and staff_view["anonymous"] is True
    assert [e.get("note") for e in staff_view["timeline"] if e["kind"] == "commented"] == [
        events["commented"]["internal_note"]
    ]
    mine = (await client.get("/v1/me/reports", headers=me)).json()["items"]
    assert old.code not in {i["code"] for i in mine} and recent.code in {i["code"] for i in mine}
    assert "can_reopen" not in (await client.get(f"/v1/reports/{old.code}", headers=me)).json()

    # the other ends of the closed group are erased too; the account itself is untouched
    for other in (rejected, duplicate):
        o = await _row(
            db_conn, "SELECT reporter_id, anonymous, erased_at FROM reports WHERE id = :id", id=other.id
        )
        assert o["reporter_id"] is None and o["anonymous"] and o["erased_at"] is not None
    user = await _row(db_conn, "SELECT display_name, phone, disabled FROM users WHERE id = :u", u=uid)
    assert user == {"display_name": NAME, "phone": PHONE, "disabled": False}

    # closed 100 days ago, resolved (not closed) and open: untouched, their ties intact
    assert await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=recent.id) == before_recent
    assert await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=open_.id) == before_open
    assert (await _row(db_conn, "SELECT erased_at FROM reports WHERE id = :id", id=resolved.id))[
        "erased_at"
    ] is None
    assert await _count(db_conn, "SELECT count(*) FROM report_follows WHERE report_id = :r", r=recent.id) == 1
    assert (
        await _count(db_conn, "SELECT count(*) FROM idempotency_keys WHERE report_id = :r", r=recent.id) == 1
    )
    assert (
        await _count(db_conn, "SELECT count(*) FROM notifications WHERE report_code = :c", c=recent.code) == 2
    )
    assert (
        await _count(
            db_conn, "SELECT count(*) FROM push_outbox WHERE data->>'report_code' = :c", c=recent.code
        )
        == 1
    )
    k = await _row(
        db_conn, "SELECT private, owner_id, renditions FROM media WHERE id = :id", id=kept_photo.id
    )
    assert (
        k["private"]["gps"] == [10.77, 106.7] and k["owner_id"] == uid and "large_original" in k["renditions"]
    )
    assert await store.stat(kept_photo.original) is not None

    # the audit row
    runs = (await db_conn.execute(text("SELECT * FROM retention_runs"))).mappings().all()
    assert len(runs) == 1
    run = runs[0]
    assert (run["reports_erased"], run["media_erased"], run["error"]) == (3, 2, None)
    assert run["finished_at"] is not None
    assert abs(run["cutoff"] - (run["started_at"] - timedelta(days=730))) < timedelta(seconds=1)

    # idempotent: nothing is due again today; the next day's run finds nothing more to erase
    assert await erase_expired(database, settings) == 0
    assert await _count(db_conn, "SELECT count(*) FROM retention_runs") == 1
    await db_conn.execute(text("UPDATE retention_runs SET started_at = started_at - interval '25 hours'"))
    after_first = await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=old.id)
    assert await erase_expired(database, settings) == 0
    runs = (await db_conn.execute(text("SELECT * FROM retention_runs ORDER BY started_at"))).mappings().all()
    assert len(runs) == 2 and runs[1]["reports_erased"] == 0 and runs[1]["media_erased"] == 0
    assert runs[1]["finished_at"] is not None
    assert await _row(db_conn, "SELECT * FROM reports WHERE id = :id", id=old.id) == after_first


async def test_a_run_goes_in_batches_until_none_are_left(
    db_conn: AsyncConnection, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_city(db_conn)
    for _ in range(3):
        await _close(db_conn, await insert_report(db_conn, "W2"), "closed", 731)
    monkeypatch.setattr(retention, "BATCH", 2)
    assert await erase_expired(database, settings) == 2
    run = await _row(db_conn, "SELECT * FROM retention_runs")
    assert run["finished_at"] is None and run["reports_erased"] == 2  # more may be waiting: the run goes on
    assert await erase_expired(database, settings) == 1
    run = await _row(db_conn, "SELECT * FROM retention_runs")
    assert run["finished_at"] is not None and run["reports_erased"] == 3
    assert await erase_expired(database, settings) == 0
    assert await _count(db_conn, "SELECT count(*) FROM reports WHERE erased_at IS NULL") == 0


async def test_a_failed_batch_is_rolled_back_and_recorded(
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_city(db_conn)
    r = await insert_report(db_conn, "W1")
    await _close(db_conn, r, "rejected", 1000)
    store = config_for(settings).storage
    assert isinstance(store, LocalStorage)
    owner = await db_conn.scalar(text("SELECT reporter_id FROM reports WHERE id = :id"), {"id": r.id})
    await _media(db_conn, store, tmp_path, r, owner)

    async def refuse(key: str) -> None:
        raise OSError("store unavailable")

    monkeypatch.setattr(store, "delete", refuse)
    with pytest.raises(OSError):
        await erase_expired(database, settings)
    run = await _row(db_conn, "SELECT * FROM retention_runs")
    assert run["error"] == "OSError: store unavailable" and run["finished_at"] is not None
    assert run["reports_erased"] == 0
    row = await _row(db_conn, "SELECT reporter_id, erased_at FROM reports WHERE id = :id", id=r.id)
    assert row["reporter_id"] == owner and row["erased_at"] is None
    assert await erase_expired(database, settings) == 0  # retried an hour later, not at once
    monkeypatch.undo()
    await db_conn.execute(text("UPDATE retention_runs SET started_at = started_at - interval '2 hours'"))
    assert await erase_expired(database, settings) == 1


def test_retention_outlasts_the_reopen_window() -> None:
    assert load_settings({}).retention_days == 730
    with pytest.raises(SettingsError, match="PHANANH_RETENTION_DAYS"):
        load_settings({"PHANANH_RETENTION_DAYS": "14"})
