"""Erasing what a report's media say about the people behind them, when the report's personal data goes.

Kept, because they are the public record of the case: the public renditions (metadata-free copies, as
served) and the public facts (`info`: size, blurhash, duration…), and staff's `far_from_report` flag.

Gone: every stored object that is not a public rendition (the original upload if it is still there, a
copy kept for staff only such as an unblurred one); the EXIF position and capture time (`private`) and
the distance computed from them; the hashes of the original file (they would recognise it on the phone
it came from); and the uploader, for the owners the caller names. Media never shown (still uploading
or processing, or refused) go entirely, objects and row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from media.config import MediaConfig, current
from media.models import Media
from media.process import PUBLIC_RENDITIONS


async def erase_personal_data(
    session: AsyncSession,
    report_ids: Sequence[uuid.UUID],
    *,
    owners: Collection[uuid.UUID] = (),
    config: MediaConfig | None = None,
) -> int:
    """Erase the personal data of these reports' media (see the module's text); returns how many media
    items were touched. `owners`: the uploaders to forget (staff who attached photos stay named).

    Runs in the caller's transaction (it does not commit). Objects are deleted from the store before the
    caller commits: a failed commit leaves rows naming objects that are gone, which the next attempt
    deletes again harmlessly, whereas the other order could leave objects no row remembers.
    """
    if not report_ids:
        return 0
    storage = (config or current()).storage
    rows = list(
        await session.scalars(
            select(Media).where(Media.report_id.in_(list(report_ids))).order_by(Media.id).with_for_update()
        )
    )
    for m in rows:
        await storage.delete(m.storage_key)
        for name, rendition in m.renditions.items():
            if m.status != "ready" or name not in PUBLIC_RENDITIONS:
                await storage.delete(rendition["key"])
        if m.status != "ready":
            await session.delete(m)
            continue
        m.renditions = {k: v for k, v in m.renditions.items() if k in PUBLIC_RENDITIONS}
        m.private = {}
        m.distance_from_report_m = None
        m.sha256 = m.received_sha256 = None
        if m.owner_id in owners:
            m.owner_id = None
    await session.flush()
    return len(rows)


__all__ = ["erase_personal_data"]
