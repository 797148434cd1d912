"""What a report looks like to the public, to its reporter and to staff.

Everything residents wrote reaches anyone but staff through `public_report_text` and
`public_event_text` — the report page, the lists and GeoJSON, Open311 —: personal data masked
(`api.core.text.public`), a moderator's redaction in place of the original, a message held for
review or hidden left out. Staff read the original.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

import media
from api.access.models import User
from api.access.tokens import Principal
from api.catalogue.models import Category
from api.core.media import config_for
from api.core.settings import Settings
from api.core.status import OPEN, PAUSED
from api.core.text import public
from api.reports.models import Follow, Report, ReportEvent
from geo import Area

UNSET = msgspec.UNSET
# reasons a resident may read: why a case was rejected, reopened, moved or put on hold
PUBLIC_REASON_KINDS = ("rejected", "reopened", "transferred", "merged", "on_hold")


class Named(msgspec.Struct):
    code: str
    name: str


class Person(msgspec.Struct):
    id: uuid.UUID
    name: str | None


class Due(msgspec.Struct):
    acknowledge_by: datetime | None
    resolve_by: datetime | None
    overdue: bool


class TimelineEntry(msgspec.Struct, omit_defaults=True):
    kind: str
    created_at: datetime
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    note: str | msgspec.UnsetType | None = UNSET  # internal note: staff only
    actor_role: str | msgspec.UnsetType = UNSET
    # its message waits for a moderator ("held") or was hidden by one ("hidden"); absent when shown
    text_status: str | msgspec.UnsetType = UNSET
    id: uuid.UUID | msgspec.UnsetType = UNSET  # staff: names the event to a moderation action
    # staff: who did it, and what the action named (so a timeline reads without looking up ids)
    actor: Person | msgspec.UnsetType = UNSET
    assignee: Person | msgspec.UnsetType = UNSET
    from_ward: Named | msgspec.UnsetType = UNSET
    to_ward: Named | msgspec.UnsetType = UNSET
    into: str | msgspec.UnsetType = UNSET  # the report a duplicate was merged into


class PublicText(msgspec.Struct):
    """What the public reads of the report's text (the full view shows it beside the original)."""

    description: str
    address: str | None
    rating_comment: str | None


class Reporter(msgspec.Struct, omit_defaults=True):
    display_name: str | None = None
    id: uuid.UUID | msgspec.UnsetType = UNSET
    phone: str | msgspec.UnsetType | None = UNSET


