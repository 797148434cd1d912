"""Attaching media to reports (and their events), and how media are shown.

What is shown never includes `private` (EXIF GPS and capture time); staff see only whether a photo
was taken far from the reported spot (`far_from_report`). Renditions are shown as short-lived signed
URLs; the original upload is never served.

Everyone but staff gets only the renditions that hide faces and plates, and none of those while they
are being made again (`blur_requested_at`: a moderator's new boxes, or a photo from before blurring).
Staff also get the unblurred copies ("large_original", "poster_original"), the boxes hidden
(`blur_boxes`) and, through `list_for_report`, the other reports the same picture was seen on (`same_as`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from media import sql
from media.blur import same_as
from media.config import MediaConfig, MediaError, current
from media.models import Media
from media.process import BLURRED_RENDITIONS, PUBLIC_RENDITIONS
from media.texts import refusal_text

PUBLIC_INFO = ("width", "height", "blurhash", "duration_s", "video_codec", "audio_codec")


def _err(code: str, en: str, vi: str, details: Any = None) -> MediaError:
    return MediaError(code, en, vi, details, status=422)


async def attach_to_report(
    session: AsyncSession,
    *,
    media_ids: Sequence[uuid.UUID],
    owner_id: uuid.UUID,
    report_id: uuid.UUID,
    event_id: uuid.UUID | None = None,
    config: MediaConfig | None = None,
) -> None:
    """Attach the owner's completed uploads to a report (or one of its events), in the caller's
    transaction (it does not commit). Raises MediaError naming what is wrong."""
    if not media_ids:
        return
    cfg = config or current()
    ids = list(media_ids)
    if len(set(ids)) != len(ids):
        raise _err("duplicate_media", "The same media id is listed twice.", "Một tệp được gửi hai lần.")
    rows = {
        m.id: m
        for m in (
            await session.execute(select(Media).where(Media.id.in_(ids)).order_by(Media.id).with_for_update())
        ).scalars()
    }
    missing = [str(i) for i in ids if i not in rows or rows[i].owner_id != owner_id]
    if missing:
        raise _err(
            "media_not_found",
            "Some media ids are unknown or not yours.",
            "Một số tệp không tồn tại hoặc không phải của bạn.",
            {"ids": missing},
        )
    now = datetime.now(UTC)
    for i in ids:
        m = rows[i]
        if m.status == "uploading":
            raise _err(
                "media_not_uploaded",
                "An upload was not completed (POST /v1/uploads/{id}/complete).",
                "Có tệp chưa tải lên xong.",
                {"id": str(i)},
            )
        if m.status == "rejected":
            why = (m.info or {}).get("refusal")
            raise _err(
                "media_rejected",
                f"A file was refused: {m.message or refusal_text(m.reason, why, english=True)}",
                f"Có tệp đã bị từ chối: {refusal_text(m.reason, why, english=False)}",
                {"id": str(i), "reason": m.reason},
            )
        if m.report_id is not None:
            raise _err(
                "media_already_attached",
                "A file is already attached to a report.",
                "Có tệp đã được đính kèm vào một phản ánh khác.",
                {"id": str(i)},
            )
        if m.expires_at <= now:
            raise _err(
                "media_expired", "An upload expired; send it again.", "Có tệp đã hết hạn.", {"id": str(i)}
            )
    event_cond = Media.event_id.is_(None) if event_id is None else Media.event_id == event_id
    counts: dict[str, int] = {
        kind: n
        for kind, n in (
            await session.execute(
                select(Media.kind, func.count())
                .where(Media.report_id == report_id, event_cond)
                .group_by(Media.kind)
            )
        ).all()
    }
    existing = sum(counts.values())
    for kind, limit, setting, en, vi in (
        ("photo", cfg.max_photos_per_report, "PHANANH_MAX_PHOTOS_PER_REPORT", "photos", "ảnh"),
        ("video", cfg.max_videos_per_report, "PHANANH_MAX_VIDEOS_PER_REPORT", "videos", "video"),
    ):
        total = counts.get(kind, 0) + sum(1 for i in ids if rows[i].kind == kind)
        if total > limit:
            raise _err(
                f"too_many_{kind}s",
                f"At most {limit} {en} per report (got {total}).",
                f"Mỗi phản ánh tối đa {limit} {vi} (đã gửi {total}).",
                {"limit": setting, "max": limit, "count": total},
            )
    for pos, i in enumerate(ids, start=existing):
        m = rows[i]
        m.report_id, m.event_id, m.position, m.attached_at = report_id, event_id, pos, now
    await session.flush()
    await update_distances(session, ids, cfg.far_from_report_m)


async def update_distances(session: AsyncSession, ids: Sequence[uuid.UUID], far_m: float) -> None:
    """Flag photos whose EXIF position is far from their report (reads the report's location)."""
    if ids:
        await session.execute(sql.DISTANCE, {"ids": list(ids), "far": far_m})


def public_renditions(m: Media) -> dict[str, Any]:
    """The renditions anyone may be shown: faces and plates hidden, none while being made again."""
    if m.status != "ready":
        return {}
    pending = m.blur_requested_at is not None
    return {
        name: r
        for name, r in m.renditions.items()
        if name in PUBLIC_RENDITIONS and not (pending and name in BLURRED_RENDITIONS)
    }


def render(
    m: Media, cfg: MediaConfig, *, staff: bool = False, owner: bool = False, english: bool = True
) -> dict[str, Any]:
    """A media item as the API shows it. `staff`: adds far_from_report, the unblurred copies and the
    blur boxes; `owner`/`staff`: attached. A refusal's `message` is in the reader's language."""
    out: dict[str, Any] = {"id": str(m.id), "kind": m.kind, "status": m.status}
    if m.status == "rejected":
        out["reason"] = m.reason
        # the English kept on the row names the decoder's own words; Vietnamese is built from the figures
        why = (m.info or {}).get("refusal")
        out["message"] = (m.message if english else None) or refusal_text(m.reason, why, english=english)
    if m.event_id is not None:
        out["event_id"] = str(m.event_id)
    shown = (m.renditions if m.status == "ready" else {}) if staff else public_renditions(m)
    out["renditions"] = {
        name: cfg.storage.read_url(r["key"], r["content_type"], cfg.url_ttl_s)
        for name, r in sorted(shown.items())
    }
    for k in PUBLIC_INFO:
        if m.info.get(k) is not None:
            out[k] = m.info[k]
    if staff:
        out["far_from_report"] = bool(m.far_from_report)
        out["blur_boxes"] = m.blur_boxes or []
        out["blur_pending"] = m.blur_requested_at is not None
    if owner or staff:
        out["attached"] = m.report_id is not None
    return out


async def list_for_report(
    session: AsyncSession,
    report_id: uuid.UUID,
    *,
    base_url: str,
    include_pending: bool = False,
    staff: bool = False,
    english: bool = True,
    config: MediaConfig | None = None,
    merged: Mapping[uuid.UUID, str] | None = None,
) -> list[dict[str, Any]]:
    """The report's media in order (the report's own first, then each event's). The public sees only
    `ready` media; `include_pending` (its reporter, staff) also shows processing and rejected ones.

    `merged` maps the reports merged into this one to their codes: their residents' ready photos and
    videos follow, each marked `from_report`, so the case carries all the evidence it was given.
    `staff` also gives each item `same_as`: the codes of other reports showing the same picture.
    """
    del base_url  # links are built by the configured storage (its own base URL or the bucket)
    stmt = select(Media).where(Media.report_id == report_id)
    if not include_pending:
        stmt = stmt.where(Media.status == "ready")
    stmt = stmt.order_by(Media.event_id.is_not(None), Media.attached_at, Media.position, Media.id)
    rows = list((await session.execute(stmt)).scalars())
    merged = merged or {}
    carried: list[Media] = []
    if merged:
        carried = list(
            (
                await session.execute(
                    select(Media)
                    .where(
                        Media.report_id.in_(list(merged)), Media.event_id.is_(None), Media.status == "ready"
                    )
                    .order_by(Media.attached_at, Media.position, Media.id)
                )
            ).scalars()
        )
    if not rows and not carried:
        return []
    cfg = config or current()
    seen = await same_as(session, [m.id for m in rows + carried]) if staff else {}

    def shown(m: Media) -> dict[str, Any]:
        item = render(m, cfg, staff=staff, english=english)
        if staff:
            item["same_as"] = seen.get(m.id, [])
        return item

    out = [shown(m) for m in rows]
    out += [{**shown(m), "from_report": merged[m.report_id]} for m in carried if m.report_id]
    return out


__all__ = ["attach_to_report", "list_for_report", "render", "update_distances"]
