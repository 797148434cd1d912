"""The public pages over HTTP: a report's page (GET /r/{code}, where its QR code points), the wards'
league table (GET /transparency) and its JSON (GET /v1/public/wards). No sign-in; short caching with
an ETag, a 304 for a client that has the same bytes."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.errors import AppError, wants_english
from api.core.openapi import PUBLIC, errors, success
from api.core.settings import Settings
from api.pages import html, service
from api.pages.schemas import WardTable

HTML = "text/html; charset=utf-8"
REPORT_MAX_AGE = 60  # a report changes as it is handled: a minute old at most
TABLE_MAX_AGE = 300
PHOTO_MAX_AGE = 600

# The JSON's parameters are bounded by the framework (its 400 is the one error shape); the pages take
# any text and leave it to the service, whose 400 they show as a page.
Text = Annotated[str | None, QueryParameter(max_length=100)]
From = Annotated[str | None, QueryParameter(name="from", max_length=20)]
To = Annotated[str | None, QueryParameter(name="to", max_length=20)]
AnyFrom = Annotated[str | None, QueryParameter(name="from")]
AnyTo = Annotated[str | None, QueryParameter(name="to")]

_encode = msgspec.json.Encoder().encode


def english(request: Request[Any, Any, Any], lang: str | None) -> bool:
    """`?lang=en|vi` first (a link can carry it), then Accept-Language; Vietnamese by default."""
    if lang in ("en", "vi"):
        return lang == "en"
    return wants_english(request)


# Defence in depth behind the escaping: no script, no plugin, nothing framed; photos come from the
# media store, wherever it is.
SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def cached(request: Request[Any, Any, Any], body: bytes, media_type: str, max_age: int) -> Response[bytes]:
    """`body` with its ETag and a public max-age; a 304 without a body when If-None-Match has it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Language"}
    if media_type == HTML:
        headers.update(SECURITY)
    sent = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]
    if etag in sent or "*" in sent:
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(body, headers=headers, media_type=media_type)


def html_answer(body: bytes, status: int) -> Response[bytes]:
    return Response(
        body, status_code=status, media_type=HTML, headers={"Cache-Control": "no-store", **SECURITY}
    )


class PublicPagesController(Controller):
    include_in_schema = False  # pages for people; their data is GET /v1/reports/{code}, /v1/public/wards

    @get("/r/{code:str}", security=PUBLIC, media_type=HTML)
    async def report(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        lang: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """A report as the public reads it; a plain 404 page when there is none to show."""
        en = english(request, lang)
        view = await service.report_page(session, settings, code, english=en)
        if view is None:
            body = html.message_page("not_found", "not_found_text", english=en, path=f"/r/{quote(code)}")
            return html_answer(body, 404)
        url = f"{settings.base_url}/r/{view.code}"
        page = html.report_page(view, english=en, url=url, base_url=settings.base_url)
        return cached(request, page, HTML, REPORT_MAX_AGE)

    @get("/r/{code:str}/photo/{media_id:uuid}/{size:str}", security=PUBLIC, media_type=HTML)
    async def photo(
        self,
        code: FromPath[str],
        media_id: FromPath[uuid.UUID],
        size: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """A photo of the page: a redirect to its blurred rendition's current link."""
        link = await service.photo_link(session, settings, code, media_id, size)
        if link is None:
            body = html.message_page("not_found", "not_found_text", english=False, path="/transparency")
            return html_answer(body, 404)
        # cached for less than the link lives
        max_age = max(0, min(PHOTO_MAX_AGE, settings.media_url_ttl_s // 2))
        return Response(
            b"",
            status_code=302,
            headers={"Location": link, "Cache-Control": f"public, max-age={max_age}"},
            media_type=HTML,
        )

    @get("/transparency", security=PUBLIC, media_type=HTML)
    async def transparency(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        area: FromQuery[str | None] = None,
        date_from: AnyFrom = None,
        date_to: AnyTo = None,
        sort: FromQuery[str | None] = None,
        dir: FromQuery[str | None] = None,
        lang: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The wards' league table; a plain 400 (404) page for a bad parameter (an unknown area)."""
        en = english(request, lang)
        query = {
            k: v
            for k, v in {
                "area": area,
                "from": date_from,
                "to": date_to,
                "sort": sort,
                "dir": dir,
                "lang": lang,
            }.items()
            if v
        }
        try:
            q = service.parse_table_query(area=area, date_from=date_from, date_to=date_to, sort=sort, dir=dir)
            table = await service.ward_table(session, q, english=en)
        except AppError as exc:
            title = html.word("area_not_found" if exc.status_code == 404 else "bad_request", en)
            body = html.error_page(
                title, exc.message if en else exc.message_vi, english=en, path="/transparency", query={}
            )
            return html_answer(body, exc.status_code)
        return cached(request, html.table_page(table, english=en, query=query), HTML, TABLE_MAX_AGE)


class PublicFiguresController(Controller):
    tags = ["public"]

    @get(
        "/v1/public/wards",
        security=PUBLIC,
        responses={**success(200, WardTable), **errors(400, 404)},
        operation_id="publicWardTable",
    )
    async def wards(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        area: Text = None,
        date_from: From = None,
        date_to: To = None,
        sort: Text = None,
        dir: Text = None,
    ) -> Response[bytes]:
        """Every ward of `area` (default: the top area) with its figures over the public reports
        received from `from` to `to` (local dates, inclusive; default the last 90 days): received,
        open, overdue, on-time %, median days to resolve, reopen rate, mean rating. Sorted by `sort`
        (a column, `name` by default) and `dir`. Cached publicly with an ETag (If-None-Match → 304)."""
        q = service.parse_table_query(area=area, date_from=date_from, date_to=date_to, sort=sort, dir=dir)
        table = await service.ward_table(session, q, english=wants_english(request))
        return cached(request, _encode(table), "application/json", TABLE_MAX_AGE)
