"""The admin catalogue: categories (names, photo rule, questions, deadlines and their clock, routes to
agencies), agencies, and the admin's entries on the working calendar (days off, make-up working days).
Callable without HTTP.

Written with SQLAlchemy Core over the tables of the models (`api.reports.models`, `geo.Area`), which
are the one declaration of each table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue import deadlines
from api.catalogue.models import Agency, Category, CategoryRoute, Holiday
from api.catalogue.schemas import Deadlines, PublicCategory, PublicCategoryList
from api.core import clock, pagination
from api.core.errors import Conflict, NotFound, Unprocessable
from geo import Area

categories = cast(sa.Table, Category.__table__)
category_routes = cast(sa.Table, CategoryRoute.__table__)
agencies = cast(sa.Table, Agency.__table__)
holidays = cast(sa.Table, Holiday.__table__)
areas = cast(sa.Table, Area.__table__)


def category_not_found(code: str) -> NotFound:
    return NotFound(
        f"No category {code!r}.", message_vi=f"Không có lĩnh vực {code!r}.", code="category_not_found"
    )


# --- categories ---------------------------------------------------------------------------------


async def list_categories(session: AsyncSession, code: str | None = None) -> list[dict[str, Any]]:
    """Every category (active or not) with its routes, in display order."""
    stmt = sa.select(categories).order_by(categories.c.sort, categories.c.code)
    if code is not None:
        stmt = stmt.where(categories.c.code == code)
    rows = [dict(r._mapping) for r in await session.execute(stmt)]
    routes: dict[str, list[dict[str, str]]] = {r["code"]: [] for r in rows}
    if rows:
        for c, a, g in await session.execute(
            sa.select(
                category_routes.c.category_code, category_routes.c.area_code, category_routes.c.agency_code
            )
            .where(category_routes.c.category_code.in_(list(routes)))
            .order_by(category_routes.c.area_code, category_routes.c.agency_code)
        ):
            routes[c].append({"area": a, "agency": g})
    for r in rows:
        r["routes"] = routes[r["code"]]
        r["questions"] = list(r["questions"] or [])
    return rows


async def get_category(session: AsyncSession, code: str) -> dict[str, Any]:
    found = await list_categories(session, code)
    if not found:
        raise category_not_found(code)
    return found[0]


def _check_questions(questions: Sequence[Mapping[str, Any]] | None) -> None:
    if not questions:
        return
    keys = [q["key"] for q in questions]
    bad = sorted({k for k in keys if keys.count(k) > 1}) + [
        q["key"] for q in questions if q["type"] == "choice" and not q.get("options")
    ]
    if bad:
        raise Unprocessable(
            f"Questions need unique keys, and choices need options: {', '.join(bad)}.",
            message_vi=f"Câu hỏi phải có mã riêng, câu hỏi lựa chọn phải có các phương án: {', '.join(bad)}.",
            code="invalid_questions",
            details={"questions": bad},
        )


def _values(fields: Mapping[str, Any]) -> dict[str, Any]:
    _check_questions(fields.get("questions"))
    return {k: v for k, v in fields.items() if v is not None and k in categories.c and k != "updated_at"}


async def create_category(session: AsyncSession, fields: Mapping[str, Any]) -> dict[str, Any]:
    code = str(fields["code"])
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(categories).values(**_values(fields)))
    except IntegrityError:
        raise Conflict(
            f"The category {code!r} exists already.",
            message_vi=f"Lĩnh vực {code!r} đã có.",
            code="category_exists",
        ) from None
    await session.commit()
    return await get_category(session, code)


async def update_category(session: AsyncSession, code: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    values = _values(fields)
    values.pop("code", None)
    if values:
        result = await session.execute(
            sa.update(categories).where(categories.c.code == code).values(**values, updated_at=sa.func.now())
        )
        found = result.rowcount > 0  # type: ignore[attr-defined]
    else:
        found = (
            await session.scalar(sa.select(categories.c.code).where(categories.c.code == code)) is not None
        )
    if not found:
        raise category_not_found(code)
    await session.commit()
    return await get_category(session, code)


async def set_routes(session: AsyncSession, code: str, routes: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Replace the category's routes: (area code, agency code) pairs."""
    if (
        await session.scalar(sa.select(categories.c.code).where(categories.c.code == code).with_for_update())
        is None
    ):
        raise category_not_found(code)
    pairs = list(dict.fromkeys(routes))
    want_areas = {a for a, _ in pairs}
    want_agencies = {g for _, g in pairs}
    known_areas = set(
        (await session.execute(sa.select(areas.c.code).where(areas.c.code.in_(want_areas)))).scalars()
    )
    known_agencies = set(
        (
            await session.execute(sa.select(agencies.c.code).where(agencies.c.code.in_(want_agencies)))
        ).scalars()
    )
    unknown = sorted((want_areas - known_areas) | (want_agencies - known_agencies))
    if unknown:
        raise Unprocessable(
            f"Unknown area or agency code(s): {', '.join(unknown)}.",
            message_vi=f"Mã khu vực hoặc cơ quan không tồn tại: {', '.join(unknown)}.",
            code="unknown_code",
            details={"unknown": unknown},
        )
    await session.execute(sa.delete(category_routes).where(category_routes.c.category_code == code))
    if pairs:
        await session.execute(
            sa.insert(category_routes),
            [{"category_code": code, "area_code": a, "agency_code": g} for a, g in pairs],
        )
    await session.commit()
    return await get_category(session, code)