class ReportView(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    code: str
    category: Named
    status: str
    description: str
    address: str | None
    lat: float
    lng: float
    ward: Named
    created_at: datetime
    updated_at: datetime
    due: Due
    follower_count: int
    reopen_count: int
    rating: int | None
    media: list[dict[str, Any]]
    timeline: list[TimelineEntry]
    reporter: Reporter | None = None  # absent when anonymous (public view)
    # full view only
    visibility: str | msgspec.UnsetType = UNSET
    anonymous: bool | msgspec.UnsetType = UNSET
    answers: dict[str, Any] | msgspec.UnsetType = UNSET
    accuracy_m: float | msgspec.UnsetType | None = UNSET
    near_boundary: bool | msgspec.UnsetType = UNSET
    agency: str | msgspec.UnsetType | None = UNSET
    assignee_id: uuid.UUID | msgspec.UnsetType | None = UNSET
    version: int | msgspec.UnsetType = UNSET
    public_text: PublicText | msgspec.UnsetType = UNSET
    # full view: as written; public view: masked, null while held or hidden
    rating_comment: str | msgspec.UnsetType | None = UNSET
    # about the viewer
    following: bool | msgspec.UnsetType = UNSET
    can_confirm: bool | msgspec.UnsetType = UNSET
    can_reopen: bool | msgspec.UnsetType = UNSET
    can_rate: bool | msgspec.UnsetType = UNSET


def public_report_text(
    description: str, address: str | None, public_description: str | None, public_address: str | None
) -> tuple[str, str | None]:
    """(description, address) as anyone but staff reads them: a moderator's redaction where there is
    one, personal data masked either way ("" for an address a moderator removed: None)."""
    shown = public_description if public_description is not None else description
    where = public_address if public_address is not None else address
    return public(shown) or "", public(where) or None


def public_event_text(
    message: str | None, reason: str | None, text_status: str
) -> tuple[str | None, str | None]:
    """(message, reason) of an event as anyone but staff reads them: nothing while held or hidden."""
    if text_status != "shown":
        return None, None
    return public(message), public(reason)


def is_overdue(report: Report, now: datetime) -> bool:
    if report.status == "new":
        due = min((d for d in (report.ack_due_at, report.resolve_due_at) if d is not None), default=None)
    elif report.status in OPEN - PAUSED:  # on hold: the clock is stopped
        due = report.resolve_due_at
    else:
        due = None
    return due is not None and due < now


def in_reopen_window(report: Report, settings: Settings, now: datetime) -> bool:
    return report.resolved_at is not None and now - report.resolved_at <= timedelta(
        days=settings.reopen_window_days
    )


async def render(
    session: AsyncSession,
    settings: Settings,
    report: Report,
    *,
    full: bool,
    viewer: Principal | None,
    english: bool,
) -> ReportView:
    now = datetime.now(UTC)
    row = (
        await session.execute(
            select(
                func.ST_Y(Report.geom), func.ST_X(Report.geom), Category.name_vi, Category.name_en, Area.name
            )
            .select_from(Report)
            .join(Category, Category.code == Report.category_code)
            .join(Area, Area.code == Report.ward_code)
            .where(Report.id == report.id)
        )
    ).one()
    lat, lng, cat_vi, cat_en, ward_name = row
    staff = full and viewer is not None and viewer.is_staff
    events = list(
        (
            await session.execute(
                select(ReportEvent)
                .where(ReportEvent.report_id == report.id)
                .where(true() if staff else ReportEvent.is_public)
                .order_by(ReportEvent.created_at, ReportEvent.id)
            )
        ).scalars()
    )
    names = await _names(session, events) if staff else _Names({}, {})
    timeline = [_entry(e, staff, names) for e in events]
    reporter: Reporter | None = None
    # no reporter once the report's personal data has been erased (api.reports.retention)
    user = await session.get(User, report.reporter_id) if report.reporter_id is not None else None
    if full and report.reporter_id is not None:
        reporter = Reporter(
            display_name=user.display_name if user else None,
            id=report.reporter_id,
            phone=(user.phone if user else None)
            if staff or (viewer and viewer.id == report.reporter_id)
            else UNSET,
        )
    elif not report.anonymous:
        reporter = Reporter(display_name=user.display_name if user else None)
    shown_description, shown_address = public_report_text(
        report.description, report.address, report.public_description, report.public_address
    )
    shown_comment = await _public_rating_comment(session, report)
    view = ReportView(
        id=report.id,
        code=report.code,
        category=Named(report.category_code, cat_en if english else cat_vi),
        status=report.status,
        description=report.description if full else shown_description,
        address=report.address if full else shown_address,
        lat=round(float(lat), 6),
        lng=round(float(lng), 6),
        ward=Named(report.ward_code, ward_name),
        created_at=report.created_at,
        updated_at=report.updated_at,
        due=Due(report.ack_due_at, report.resolve_due_at, is_overdue(report, now)),
        follower_count=report.follower_count,
        reopen_count=report.reopen_count,
        rating=report.rating,
        media=await media.list_for_report(
            session,
            report.id,
            base_url=settings.base_url,
            include_pending=full,
            staff=staff,
            config=config_for(settings),
            merged=await _merged_into(session, report.id, staff=staff),
        ),
        timeline=timeline,
        reporter=reporter,
        rating_comment=shown_comment,
    )
    if full:
        view.visibility = report.visibility
        view.anonymous = report.anonymous
        view.answers = report.answers
        view.accuracy_m = report.accuracy_m
        view.near_boundary = report.near_boundary
        view.agency = report.agency_code
        view.assignee_id = report.assignee_id
        view.version = report.version
        view.rating_comment = report.rating_comment
        view.public_text = PublicText(shown_description, shown_address, shown_comment)
    if viewer is not None:
        view.following = bool(
            await session.scalar(
                select(func.count())
                .select_from(Follow)
                .where(Follow.report_id == report.id, Follow.user_id == viewer.id)
            )
        )
        if viewer.id == report.reporter_id:
            window = in_reopen_window(report, settings, now)
            view.can_confirm = report.status == "resolved" and window
            view.can_reopen = report.status in ("resolved", "closed") and window
            view.can_rate = report.status in ("resolved", "closed")
    return view


class _Names(NamedTuple):
    people: dict[uuid.UUID, str | None]
    wards: dict[str, str]


async def _names(session: AsyncSession, events: list[ReportEvent]) -> _Names:
    """The staff and wards a case's events name, looked up once for the whole timeline."""
    people: set[uuid.UUID] = {e.actor_id for e in events if e.actor_id is not None}
    wards: set[str] = set()
    for e in events:
        if isinstance(e.data.get("assignee"), str):
            people.add(uuid.UUID(e.data["assignee"]))
        wards.update(w for w in (e.data.get("from_ward"), e.data.get("to_ward")) if isinstance(w, str))
    found = (
        (await session.execute(select(User.id, User.display_name).where(User.id.in_(people)))).all()
        if people
        else []
    )
    ward_names = (
        (await session.execute(select(Area.code, Area.name).where(Area.code.in_(wards)))).all()
        if wards
        else []
    )
    return _Names({i: n for i, n in found}, {c: n for c, n in ward_names})


def _entry(e: ReportEvent, staff: bool, names: _Names) -> TimelineEntry:
    if staff:
        message, reason = e.public_message, e.reason
    else:
        message, reason = public_event_text(e.public_message, e.reason, e.text_status)
    entry = TimelineEntry(
        kind=e.kind,
        created_at=e.created_at,
        status=e.to_status,
        message=message,
        reason=reason if (staff or e.kind in PUBLIC_REASON_KINDS) else None,
        note=e.internal_note if staff else UNSET,
        actor_role=e.actor_role or "system" if staff else UNSET,
        text_status=UNSET if e.text_status == "shown" else e.text_status,
        id=e.id if staff else UNSET,
    )
    if staff:
        if e.actor_id is not None:
            entry.actor = Person(e.actor_id, names.people.get(e.actor_id))
        if isinstance(assignee := e.data.get("assignee"), str):
            entry.assignee = Person(uuid.UUID(assignee), names.people.get(uuid.UUID(assignee)))
        for field in ("from_ward", "to_ward"):
            if isinstance(code := e.data.get(field), str):
                setattr(entry, field, Named(code, names.wards.get(code, code)))
        if isinstance(into := e.data.get("into"), str):
            entry.into = into
    return entry


async def _public_rating_comment(session: AsyncSession, report: Report) -> str | None:
    """The rating comment as the public reads it: its `rated` event says whether it is shown."""
    if not report.rating_comment:
        return None
    status = await session.scalar(
        select(ReportEvent.text_status)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == "rated")
        .order_by(ReportEvent.created_at.desc(), ReportEvent.id.desc())
        .limit(1)
    )
    message, _ = public_event_text(report.rating_comment, None, status or "shown")
    return message


async def _merged_into(
    session: AsyncSession, report_id: uuid.UUID, *, staff: bool = False
) -> dict[uuid.UUID, str]:
    """The reports merged into this one, directly or through a report that was itself merged into it
    later (id → code): their media are carried over to it. Only staff see what a report hidden by
    moderation (or still held for review) carries over; everyone else only that of public ones."""
    # duplicate_of only ever points at a live report and a duplicate is final: no cycles (UNION stops
    # them anyway)
    merged = (
        select(Report.id, Report.code, Report.visibility)
        .where(Report.duplicate_of == report_id)
        .cte("m", recursive=True)
    )
    r = aliased(Report, name="r")
    merged = merged.union(select(r.id, r.code, r.visibility).join(merged, r.duplicate_of == merged.c.id))
    rows = await session.execute(select(merged.c.id, merged.c.code, merged.c.visibility))
    return {r.id: r.code for r in rows if staff or r.visibility == "public"}
