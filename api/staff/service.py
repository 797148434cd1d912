"""Staff accounts: creation, sign-in with lockout, administration. Callable without HTTP.

Rules:
- Usernames are case-free (stored lower-case, NFC). Passwords are argon2id hashes, computed off the
  event loop and with no database connection held: a hash takes tens of milliseconds of a core, and
  a burst of sign-ins holding connections meanwhile would starve every other request.
- Sign-in failures all give the same answer (`invalid_credentials`), whether the user does not exist,
  the password is wrong, the account is disabled or it is locked, so the answer reveals nothing.
  `login_max_failures` wrong passwords in a row lock the account for `login_lockout_minutes`;
  a success resets the count.
- Officers and leaders need a scope (at least one area or agency); moderators without any review
  everything; admins are unscoped (the rule itself: api/access/scope.py).
- Disabling a user or setting their password signs them out everywhere (refresh tokens revoked);
  disabling, a role change or a new password ends the access tokens already issued too, in every
  API process within moments (api/access/revocation.py). A role change keeps the refresh tokens:
  the next refresh gives a token of the new role.
- A leader may read the staff whose areas lie under their own areas.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import ARRAY, Text, any_, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.models import STAFF_ROLES, User, UserAgency, UserArea
from api.access.revocation import revoke_tokens
from api.access.scope import NEEDS_GRANT, holding_area_under_clause, staff_clause
from api.access.tokens import Principal
from api.accounts.models import RefreshToken
from api.accounts.service import IssuedTokens, issue_tokens
from api.catalogue.models import Agency
from api.core import pagination, ratelimit
from api.core.db import Database
from api.core.errors import Conflict, NotFound, Unauthorized, Unprocessable
from api.core.overload import Gate
from api.core.ratelimit import Limit
from api.core.settings import Settings
from api.core.text import nfc
from api.staff.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from geo import Area

# sign-in without the app's gate (the CLI, tests): a gate of its own, roomy
_UNGATED = Gate("password_hashing", 4, 1_000)

USERNAME = re.compile(r"[a-z0-9._@\-]{3,64}")


def invalid_credentials() -> Unauthorized:
    return Unauthorized(
        "Wrong username or password, or the account is locked for a while after too many attempts.",
        message_vi="Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang tạm khóa do nhập sai nhiều lần.",
        code="invalid_credentials",
    )


def user_not_found() -> NotFound:
    return NotFound("No such user.", message_vi="Không tìm thấy người dùng.", code="user_not_found")


def normalise_username(username: str) -> str:
    return (nfc(username) or "").lower()


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A user with their scope, as the admin screens show it."""

    user: User
    areas: list[str]
    agencies: list[str]


# --- scope checks -------------------------------------------------------------------------------


async def _check_codes(session: AsyncSession, table: str, codes: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    column = Area.code if table == "areas" else Agency.code
    found = set(
        (await session.scalars(select(column).where(column == any_(literal(wanted, ARRAY(Text)))))).all()
    )
    unknown = [c for c in wanted if c not in found]
    if unknown:
        what, what_vi = ("area", "khu vực") if table == "areas" else ("agency", "cơ quan")
        raise Unprocessable(
            f"Unknown {what} code(s): {', '.join(unknown)}.",
            message_vi=f"Mã {what_vi} không tồn tại: {', '.join(unknown)}.",
            code=f"unknown_{what}",
            details={"unknown": unknown},
        )
    return wanted


def _check_scope(role: str, areas: Sequence[str], agencies: Sequence[str]) -> None:
    if role in NEEDS_GRANT and not areas and not agencies:
        raise Unprocessable(
            "Officers and leaders need at least one area or agency.",
            message_vi="Cán bộ và lãnh đạo cần được gán ít nhất một khu vực hoặc cơ quan.",
            code="scope_required",
        )


async def _set_scope(
    session: AsyncSession, user_id: uuid.UUID, areas: Sequence[str] | None, agencies: Sequence[str] | None
) -> None:
    if areas is not None:
        await session.execute(delete(UserArea).where(UserArea.user_id == user_id))
        for code in areas:
            session.add(UserArea(user_id=user_id, area_code=code))
    if agencies is not None:
        await session.execute(delete(UserAgency).where(UserAgency.user_id == user_id))
        for code in agencies:
            session.add(UserAgency(user_id=user_id, agency_code=code))
    await session.flush()


async def _scopes(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[str]], dict[uuid.UUID, list[str]]]:
    areas: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    agencies: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    if not ids:
        return areas, agencies
    for uid, code in await session.execute(
        select(UserArea.user_id, UserArea.area_code)
        .where(UserArea.user_id.in_(ids))
        .order_by(UserArea.area_code)
    ):
        areas[uid].append(code)
    for uid, code in await session.execute(
        select(UserAgency.user_id, UserAgency.agency_code)
        .where(UserAgency.user_id.in_(ids))
        .order_by(UserAgency.agency_code)
    ):
        agencies[uid].append(code)
    return areas, agencies