# --- agencies -----------------------------------------------------------------------------------


async def list_agencies(session: AsyncSession) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await session.execute(sa.select(agencies).order_by(agencies.c.code))]


async def upsert_agency(session: AsyncSession, code: str, name_vi: str, name_en: str) -> dict[str, Any]:
    from sqlalchemy.dialects.postgresql import insert

    stmt = insert(agencies).values(code=code, name_vi=name_vi, name_en=name_en)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["code"], set_={"name_vi": stmt.excluded.name_vi, "name_en": stmt.excluded.name_en}
        )
    )
    await session.commit()
    return {"code": code, "name_vi": name_vi, "name_en": name_en}


# --- holidays (the working calendar) ------------------------------------------------------------


def calendar_conflict(day: date, existing: Mapping[str, Any]) -> Conflict:
    """An entry for a day the calendar already says the same of, or that already has an admin entry."""
    what_en = "a day off" if existing["kind"] == deadlines.DAY_OFF else "a working day"
    what_vi = "ngày nghỉ" if existing["kind"] == deadlines.DAY_OFF else "ngày làm việc"
    return Conflict(
        f"{day} is already {what_en} ({existing['name']}); remove that entry first.",
        message_vi=f"Ngày {day} đã là {what_vi} ({existing['name']}); hãy xoá mục đó trước.",
        code="calendar_conflict",
        details={"day": day.isoformat(), "existing": {k: existing[k] for k in ("kind", "name", "source")}},
    )


def _usual(day: date) -> dict[str, Any]:
    """What the calendar says of `day` without the admin's entries: the package, then the weekdays."""
    name = deadlines.package_day_off(day)
    if name is not None:
        return {"kind": deadlines.DAY_OFF, "name": name, "source": deadlines.SOURCE_PACKAGE}
    made_up = deadlines.package_working_day(day)
    if made_up is not None:
        return {"kind": deadlines.WORKING_DAY, "name": made_up, "source": deadlines.SOURCE_PACKAGE}
    if day.weekday() in clock.office_hours().weekdays:
        return {"kind": deadlines.WORKING_DAY, "name": "Ngày làm việc", "source": "weekdays"}
    return {"kind": deadlines.DAY_OFF, "name": "Cuối tuần", "source": "weekdays"}


