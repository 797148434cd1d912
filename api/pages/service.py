"""What the public pages show: a report as the public reads it, and the wards' league table.

The report is the public view of `api.reports.views.render` (masked text, public events, blurred
photos): the page adds no reading of its own. The league table's figures are the leaders' figures
(`api.casework.stats.aggregates`, one definition of each), over the reports the public can see (the
map's predicate), per ward of an area, every ward listed even without a report.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ARRAY, Text, any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.casework import stats
from api.core import clock
from api.core.errors import AppError, NotFound
from api.core.inputs import check_instant
from api.core.settings import Settings
from api.pages.schemas import AreaRef, WardFigures, WardTable
from api.reports import sql as reports_sql
from api.reports.codes import ALPHABET
from api.reports.models import ReportAsR
from api.reports.views import ReportView, render
from api.reports.visibility import load_visible, normalise_code
from geo import Area

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366 + 1  # a longer period is a full export's job (GET /v1/export.csv)

# The table's columns, in order; each sorts the table (`sort=`), `name` by default.
SORTS = (
    "name",
    "received",
    "open",
    "overdue",
    "on_time_pct",
    "median_days_to_resolve",
    "reopen_rate",
    "mean_rating",
)
DIRS = ("asc", "desc")

_CODE = re.compile(f"PA-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def bad_param(name: str, why: str, why_vi: str) -> AppError:
    return AppError(
        f"Invalid '{name}': {why}",
        message_vi=f"Tham số '{name}' không hợp lệ: {why_vi}",
        code="invalid_parameter",
        details={"parameter": name},
    )


def area_not_found(area: str) -> NotFound:
    return NotFound(
        "No such area.", message_vi="Không tìm thấy địa bàn.", code="area_not_found", details={"area": area}
    )


# --- a report's page ---------------------------------------------------------------------------------


async def report_page(
    session: AsyncSession, settings: Settings, code: str, *, english: bool
) -> ReportView | None:
    """The public view of the report called `code`; None when there is none the public may see (a
    malformed code, an unknown one, one held for review or hidden) — all alike."""
    if len(code) > 32:
        return None
    code = normalise_code(code)
    if not _CODE.fullmatch(code):
        return None
    try:
        report, _ = await load_visible(session, None, code)
    except NotFound:
        return None
    return await render(session, settings, report, full=False, viewer=None, english=english)


PHOTO_SIZES = ("large", "thumb")


async def photo_link(
    session: AsyncSession, settings: Settings, code: str, media_id: uuid.UUID, size: str
) -> str | None:
    """Where a photo of the report's page is now (a signed link to its public, blurred rendition,
    which expires): the page and its Open Graph image name the photo by a lasting address instead.
    None unless the public view of the report shows that photo in that size."""
    if size not in PHOTO_SIZES:
        return None
    view = await report_page(session, settings, code, english=False)
    for m in view.media if view is not None else ():
        if m.get("id") == str(media_id) and m.get("kind") == "photo":
            link = m.get("renditions", {}).get(size)
            return str(link) if link else None
    return None


# --- the league table ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableQuery:
    area: str | None
    date_from: date
    date_to: date
    sort: str
    dir: str


def parse_table_query(
    *,
    area: str | None,
    date_from: str | None,
    date_to: str | None,
    sort: str | None,
    dir: str | None,
    today: date | None = None,
) -> TableQuery:
    """The table's query from its raw parameters (the HTML page's and the JSON's alike); 400 for a
    malformed date, a period backwards or longer than MAX_DAYS, an unknown column or direction.
    Dates are local days, inclusive; by default the DEFAULT_DAYS days up to today."""
    today = today or clock.local_date(clock.now_utc())
    end = _day("to", date_to) or today
    start = _day("from", date_from) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise bad_param("from", "must not be after 'to'", "không được sau 'to'")
    if (end - start).days + 1 > MAX_DAYS:
        raise bad_param(
            "from", f"the period is longer than {MAX_DAYS} days", f"khoảng thời gian dài quá {MAX_DAYS} ngày"
        )
    sort = sort or "name"
    if sort not in SORTS:
        raise bad_param("sort", f"one of {', '.join(SORTS)}", f"một trong {', '.join(SORTS)}")
    dir = dir or "asc"
    if dir not in DIRS:
        raise bad_param("dir", "asc or desc", "asc hoặc desc")
    return TableQuery(area or None, start, end, sort, dir)


def _day(name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise bad_param(name, "expected a date YYYY-MM-DD", "cần ngày dạng YYYY-MM-DD") from None
    check_instant(day, name)  # the one accepted range of days (api/core/inputs.py)
    return day


async def ward_table(
    session: AsyncSession, q: TableQuery, *, english: bool, now: datetime | None = None
) -> WardTable:
    """Every ward (leaf) of the area with its figures over the reports received in the period, in
    the order asked for (wards without a figure last, whichever the direction). No area: the one top
    area, or every ward when there are several."""
    now = now or clock.now_utc()
    area = await _area(session, q.area, english=english)
    wards_q = select(Area.code, Area.name, Area.name_ascii).where(Area.is_leaf)
    if area.code is not None:
        wards_q = wards_q.where(literal(area.code) == any_(Area.lineage))
    wards = (await session.execute(wards_q)).all()
    r = ReportAsR
    conds = [
        reports_sql.PUBLIC,
        r.created_at >= clock.local_midnight(q.date_from),
        r.created_at < clock.local_midnight(q.date_to + timedelta(days=1)),
    ]
    if area.code is not None:
        # the wards as a list: the planner then reads the period from the public list's index
        # (ix_reports_public_list) instead of every report of each ward, page by page
        conds.append(r.ward_code == any_(literal([w.code for w in wards], ARRAY(Text))))
    key = r.ward_code.label("key")
    found = {
        m["key"]: m
        for m in (
            row._mapping
            for row in await session.execute(
                select(key, *stats.aggregates(now)).where(*conds).group_by(r.ward_code)
            )
        )
    }
    rows = [
        (w.name_ascii.lower(), _figures(w.code, w.name, stats.to_row(w.code, found.get(w.code))))
        for w in wards
    ]
    rows.sort(key=lambda t: (t[0], t[1].name, t[1].code))  # by name first: the ties' order
    out = [f for _, f in rows]
    if q.sort != "name":
        measured = [f for f in out if getattr(f, q.sort) is not None]
        unmeasured = [f for f in out if getattr(f, q.sort) is None]
        measured.sort(key=lambda f: getattr(f, q.sort), reverse=q.dir == "desc")
        out = measured + unmeasured
    elif q.dir == "desc":
        out.reverse()
    return WardTable(area, q.date_from, q.date_to, q.sort, q.dir, out)


def _figures(code: str, name: str, row: stats.Row) -> WardFigures:
    days = None if row.median_resolve_hours is None else round(row.median_resolve_hours / 24, 1)
    return WardFigures(
        code=code,
        name=name,
        received=row.received,
        open=row.open,
        overdue=row.overdue,
        resolved=row.resolved,
        on_time_pct=row.resolved_on_time_pct,
        median_days_to_resolve=days,
        reopen_rate=row.reopen_rate,
        mean_rating=row.mean_rating,
        ratings=row.ratings,
    )


async def _area(session: AsyncSession, code: str | None, *, english: bool) -> AreaRef:
    if code is not None:
        # a NUL is no area's, and PostgreSQL refuses it in a text parameter
        ok = len(code) <= 64 and "\x00" not in code
        name = await session.scalar(select(Area.name).where(Area.code == code)) if ok else None
        if name is None:
            raise area_not_found(code)
        return AreaRef(code, name)
    roots = (
        await session.execute(select(Area.code, Area.name).where(Area.parent_code.is_(None)).limit(2))
    ).all()
    if len(roots) == 1:
        return AreaRef(roots[0].code, roots[0].name)
    return AreaRef(None, "All areas" if english else "Toàn thành phố")
