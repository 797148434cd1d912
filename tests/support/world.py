"""Seed reports for staff tests: through the resident API (`seed_reports`), or by SQL over the documented
schema (docs/domain.md) where a test needs columns the API does not set (`insert_report`).

    reports = await seed_reports(db_conn, client, {"R1": "W1", "R2": "W2"})
    reports["R1"].code, reports["R1"].id
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.areas import centre


@dataclass(frozen=True)
class Report:
    id: uuid.UUID
    code: str
    ward: str
    category_code: str


async def any_category(db_conn: AsyncConnection) -> str:
    code = await db_conn.scalar(
        text("SELECT code FROM categories WHERE active AND NOT photo_required ORDER BY sort, code LIMIT 1")
    )
    if code is None:
        code = "test-cat"
        await db_conn.execute(
            text(
                "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
                "VALUES (:c, 'Thử', 'Test', 4, 3, 'days')"
            ),
            {"c": code},
        )
    return str(code)


async def insert_report(
    db_conn: AsyncConnection,
    ward: str,
    *,
    category: str | None = None,
    reporter_id: uuid.UUID | None = None,
    visibility: str = "public",
    status: str = "new",
    description: str = "Ổ gà trên đường",
    created_at: datetime | None = None,
) -> Report:
    """A report row in `ward` (a synthetic-city ward W1..W3) by SQL, with its `created` event."""
    category = category or await any_category(db_conn)
    if reporter_id is None:
        reporter_id = uuid.uuid4()
        await db_conn.execute(
            text("INSERT INTO users (id, role) VALUES (:id, 'resident')"), {"id": reporter_id}
        )
    rid = uuid.uuid4()
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    code = (
        "PA-"
        + "".join(secrets.choice(alphabet) for _ in range(4))
        + "-"
        + "".join(secrets.choice(alphabet) for _ in range(4))
    )
    lat, lng = centre(ward)
    await db_conn.execute(
        text(
            """
            INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, answers,
                                 geom, ward_code, status, visibility, search_text, created_at)
            VALUES (:id, :code, :reporter, :client, :cat, :desc, CAST('{}' AS jsonb),
                    ST_SetSRID(ST_MakePoint(:lng, :lat), 4326), :ward, :status, :vis, f_unaccent(:desc),
                    coalesce(CAST(:created_at AS timestamptz), now()))
            """
        ),
        {
            "id": rid,
            "code": code,
            "reporter": reporter_id,
            "client": uuid.uuid4(),
            "cat": category,
            "desc": description,
            "lng": lng,
            "lat": lat,
            "ward": ward,
            "status": status,
            "vis": visibility,
            "created_at": created_at,
        },
    )
    await db_conn.execute(
        text(
            "INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, to_status, is_public, data) "
            "VALUES (:id, :r, 'created', :a, 'resident', 'new', true, CAST(:d AS jsonb))"
        ),
        {"id": uuid.uuid4(), "r": rid, "a": reporter_id, "d": json.dumps({})},
    )
    return Report(rid, code, ward, category)


async def submit_report(client: httpx.AsyncClient, ward: str, category: str) -> httpx.Response:
    """POST /v1/reports as a new resident, at the centre of a synthetic ward."""
    device = {
        "device_id": f"android-{uuid.uuid4().hex[:12]}",
        "device_secret": "test-device-secret-0123456789abcdef",
        "platform": "android",
        "locale": "vi",
    }
    tokens = (await client.post("/v1/auth/device", json=device)).json()
    lat, lng = centre(ward)
    return await client.post(
        "/v1/reports",
        json={"category": category, "description": "Ổ gà lớn giữa đường", "lat": lat, "lng": lng},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )


async def seed_reports(
    db_conn: AsyncConnection,
    client: httpx.AsyncClient,
    wards: Mapping[str, str],
    *,
    visibility: str = "public",
) -> dict[str, Report]:
    """One report per (key → ward), submitted through POST /v1/reports, then given `visibility`."""
    category = await any_category(db_conn)
    out: dict[str, Report] = {}
    for key, ward in wards.items():
        r = await submit_report(client, ward, category)
        assert r.status_code in (200, 201), r.text
        body = r.json()
        assert body["ward"]["code"] == ward, body
        out[key] = Report(uuid.UUID(body["id"]), body["code"], ward, category)
        await db_conn.execute(
            text("UPDATE reports SET visibility = :v WHERE id = :id"), {"v": visibility, "id": out[key].id}
        )
    return out
