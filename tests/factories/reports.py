"""Reports: through the services (`make_report`, in any status), through HTTP (`submit_report`,
`seed_reports`), or by the one documented insert (`insert_report`) where a test needs columns or a
state the services would take days to reach, or a case with no history but its `created` event.

    await make_city(db_conn)
    case = await make_report(db_conn, "W1", status="in_progress")    # submit, acknowledge, start
    row = await insert_report(db_conn, "W2", status="resolved", resolved_at=yesterday)

The wards are the synthetic city's (W1..W3, `tests.factories.city`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

import geo
from api.access.tokens import Principal
from api.casework.service import Action, act
from api.core.settings import Settings
from api.reports.codes import new_code
from api.reports.events import append_event
from api.reports.followup import confirm
from api.reports.schemas import ReportIn
from api.reports.service import submit
from tests.factories.city import centre
from tests.factories.people import Db, Person, factory_settings, resident, role_of, session_on, staff


@dataclass(frozen=True)
class Report:
    id: uuid.UUID
    code: str
    ward: str
    category_code: str


async def any_category(db: Db) -> str:
    """An active category that needs no photo (the seeded ones; one is added if there is none)."""
    code = await db.scalar(
        text("SELECT code FROM categories WHERE active AND NOT photo_required ORDER BY sort, code LIMIT 1")
    )
    if code is None:
        code = "test-cat"
        await db.execute(
            text(
                "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
                "VALUES (:c, 'Thử', 'Test', 4, 3, 'days')"
            ),
            {"c": code},
        )
    return str(code)


# --- through the services ------------------------------------------------------------------------

# The staff actions that lead from `new` to each status (api/casework/states.py); `closed` is then
# the reporter's confirmation, `duplicate` a merge into another case of the same ward.
STEPS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("acknowledge",),
    "in_progress": ("acknowledge", "start"),
    "resolved": ("acknowledge", "start", "resolve"),
    "closed": ("acknowledge", "start", "resolve"),
    "rejected": ("reject",),
    "duplicate": ("merge",),
    "on_hold": ("acknowledge", "start", "hold"),
}


async def make_report(
    db: Db,
    ward: str = "W1",
    *,
    status: str = "new",
    reporter: Person | None = None,
    by: Person | None = None,
    into: Report | None = None,
    category: str | None = None,
    description: str = "Ổ gà trên đường",
    settings: Settings | None = None,
) -> Report:
    """A report submitted by `reporter` (a new resident if none) through the submission service
    (`api.reports.service.submit`), then taken to `status` by `by` (a new admin if none) through the
    casework service (`api.casework.service.act`), one step at a time, as the state machine allows;
    `closed` is the reporter confirming the fix (`api.reports.followup.confirm`), `duplicate` a merge
    into `into` (a new case of the same ward if none). Every step writes its event and notifications,
    as in production. Each service commits a savepoint of `db`'s transaction.
    """
    if status not in STEPS:
        raise ValueError(f"no way to a report in status {status!r}; one of {', '.join(STEPS)}")
    settings = settings or factory_settings()
    category = category or await any_category(db)
    reporter = reporter or await resident(db, settings=settings)
    lat, lng = centre(ward)
    data = ReportIn(category=category, description=description, lat=lat, lng=lng)
    async with session_on(db) as s:
        outcome = await submit(
            s,
            settings,
            Principal(reporter.id, "resident"),
            data,
            idempotency_key=None,
            lineage_cache=geo.LineageCache(),
        )
    assert outcome.status_code == 201, outcome.body
    report = Report(uuid.UUID(str(outcome.body["id"])), str(outcome.body["code"]), ward, category)
    steps = STEPS[status]
    if not steps:
        return report
    actor = by or await staff(db, "admin", settings=settings)
    principal = Principal(actor.id, await role_of(db, actor.id))
    for step in steps:
        req = Action(step)
        if step == "resolve":
            req.message = "Đã xử lý xong"
        elif step == "reject":
            req.reason, req.message = "not_actionable", "Không thuộc thẩm quyền"
        elif step == "hold":
            req.reason, req.message = "waiting_agency", "Chờ đơn vị điện lực"
        elif step == "merge":
            target = into or await make_report(db, ward, category=category, settings=settings)
            req.into = target.code
        async with session_on(db) as s:
            await act(s, principal, report.code, req)
    if status == "closed":
        async with session_on(db) as s:
            await confirm(s, settings, Principal(reporter.id, "resident"), report.code)
    return report


async def report_event(
    session: AsyncSession,
    report: Report,
    kind: str,
    *,
    actor: uuid.UUID | None = None,
    public: bool = True,
    message: str | None = None,
    reason: str | None = None,
    status: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """An event on `report` (its status set to `status` first, when given) through the reports' own
    path, `api.reports.events.append_event`: the event and the notifications it causes, in the
    caller's transaction (the caller commits)."""
    if status:
        await session.execute(
            text("UPDATE reports SET status = :s WHERE id = :r"), {"s": status, "r": report.id}
        )
    await append_event(
        session,
        report.id,
        kind,
        actor_id=actor,
        actor_role="officer",
        to_status=status,
        public_message=message,
        reason=reason,
        is_public=public,
        data=data or {},
    )


