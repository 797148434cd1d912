"""Moderation review endpoints (moderators and admins): the queue, publish/hide, and blur boxes."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import roles
from api.access.tokens import Principal
from api.core.openapi import errors
from api.review import service as review
from api.review.schemas import (
    BlurBoxOut,
    BlurIn,
    BlurOut,
    ReviewIn,
    ReviewItem,
    ReviewOut,
    ReviewQueue,
)


class ModerationController(Controller):
    path = "/v1/moderation"
    tags = ["moderation"]
    guards = [roles("moderator", "admin")]

    @get("/queue", responses=errors(401, 403, 422), operation_id="moderationQueue")
    async def queue(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        after: FromQuery[str | None] = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> ReviewQueue:
        """Reports held back by automatic moderation, in your scope, oldest first."""
        items, next_after = await review.queue(session, principal, after=after, limit=limit)
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
            next_after,
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


class MediaBlurController(Controller):
    path = "/v1/media"
    tags = ["moderation"]
    guards = [roles("moderator", "admin")]

    @put(
        "/{media_id:uuid}/blur",
        status_code=202,
        responses=errors(401, 403, 404, 409, 422),
        operation_id="setMediaBlur",
    )
    async def set_blur(
        self,
        media_id: FromPath[uuid.UUID],
        data: JSONBody[BlurIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> BlurOut:
        """What a photo's public renditions (or a video's poster) hide: every box, `[x, y, w, h]` in
        fractions of the picture. Boxes found automatically that are sent back unchanged stay; a
        box left out is shown again. The public renditions are made again by the worker and the
        public sees none of them until then; staff keep the unblurred copy. Recorded on the report."""
        done = await review.set_blur(session, principal, media_id, data.boxes)
        return BlurOut(
            media_id, [BlurBoxOut(b["box"], b["source"]) for b in done.boxes], "queued", done.event_id
        )
