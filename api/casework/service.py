"""Staff actions on a case: `act(session, principal, code, ActionIn)`.

One transaction per action: lock the report row (in the caller's scope, else 404), check the state
machine (409 `invalid_transition` listing what is allowed), update the row with a version check,
append one event, attach media, call the notifications hook, commit. Two people acting on one case
at once serialise on the row lock; the second then sees the new status (409), and a client that sends
the `version` it saw gets 409 `version_conflict` if someone acted in between.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Uuid, exists, func, literal, select, true, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

import media
from api.access.models import User
from api.access.scope import area_code_clause, granted_staff_ids, scope_clause
from api.access.tokens import Principal
from api.casework import states
from api.catalogue import deadlines
from api.core.errors import AppError, Conflict, NotFound, Unprocessable
from api.core.status import WORDS, ReportStatus
from api.reports.events import append_event
from api.reports.models import Follow, Report, ReportAsR
from geo import Area


@dataclass(slots=True)
class Action:
    """What the caller asks for (the HTTP body, already validated for shape)."""

    action: str
    message: str | None = None
    note: str | None = None
    reason: str | None = None
    media_ids: list[uuid.UUID] = field(default_factory=list)
    ward: str | None = None
    into: str | None = None
    assignee: uuid.UUID | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str
    status: str
    from_status: str
    ward: str | None
    version: int
    assignee: uuid.UUID | None
    event_id: uuid.UUID
    allowed: list[str]


def report_not_found() -> NotFound:
    return NotFound("No such report.", message_vi="Không tìm thấy phản ánh.", code="report_not_found")


def _bad(code: str, en: str, vi: str, details: Any = None) -> Unprocessable:
    return Unprocessable(en, message_vi=vi, code=code, details=details)


async def _locked(session: AsyncSession, principal: Principal, code: str) -> Any:
    row = (
        await session.execute(
            select(
                ReportAsR.id,
                ReportAsR.code,
                ReportAsR.status,
                ReportAsR.version,
                ReportAsR.ward_code,
                ReportAsR.agency_code,
                ReportAsR.category_code,
                ReportAsR.reporter_id,
                ReportAsR.assignee_id,
                ReportAsR.duplicate_of,
                ReportAsR.resolve_due_at,
                ReportAsR.hold_started_at,
            )
            .where(ReportAsR.code == code.strip().upper(), scope_clause(principal))
            .with_for_update(of=ReportAsR)
        )
    ).first()
    if row is None:
        raise report_not_found()
    return row


async def _in_scope_id(session: AsyncSession, principal: Principal, code: str) -> Any:
    return (
        await session.execute(
            select(ReportAsR.id, ReportAsR.code, ReportAsR.status).where(
                ReportAsR.code == code.strip().upper(), scope_clause(principal)
            )
        )
    ).first()


async def _deadlines(session: AsyncSession, category: str, start: datetime) -> tuple[datetime, datetime]:
    """(ack_due_at, resolve_due_at) for a case (re)starting at `start`, on the working calendar."""
    return await deadlines.due_dates(session, category, start)


def _transition(action: str, status: str) -> str:
    try:
        return states.target(action, status)
    except states.InvalidTransition as exc:
        act_vi, act_en = states.ACTION_WORDS.get(action, (action, action))
        is_vi, is_en = WORDS.get(status, (status, status))
        raise Conflict(
            f"Cannot {act_en} a case that is “{is_en.lower()}”.",
            message_vi=f"Không thể {act_vi} phản ánh đang ở trạng thái “{is_vi.lower()}”.",
            code="invalid_transition",
            details={"status": status, "action": action, "allowed": exc.allowed},
        ) from None


async def act(
    session: AsyncSession, principal: Principal, code: str, req: Action, *, now: datetime | None = None
) -> Outcome:
    """Apply one staff action to the case `code`. Commits."""
    now = now or datetime.now(UTC)
    row = await _locked(session, principal, code)
    if req.version is not None and req.version != row.version:
        raise Conflict(
            "The case changed since you loaded it.",
            message_vi="Phản ánh đã được cập nhật bởi người khác; vui lòng tải lại.",
            code="version_conflict",
            details={"version": row.version, "status": row.status},
        )
    to = _transition(req.action, row.status)
    sets: dict[str, Any] = {}
    data: dict[str, Any] = {}
    is_public = req.action not in ("assign",)

    if req.action == "acknowledge":
        sets["acknowledged_at"] = now
    elif req.action == "start":
        sets["acknowledged_at"] = func.coalesce(Report.acknowledged_at, now)
    elif req.action == "resolve":
        sets["resolved_at"] = now
        sets["acknowledged_at"] = func.coalesce(Report.acknowledged_at, now)
    elif req.action == "reject":
        if req.reason not in states.REJECT_REASONS:
            raise _bad(
                "reason_required",
                "A rejection needs a reason from the list.",
                "Từ chối cần chọn lý do trong danh sách.",
                {"reasons": list(states.REJECT_REASONS)},
            )
        sets["closed_at"] = now
        if req.reason == "inappropriate_content":
            # the text is not fit for the public: the report leaves the public record
            sets["visibility"] = "hidden"
            data["to_visibility"] = "hidden"
    elif req.action == "transfer":
        await _check_transfer(session, principal, row, req)
        ack_due, resolve_due = await _deadlines(session, row.category_code, now)
        sets.update(
            ward_code=req.ward,
            assignee_id=None,
            acknowledged_at=None,
            ack_due_at=ack_due,
            resolve_due_at=resolve_due,
        )
        data.update(from_ward=row.ward_code, to_ward=req.ward)
    elif req.action == "merge":
        target = await _check_merge(session, principal, row, req)
        sets.update(duplicate_of=target.id, closed_at=now, assignee_id=None)
        data.update(into=target.code, into_id=str(target.id))
    elif req.action == "assign":
        if req.assignee is None:
            raise _bad("assignee_required", "Say whom to assign.", "Cần chọn người được giao.")
        await _check_assignee(session, row, req.assignee)
        sets["assignee_id"] = req.assignee
        data["assignee"] = str(req.assignee)
    elif req.action == "hold":
        if req.reason not in states.HOLD_REASONS:
            raise _bad(
                "reason_required",
                "Say what the case waits for: another agency or the resident.",
                "Cần chọn lý do tạm dừng: chờ cơ quan khác hoặc chờ người dân.",
                {"reasons": list(states.HOLD_REASONS)},
            )
        sets["hold_started_at"] = now
    elif req.action == "comment":
        if not req.message and not req.note:
            raise _bad(
                "comment_empty",
                "A comment needs a public message or an internal note.",
                "Cần nhập nội dung trả lời hoặc ghi chú nội bộ.",
            )
        is_public = bool(req.message)

    if row.status == ReportStatus.ON_HOLD and to != ReportStatus.ON_HOLD:
        await _end_hold(session, row, req.action, now, sets, data)

    if req.reason is not None:
        data.setdefault("reason", req.reason)

    updated = (
        await session.execute(
            update(Report)
            .where(Report.id == row.id, Report.version == row.version)
            .values(status=to, version=Report.version + 1, updated_at=now, **sets)
            .returning(Report.version, Report.ward_code, Report.assignee_id)
            # a statement over the table: no Report objects are loaded in this unit of work
            .execution_options(synchronize_session=False)
        )
    ).first()
    if updated is None:  # only without the row lock (another writer bumped the version)
        raise Conflict(
            "The case changed since you loaded it.",
            message_vi="Phản ánh đã được cập nhật bởi người khác; vui lòng tải lại.",
            code="version_conflict",
        )

    from_status = row.status
    for step, step_from, step_to in states.implied_steps(req.action, row.status):
        # recorded in the timeline at the same instant; the resident is told once, of the action itself
        await append_event(
            session,
            row.id,
            states.EVENT_KIND[step],
            actor_id=principal.id,
            actor_role=principal.role,
            from_status=step_from,
            to_status=step_to,
            data={"in_step_with": states.EVENT_KIND[req.action]},
        )
        from_status = step_to
    event = await append_event(
        session,
        row.id,
        states.EVENT_KIND[req.action],
        actor_id=principal.id,
        actor_role=principal.role,
        from_status=from_status,
        to_status=to,
        public_message=req.message,
        internal_note=req.note,
        reason=req.reason,
        data=data,
        is_public=is_public,
    )
    event_id = event.id
    if req.media_ids:
        try:
            await media.attach_to_report(
                session,
                media_ids=req.media_ids,
                owner_id=principal.id,
                report_id=row.id,
                event_id=event_id,
            )
        except media.MediaError as exc:
            raise AppError(
                exc.message, message_vi=exc.message_vi, code=exc.code, status_code=422, details=exc.details
            ) from None
    if req.action == "merge":
        await _carry_followers(session, row, sets["duplicate_of"])
    await session.commit()
    return Outcome(
        code=row.code,
        status=to,
        from_status=row.status,
        ward=updated.ward_code,
        version=updated.version,
        assignee=updated.assignee_id,
        event_id=event_id,
        allowed=states.allowed_actions(to),
    )


async def _end_hold(
    session: AsyncSession, row: Any, action: str, now: datetime, sets: dict[str, Any], data: dict[str, Any]
) -> None:
    """The case leaves `on_hold`: the hold's time is added up, and on resume the resolve deadline moves
    by the working time spent on hold (on the category's clock and calendar)."""
    since = row.hold_started_at
    if since is None:  # put on hold outside this service (an import): nothing to account for
        return
    sets.update(hold_started_at=None, hold_seconds=Report.hold_seconds + int((now - since).total_seconds()))
    data.update(held_since=since.isoformat(), held_seconds=int((now - since).total_seconds()))
    if action == "resume":
        due, working = await deadlines.resumed_due(
            session, row.category_code, held_since=since, resumed_at=now, resolve_due=row.resolve_due_at
        )
        data["held_working_seconds"] = int(working)
        if due is not None:
            sets["resolve_due_at"] = due
            data.update(from_resolve_due=row.resolve_due_at.isoformat(), to_resolve_due=due.isoformat())


async def _check_transfer(session: AsyncSession, principal: Principal, row: Any, req: Action) -> None:
    if not req.ward:
        raise _bad("ward_required", "Say which ward to transfer to.", "Cần chọn phường/xã nhận.")
    if not req.reason:
        raise _bad(
            "reason_required",
            "A transfer needs a reason.",
            "Chuyển phản ánh cần có lý do.",
            {"reasons": list(states.TRANSFER_REASONS)},
        )
    if req.ward == row.ward_code:
        raise _bad("same_ward", "The case is already in that ward.", "Phản ánh đã thuộc phường/xã này.")
    child = aliased(Area, name="c")
    leaf = await session.scalar(
        select(~exists().where(child.parent_code == Area.code)).where(Area.code == req.ward)
    )
    if not leaf:
        raise _bad(
            "unknown_ward",
            "No such ward (it must be a leaf area).",
            "Không có phường/xã này.",
            {"ward": req.ward},
        )
    if principal.role == "leader":
        # leaders move cases between the wards of their own area
        inside = await session.scalar(select(true()).where(area_code_clause(principal, req.ward)))
        if not inside:
            raise _bad(
                "ward_out_of_scope",
                "Leaders move cases between the wards of their own area.",
                "Lãnh đạo chỉ chuyển phản ánh giữa các phường/xã thuộc địa bàn mình.",
                {"ward": req.ward},
            )


async def _check_merge(session: AsyncSession, principal: Principal, row: Any, req: Action) -> Any:
    if not req.into:
        raise _bad("into_required", "Say which report to merge into.", "Cần chọn phản ánh gốc.")
    if req.into.strip().upper() == row.code:
        raise _bad("merge_self", "A report cannot be merged into itself.", "Không thể gộp vào chính nó.")
    target = await _in_scope_id(session, principal, req.into)
    if target is None:
        raise NotFound(
            "No such report to merge into.",
            message_vi="Không tìm thấy phản ánh gốc.",
            code="merge_target_not_found",
        )
    if target.status in (ReportStatus.DUPLICATE, ReportStatus.REJECTED):
        raise Conflict(
            "Cannot merge into a report that is itself closed as duplicate or rejected.",
            message_vi="Không thể gộp vào phản ánh đã bị gộp hoặc từ chối.",
            code="invalid_merge_target",
            details={"into": target.code, "status": target.status},
        )
    return target


async def _carry_followers(session: AsyncSession, row: Any, into_id: uuid.UUID) -> None:
    """The duplicate's followers, and its reporter, follow the report it was merged into."""
    followers = union(
        select(Follow.user_id).where(Follow.report_id == row.id),
        select(literal(row.reporter_id, Uuid()).label("user_id")),
    ).subquery("u")
    into_reporter = select(Report.reporter_id).where(Report.id == into_id).scalar_subquery()
    await session.execute(
        pg_insert(Follow)
        .from_select(
            ["report_id", "user_id", "created_at"],
            select(literal(into_id, Uuid()), followers.c.user_id, func.now()).where(
                followers.c.user_id.is_not(None), followers.c.user_id != into_reporter
            ),
        )
        .on_conflict_do_nothing()
    )
    followed = select(func.count()).select_from(Follow).where(Follow.report_id == into_id).scalar_subquery()
    await session.execute(
        update(Report)
        .where(Report.id == into_id)
        .values(follower_count=followed)
        .execution_options(synchronize_session=False)
    )


async def _check_assignee(session: AsyncSession, row: Any, assignee: uuid.UUID) -> None:
    """The assignee must be an officer or leader whose scope covers the case."""
    granted = granted_staff_ids(("officer", "leader"), ward_code=row.ward_code, agency_code=row.agency_code)
    ok = await session.scalar(select(literal(assignee, Uuid()).in_(granted)))
    if not ok:
        raise _bad(
            "assignee_out_of_scope",
            "That person cannot work on this case.",
            "Người này không phụ trách phản ánh này.",
            {"assignee": str(assignee)},
        )


@dataclass(frozen=True, slots=True)
class Options:
    """What the caller may do to a case now: the actions the state machine allows from its status,
    the reasons to choose from, and the people it may be assigned to."""

    code: str
    status: str
    version: int
    allowed: list[str]
    reject_reasons: list[str]
    transfer_reasons: list[str]
    assignees: list[tuple[uuid.UUID, str | None, str]]  # (id, display name, role)
    wards: list[tuple[str, str]]  # where it may be transferred: the other wards under the same parent


async def options(session: AsyncSession, principal: Principal, code: str) -> Options:
    """The case's workflow options for the caller (404 outside their scope, as for an action)."""
    row = (
        await session.execute(
            select(
                ReportAsR.code,
                ReportAsR.status,
                ReportAsR.version,
                ReportAsR.ward_code,
                ReportAsR.agency_code,
            ).where(ReportAsR.code == code.strip().upper(), scope_clause(principal))
        )
    ).first()
    if row is None:
        raise report_not_found()
    granted = granted_staff_ids(("officer", "leader"), ward_code=row.ward_code, agency_code=row.agency_code)
    people = await session.execute(
        select(User.id, User.display_name, User.role)
        .where(User.id.in_(granted))
        .order_by(User.display_name, User.username)
    )
    parent = select(Area.parent_code).where(Area.code == row.ward_code).scalar_subquery()
    wards = await session.execute(
        select(Area.code, Area.name)
        .where(Area.parent_code == parent, Area.is_leaf, Area.code != row.ward_code)
        .order_by(Area.name)
    )
    return Options(
        code=row.code,
        status=row.status,
        version=row.version,
        allowed=states.allowed_actions(row.status),
        reject_reasons=list(states.REJECT_REASONS),
        transfer_reasons=list(states.TRANSFER_REASONS),
        assignees=[(p.id, p.display_name, p.role) for p in people],
        wards=[(w.code, w.name) for w in wards],
    )
