"""Migration 0010_safety on a database that has data: reports held only for a phone number or an
e-mail address are published (they are masked now), others keep waiting with their reasons, and
search no longer finds personal data."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from api.core import migrate
from api.core.db import make_engine
from tests.factories import centre, make_city
from tests.support.database import create_database, drop_database, unique_name


async def test_held_reports_and_search_are_brought_up_to_date(pg_admin_url: str) -> None:
    name = unique_name("phananh_mig")
    url = await create_database(pg_admin_url, name)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine, "0007_merged_media")
        held = {
            "phone": ["phone_number"],
            "abuse": ["abusive_language"],
            "both": ["phone_number", "abusive_language"],
        }
        ids: dict[str, uuid.UUID] = {}
        async with engine.begin() as conn:
            await make_city(conn)
            category = await conn.scalar(text("SELECT code FROM categories ORDER BY code LIMIT 1"))
            user = uuid.uuid4()
            await conn.execute(text("INSERT INTO users (id, role) VALUES (:u, 'resident')"), {"u": user})
            lat, lng = centre("W1")
            for key, reasons in {**held, "public": []}.items():
                ids[key] = uuid.uuid4()
                description = f"Cống nghẹt {key}, gọi 0903 123 456"
                await conn.execute(
                    text(
                        "INSERT INTO reports (id, code, reporter_id, category_code, description, geom, ward_code, "
                        "visibility, search_text) VALUES (:id, :code, :u, :c, :d, "
                        "ST_SetSRID(ST_MakePoint(:lng, :lat), 4326), 'W1', :v, f_unaccent(:d))"
                    ),
                    {
                        "id": ids[key],
                        "code": f"PA-{key.upper()[:4]:A<4}-0001",
                        "u": user,
                        "c": category,
                        "d": description,
                        "lng": lng,
                        "lat": lat,
                        "v": "pending_review" if reasons else "public",
                    },
                )
                await conn.execute(
                    text(
                        "INSERT INTO report_events (id, report_id, kind, data) "
                        "VALUES (:e, :r, 'created', CAST(:d AS jsonb))"
                    ),
                    {"e": uuid.uuid4(), "r": ids[key], "d": f'{{"held": {reasons!r}}}'.replace("'", '"')},
                )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = {
                r.id: r
                for r in await conn.execute(
                    text("SELECT id, visibility, held_for, held_at, search_text FROM reports")
                )
            }
    finally:
        await engine.dispose()
        await drop_database(pg_admin_url, name)
    assert rows[ids["phone"]].visibility == "public" and rows[ids["phone"]].held_for == []
    assert rows[ids["abuse"]].visibility == "pending_review" and rows[ids["abuse"]].held_for == [
        "abusive_language"
    ]
    assert rows[ids["abuse"]].held_at is not None
    assert rows[ids["both"]].visibility == "pending_review"
    assert sorted(rows[ids["both"]].held_for) == ["abusive_language", "phone_number"]
    for row in rows.values():
        assert "0903" not in row.search_text and row.search_text.startswith("cong nghet")
