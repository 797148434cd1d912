"""Moderation review endpoints (moderators and admins)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import roles
from api.access.tokens import Principal
from api.core.openapi import errors
from api.core.pagination import Cursor
from api.review import service as review
from api.review.schemas import ReviewIn, ReviewItem, ReviewOut, ReviewQueue


class ModerationController(Controller):
    path = "/v1/moderation"
    tags = ["moderation"]
    guards = [roles("moderator", "admin")]

    @get("/queue", responses=errors(400, 401, 403), operation_id="moderationQueue")
    async def queue(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        cursor: Cursor = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> ReviewQueue:
        """Reports held back by automatic moderation, in your scope, oldest first."""
        items, next_cursor = await review.queue(session, principal, cursor=cursor, limit=limit)
        return ReviewQueue(
            [
                ReviewItem(
                    i.code,
                    i.category_code,
                    i.description,
                    i.address,
                    i.ward_code,
                    i.status,
                    i.visibility,
                    i.created_at,
                    i.lat,
                    i.lng,
                    i.held_for,
                )
                for i in items
            ],
            next_cursor,
        )

    @post("/{code:str}", status_code=200, responses=errors(401, 403, 404, 409), operation_id="moderateReport")
    async def decide(
        self,
        code: FromPath[str],
        data: JSONBody[ReviewIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ReviewOut:
        """Publish or hide a report; writes a staff-only event."""
        visibility, event_id = await review.decide(session, principal, code, data.action, data.reason)
        return ReviewOut(code, visibility, event_id)
