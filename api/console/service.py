"""The console's session: the staff sign-in, with the refresh token kept in a cookie instead of the
page. Callable without HTTP; the cookie itself is the controller's business."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, Text, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts import service as accounts
from api.accounts.service import IssuedTokens
from api.core.db import Database
from api.core.errors import Unauthorized
from api.core.overload import Gate
from api.core.ratelimit import Limit
from api.core.settings import Settings
from api.staff import service as staff
from api.staff.service import StaffUser
from geo import Area


@dataclass(frozen=True, slots=True)
class Signed:
    tokens: IssuedTokens
    who: StaffUser
    extent: list[float] | None


async def extent(session: AsyncSession, who: StaffUser) -> list[float] | None:
    """[west, south, east, north] of the boundaries under the user's areas (all of them when the user
    has no area): where the map opens. Not a scope rule: the tiles and figures apply the scope."""
    if not who.areas and who.agencies:
        return None  # an agency's cases may be anywhere: the map opens on them instead
    under = Area.lineage.op("&&")(literal(who.areas, ARRAY(Text))) if who.areas else true()
    box = select(func.ST_Extent(Area.geom).label("box")).where(Area.geom.is_not(None), under).subquery()
    row = (
        await session.execute(
            select(
                func.ST_XMin(box.c.box),
                func.ST_YMin(box.c.box),
                func.ST_XMax(box.c.box),
                func.ST_YMax(box.c.box),
            )
        )
    ).one()
    return None if row[0] is None else [float(v) for v in row]


def no_session() -> Unauthorized:
    return Unauthorized(
        "No console session: sign in again.",
        message_vi="Phiên làm việc đã hết, vui lòng đăng nhập lại.",
        code="invalid_refresh_token",
    )


async def sign_in(
    db: Database,
    settings: Settings,
    username: str,
    password: str,
    *,
    limits: Sequence[tuple[Limit, str]] = (),
    hashing: Gate | None = None,
) -> Signed:
    """The staff sign-in (`api.staff.service.login`: lockout, rate limit, one answer for every failure),
    and who signed in."""
    tokens = await staff.login(db, settings, username, password, limits=limits, hashing=hashing)
    async with db.session() as session:
        who = await staff.staff_user(session, tokens.user_id)
        if who is None:  # disabled between the two steps
            raise no_session()
        return Signed(tokens, who, await extent(session, who))


async def refresh(session: AsyncSession, settings: Settings, token: str | None) -> Signed:
    """Rotate the cookie's refresh token (a reused one revokes its family, `api.accounts.service.refresh`).
    A resident's token is refused and its family revoked: the console is for staff only."""
    if not token:
        raise no_session()
    tokens = await accounts.refresh(session, settings, token)
    who = await staff.staff_user(session, tokens.user_id)
    if who is None:
        await accounts.revoke_family(session, tokens.refresh_token)
        raise no_session()
    return Signed(tokens, who, await extent(session, who))


async def sign_out(session: AsyncSession, token: str | None) -> None:
    """The cookie's refresh token and its family stop working; no cookie is no error."""
    if token:
        await accounts.revoke_family(session, token)
