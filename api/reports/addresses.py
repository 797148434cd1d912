"""What staff read beside a resident's address written the pre-2025 way: the 2025 ward it names."""

from __future__ import annotations

import msgspec
from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo import Area
from geo.addresses import to_2025


class Address2025(msgspec.Struct):
    """`code`/`name`: the 2025 ward or commune (the name as our areas table has it when the code is
    one of ours: `known`); `confidence`: "high" (the old ward went whole into it, or the case's own
    ward is the part it names) or "medium" (the old ward was split; the part that took most of it);
    `old`: the old ward and district as read from the text."""

    code: str
    name: str
    confidence: str
    old: str
    known: bool


async def address_2025(
    session: AsyncSession, address: str | None, ward_code: str | None
) -> Address2025 | None:
    """None when the address names no pre-2025 ward and district (or one the table does not know)."""
    if not address:
        return None
    # the first call loads the package's tables (a second or more): off the event loop
    mapped = await to_thread.run_sync(to_2025, address, ward_code)
    if mapped is None:
        return None
    ours = await session.scalar(select(Area.name).where(Area.code == mapped.code))
    return Address2025(
        code=mapped.code,
        name=ours if ours is not None else mapped.name,
        confidence=mapped.confidence,
        old=f"{mapped.old_ward}, {mapped.old_district}",
        known=ours is not None,
    )