# --- through HTTP --------------------------------------------------------------------------------


async def submit_report(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ward: str = "W1",
    *,
    category: str = "ngap-nuoc",
    description: str = "Ổ gà lớn giữa đường",
    media_ids: Sequence[uuid.UUID] = (),
) -> dict[str, Any]:
    """POST /v1/reports at the centre of a synthetic ward, as `headers`; the 201 answer's body."""
    lat, lng = centre(ward)
    body: dict[str, Any] = {"category": category, "description": description, "lat": lat, "lng": lng}
    if media_ids:
        body["media_ids"] = [str(i) for i in media_ids]
    r = await client.post("/v1/reports", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def seed_reports(
    db_conn: AsyncConnection,
    client: httpx.AsyncClient,
    wards: Mapping[str, str],
    *,
    visibility: str = "public",
) -> dict[str, Report]:
    """One report per (key → ward), each by a new resident through POST /v1/reports, then given
    `visibility`."""
    category = await any_category(db_conn)
    out: dict[str, Report] = {}
    for key, ward in wards.items():
        body = await submit_report(
            client, (await resident(client, locale="vi")).headers, ward, category=category
        )
        assert body["ward"]["code"] == ward, body
        out[key] = Report(uuid.UUID(body["id"]), body["code"], ward, category)
        await update_report(db_conn, out[key], visibility=visibility)
    return out


# --- by SQL --------------------------------------------------------------------------------------

_INSERT_REPORT = text(
    """
    INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, answers,
                         geom, ward_code, status, visibility, search_text, created_at)
    VALUES (:id, :code, :reporter, :client, :cat, :desc, CAST('{}' AS jsonb),
            ST_SetSRID(ST_MakePoint(:lng, :lat), 4326), :ward, :status, :vis, f_unaccent(:desc),
            coalesce(CAST(:created_at AS timestamptz), now()))
    """
)
_INSERT_CREATED = text(
    "INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, to_status, is_public, data) "
    "VALUES (:id, :r, 'created', :a, 'resident', 'new', true, CAST(:d AS jsonb))"
)


async def insert_report(
    db: Db,
    ward: str,
    *,
    category: str | None = None,
    reporter_id: uuid.UUID | None = None,
    visibility: str = "public",
    status: str = "new",
    description: str = "Ổ gà trên đường",
    created_at: datetime | None = None,
    **columns: Any,
) -> Report:
    """A report row at the centre of `ward` and its `created` event, by SQL over the documented
    schema (docs/domain.md), in any status with no other history; any other `columns` (timestamps,
    deadlines, assignee, rating…) are set right after. The reporter is a new resident if not given."""
    category = category or await any_category(db)
    if reporter_id is None:
        reporter_id = (await resident(db)).id
    rid, code = uuid.uuid4(), new_code()
    lat, lng = centre(ward)
    await db.execute(
        _INSERT_REPORT,
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
    await db.execute(_INSERT_CREATED, {"id": uuid.uuid4(), "r": rid, "a": reporter_id, "d": json.dumps({})})
    report = Report(rid, code, ward, category)
    if columns:
        await update_report(db, report, **columns)
    return report


async def update_report(db: Db, report: Report | str, **columns: Any) -> None:
    """Set `columns` of a report (a `Report`, or its code) directly, with no event."""
    sets = ", ".join(f"{k} = :{k}" for k in columns)
    if isinstance(report, Report):
        await db.execute(text(f"UPDATE reports SET {sets} WHERE id = :id"), {**columns, "id": report.id})
    else:
        await db.execute(text(f"UPDATE reports SET {sets} WHERE code = :code"), {**columns, "code": report})


async def set_state(db: Db, code: str, *, status: str, resolved_days_ago: float | None = None) -> None:
    """Put a report in `status`, resolved `resolved_days_ago` days ago (or never)."""
    resolved_at = None
    if resolved_days_ago is not None:
        resolved_at = datetime.now(UTC) - timedelta(days=resolved_days_ago)
    await update_report(db, code, status=status, resolved_at=resolved_at)