def _package_entries(year: int) -> list[dict[str, Any]]:
    days_off, working = deadlines.package_year(year)
    rows = [
        {"day": d, "kind": deadlines.DAY_OFF, "name": n, "source": deadlines.SOURCE_PACKAGE}
        for d, n in days_off.items()
    ]
    rows += [
        {"day": d, "kind": deadlines.WORKING_DAY, "name": n, "source": deadlines.SOURCE_PACKAGE}
        for d, n in working.items()
    ]
    return rows


async def list_holidays(
    session: AsyncSession, year: int, *, cursor: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    """The year's effective days off and extra working days, in date order, and the next page's
    cursor: the package's days, and the admin's entries (which win on the same date)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    after = None
    if cursor:
        (after,) = pagination.decode(cursor, tuple[date])
    admin = [
        {**dict(r._mapping), "source": deadlines.SOURCE_ADMIN}
        for r in await session.execute(
            sa.select(holidays)
            .where(holidays.c.day >= first, holidays.c.day <= last)
            .order_by(holidays.c.day)
        )
    ]
    by_day = {r["day"]: r for r in _package_entries(year)}
    by_day.update({r["day"]: r for r in admin})
    rows = [by_day[d] for d in sorted(by_day) if after is None or d > after]
    return pagination.page(rows[: limit + 1], limit, lambda r: (r["day"],))


async def add_holiday(
    session: AsyncSession,
    day: date,
    name: str,
    *,
    kind: str = deadlines.DAY_OFF,
    reason: str | None = None,
    decision: str | None = None,
) -> dict[str, Any]:
    """Add a day off or a working day (a make-up Saturday). Deadlines computed from now on count it.

    409 `calendar_conflict` when the date has an admin entry already, or when the calendar already
    says the same of it (a day off on Tết, a working day on a Tuesday)."""
    existing = (await session.execute(sa.select(holidays).where(holidays.c.day == day))).first()
    if existing is not None:
        raise calendar_conflict(day, {**existing._mapping, "source": deadlines.SOURCE_ADMIN})
    usual = _usual(day)
    if usual["kind"] == kind:
        raise calendar_conflict(day, usual)
    row = {"day": day, "name": name, "kind": kind, "reason": reason, "decision": decision}
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(holidays).values(**row))
    except IntegrityError:  # the same date, entered at the same moment by someone else
        raise calendar_conflict(day, {**row, "source": deadlines.SOURCE_ADMIN}) from None
    await session.commit()
    return {**row, "source": deadlines.SOURCE_ADMIN}


async def remove_holiday(session: AsyncSession, day: date) -> None:
    """Remove the admin's entry for `day` (the package's days stay: an entry can overrule them)."""
    result = await session.execute(sa.delete(holidays).where(holidays.c.day == day))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(
            f"{day} has no calendar entry of an admin.",
            message_vi=f"Ngày {day} không có mục lịch do quản trị viên nhập.",
            code="holiday_not_found",
        )
    await session.commit()


def _localise(question: dict[str, Any], english: bool) -> dict[str, Any]:
    out = {k: v for k, v in question.items() if k not in ("label_vi", "label_en")}
    out["label"] = question.get("label_en" if english else "label_vi") or question.get("label_vi", "")
    return out


async def public_categories(session: AsyncSession, *, english: bool) -> PublicCategoryList:
    """Active categories in display order, in one language."""
    rows = await session.scalars(
        select(Category).where(Category.active).order_by(Category.sort, Category.code)
    )
    return PublicCategoryList(
        [
            PublicCategory(
                code=c.code,
                name=c.name_en if english else c.name_vi,
                group=c.group_code,
                icon=c.icon,
                photo_required=c.photo_required,
                questions=[_localise(q, english) for q in c.questions or []],
                deadlines=Deadlines(c.ack_hours, c.resolve_value, c.resolve_unit, c.clock),
            )
            for c in rows
        ]
    )
