"""GET /v1/categories: localised, cacheable with ETag (apps fetch it on every start)."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.errors import wants_english
from api.core.openapi import PUBLIC
from api.reports.models import Category


class Deadlines(msgspec.Struct):
    acknowledge_hours: int
    resolve_value: int
    resolve_unit: str  # "hours" | "days" (working days)


class CategoryOut(msgspec.Struct):
    code: str
    name: str
    group: str | None
    icon: str | None
    photo_required: bool
    questions: list[dict[str, Any]]
    deadlines: Deadlines


class CategoryList(msgspec.Struct):
    items: list[CategoryOut]


def _localise(question: dict[str, Any], english: bool) -> dict[str, Any]:
    out = {k: v for k, v in question.items() if k not in ("label_vi", "label_en")}
    out["label"] = question.get("label_en" if english else "label_vi") or question.get("label_vi", "")
    return out


class CategoriesController(Controller):
    path = "/v1/categories"
    tags = ["categories"]

    @get("", security=PUBLIC, operation_id="listCategories")
    async def list_categories(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[CategoryList]:
        """Active categories in display order, in the language of `Accept-Language` (vi or en)."""
        english = wants_english(request)
        rows = await session.scalars(
            select(Category).where(Category.active).order_by(Category.sort, Category.code)
        )
        body = CategoryList(
            [
                CategoryOut(
                    code=c.code,
                    name=c.name_en if english else c.name_vi,
                    group=c.group_code,
                    icon=c.icon,
                    photo_required=c.photo_required,
                    questions=[_localise(q, english) for q in c.questions or []],
                    deadlines=Deadlines(c.ack_hours, c.resolve_value, c.resolve_unit),
                )
                for c in rows
            ]
        )
        encoded = msgspec.json.encode(body)
        etag = '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300", "Vary": "Accept-Language"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(None, status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(body, headers=headers)
