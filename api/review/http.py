"""Moderation over HTTP: the review queue and moderators' decisions (moderators and admins), blur boxes
of photos; flags from officers and leaders."""

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
from api.core.pagination import Cursor
from api.review import blur
from api.review import service as review
from api.review.schemas import (
    BlurBoxOut,
    BlurIn,
    BlurOut,
    FlagIn,
    FlagOut,
    ReviewIn,
    ReviewItem,
    ReviewOut,
    ReviewQueue,
)


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
        """What waits for review in your scope — reports, and single messages (a reopen reason, a
        rating comment) —, longest waiting first."""
        items, next_cursor = await review.queue(session, principal, cursor=cursor, limit=limit)
        return ReviewQueue(
            [
                ReviewItem(
                    i.kind,
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
                    i.held_since,
                    i.event_id,
                    i.event_kind,
                    i.message,
                )
                for i in items
            ],
            next_cursor,
        )

    @post(
        "/{code:str}",
        status_code=200,
        responses=errors(401, 403, 404, 409, 422),
        operation_id="moderateReport",
    )
    async def decide(
        self,
        code: FromPath[str],
        data: JSONBody[ReviewIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ReviewOut:
        """Publish or hide a report, redact the text the public reads of it, or publish or hide one of
        its messages (`event_id`); writes a staff-only event."""
        d = await review.decide(
            session,
            principal,
            code,
            data.action,
            data.reason,
            event_id=data.event_id,
            description=data.description,
            address=data.address,
        )
        return ReviewOut(code.strip().upper(), d.visibility, d.event_id, d.message_event_id, d.text_status)


class FlagController(Controller):
    tags = ["moderation"]
    guards = [roles("officer", "leader", "moderator", "admin")]

    @post(
        "/v1/reports/{code:str}/flag",
        status_code=200,
        responses=errors(401, 403, 404, 409, 422),
        operation_id="flagReportText",
    )
    async def flag(
        self,
        code: FromPath[str],
        data: JSONBody[FlagIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> FlagOut:
        """Ask a moderator to review the report's text (it leaves the public until then), or one of
        its messages (`event_id`: that message alone)."""
        d = await review.flag(session, principal, code, data.reason, data.event_id)
        return FlagOut(code.strip().upper(), d.visibility, d.event_id, d.text_status)


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
        done = await blur.set_blur(session, principal, media_id, data.boxes)
        return BlurOut(
            media_id, [BlurBoxOut(b["box"], b["source"]) for b in done.boxes], "queued", done.event_id
        )