async def _with_scopes(session: AsyncSession, users: Sequence[User]) -> list[StaffUser]:
    areas, agencies = await _scopes(session, [u.id for u in users])
    return [StaffUser(u, areas[u.id], agencies[u.id]) for u in users]


async def staff_user(session: AsyncSession, user_id: uuid.UUID) -> StaffUser | None:
    """A staff member with their scope; None for a resident, a disabled account or no account."""
    user = await session.get(User, user_id)
    if user is None or user.disabled or user.role == "resident":
        return None
    return (await _with_scopes(session, [user]))[0]


async def _revoke_sessions(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- accounts -----------------------------------------------------------------------------------


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    areas: Sequence[str] = (),
    agencies: Sequence[str] = (),
    display_name: str | None = None,
    locale: str = "vi",
) -> StaffUser:
    """Create a staff account and commit."""
    if role not in STAFF_ROLES:
        raise Unprocessable(
            f"Role must be one of {', '.join(STAFF_ROLES)}.",
            message_vi="Vai trò không hợp lệ.",
            code="invalid_role",
        )
    name = normalise_username(username)
    if not USERNAME.fullmatch(name) or not (MIN_LENGTH <= len(password) <= MAX_LENGTH):
        raise Unprocessable(
            f"Usernames are 3-64 letters, digits or . _ @ -; passwords {MIN_LENGTH}-{MAX_LENGTH} characters.",
            message_vi=f"Tên đăng nhập 3-64 ký tự (chữ, số, . _ @ -); mật khẩu {MIN_LENGTH}-{MAX_LENGTH} ký tự.",
            code="invalid_credentials_format",
        )
    digest = await to_thread.run_sync(hash_password, password)  # before the session's first statement
    area_codes = await _check_codes(session, "areas", areas)
    agency_codes = await _check_codes(session, "agencies", agencies)
    _check_scope(role, area_codes, agency_codes)
    taken = Conflict(
        f"The username {name!r} is taken.", message_vi=f"Tên đăng nhập {name!r} đã có.", code="username_taken"
    )
    if await session.scalar(select(User.id).where(func.lower(User.username) == name)) is not None:
        raise taken
    now = datetime.now(UTC)
    user = User(
        id=uuid.uuid4(),
        role=role,
        username=name,
        password_hash=digest,
        password_changed_at=now,
        display_name=display_name,
        locale=locale,
        disabled=False,
        failed_logins=0,
    )
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise taken from None
    await _set_scope(session, user.id, area_codes, agency_codes)
    await session.commit()
    return StaffUser(user, area_codes, agency_codes)


async def login(
    db: Database,
    settings: Settings,
    username: str,
    password: str,
    *,
    limits: Sequence[tuple[Limit, str]] = (),
    hashing: Gate | None = None,
) -> IssuedTokens:
    """Check a staff member's password and issue tokens; every failure is `invalid_credentials`.

    Three steps, so that no session (nor its connection) is held while argon2 runs: read the hash,
    verify it in a thread, then lock the row and write the outcome, unless the password was changed
    in between. `limits` are counted first, and committed (a refused attempt counts too). The hashes
    take turns at `hashing` (a flood of sign-ins leaves the cores to the other requests).
    """
    hashing = hashing or _UNGATED
    hashing.check_room()  # a flood is refused before it costs the database anything
    async with db.session() as session:
        if limits:
            await ratelimit.admit(session, limits)
        found = (
            await session.execute(
                select(User.id, User.password_hash).where(
                    func.lower(User.username) == normalise_username(username), User.role != "resident"
                )
            )
        ).one_or_none()
    stored = found.password_hash if found is not None else None
    ok = await hashing.run(verify_password, stored, password)
    if found is None:
        raise invalid_credentials()
    rehashed = None
    if ok and stored is not None and needs_rehash(stored):
        rehashed = await hashing.run(hash_password, password)
    async with db.session() as session:
        now = datetime.now(UTC)
        user = (
            await session.execute(select(User).where(User.id == found.id).with_for_update())
        ).scalar_one_or_none()
        if user is None or user.disabled or user.password_hash != stored:
            raise invalid_credentials()  # a password changed meanwhile was checked against the old one
        if user.locked_until is not None and user.locked_until > now:
            raise invalid_credentials()  # not counted: the lock does not grow while it holds
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= settings.login_max_failures:
                user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                user.failed_logins = 0
            await session.commit()
            raise invalid_credentials()
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if rehashed is not None:
            user.password_hash = rehashed
        issued = await issue_tokens(session, settings, user)
        await session.commit()
    return issued


async def list_users(
    session: AsyncSession,
    viewer: Principal,
    *,
    role: str | None = None,
    area: str | None = None,
    q: str | None = None,
    include_disabled: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[StaffUser], str | None]:
    """Staff accounts in username order, and the next page's cursor; leaders see only their scope."""
    stmt = select(User).where(User.role != "resident", staff_clause(viewer))
    if role:
        stmt = stmt.where(User.role == role)
    if area:
        stmt = stmt.where(holding_area_under_clause(area))
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            func.lower(User.username).like(like)
            | func.f_unaccent(func.coalesce(User.display_name, "")).like(func.f_unaccent(like))
        )
    if not include_disabled:
        stmt = stmt.where(User.disabled.is_(False))
    if cursor:
        (after,) = pagination.decode(cursor, tuple[str])
        stmt = stmt.where(User.username > after)
    rows = list((await session.execute(stmt.order_by(User.username).limit(limit + 1))).scalars())
    users, next_cursor = pagination.page(rows, limit, lambda u: (u.username,))
    return await _with_scopes(session, users), next_cursor


async def get_user(session: AsyncSession, viewer: Principal, user_id: uuid.UUID) -> StaffUser:
    stmt = select(User).where(User.id == user_id, User.role != "resident", staff_clause(viewer))
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is None:
        raise user_not_found()
    return (await _with_scopes(session, [user]))[0]


async def update_user(
    session: AsyncSession,
    actor: Principal,
    user_id: uuid.UUID,
    *,
    display_name: str | None = None,
    role: str | None = None,
    areas: Sequence[str] | None = None,
    agencies: Sequence[str] | None = None,
    disabled: bool | None = None,
    locale: str | None = None,
) -> StaffUser:
    """Change a staff account (admin). Admins cannot demote or disable themselves."""
    user = (
        await session.execute(
            select(User).where(User.id == user_id, User.role != "resident").with_for_update()
        )
    ).scalar_one_or_none()
    if user is None:
        raise user_not_found()
    if user.id == actor.id and ((role is not None and role != user.role) or disabled):
        raise Conflict(
            "You cannot change your own role or disable yourself; ask another admin.",
            message_vi="Bạn không thể tự đổi vai trò hoặc tự khóa tài khoản của mình.",
            code="self_change",
        )
    current_areas, current_agencies = await _scopes(session, [user.id])
    new_areas = await _check_codes(session, "areas", areas) if areas is not None else None
    new_agencies = await _check_codes(session, "agencies", agencies) if agencies is not None else None
    new_role = role or user.role
    _check_scope(
        new_role,
        new_areas if new_areas is not None else current_areas[user.id],
        new_agencies if new_agencies is not None else current_agencies[user.id],
    )
    now = datetime.now(UTC)
    if display_name is not None:
        user.display_name = display_name
    if locale is not None:
        user.locale = locale
    if role is not None and role != user.role:
        user.role = role
        await revoke_tokens(session, user.id)  # tokens carry the role: the old ones must go
    if disabled is not None:
        if disabled and not user.disabled:
            await _revoke_sessions(session, user.id, now)
            await revoke_tokens(session, user.id)
        user.disabled = disabled
    await _set_scope(session, user.id, new_areas, new_agencies)
    await session.commit()
    return (await _with_scopes(session, [user]))[0]


async def set_password(session: AsyncSession, user_id: uuid.UUID, password: str) -> None:
    """Set a new password (admin reset): unlocks the account and signs it out everywhere."""
    digest = await to_thread.run_sync(hash_password, password)  # before the row is locked
    user = (
        await session.execute(
            select(User).where(User.id == user_id, User.role != "resident").with_for_update()
        )
    ).scalar_one_or_none()
    if user is None:
        raise user_not_found()
    now = datetime.now(UTC)
    user.password_hash = digest
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    await _revoke_sessions(session, user.id, now)
    await revoke_tokens(session, user.id)
    await session.commit()
