"""Issuing and rotating tokens, registering resident app installs, erasing a resident. Callable without HTTP.

An app install proves itself with its device id and the secret the app generated at install: the id
alone signs nobody in. Installs registered before secrets existed have none stored; such an install
gets one on its next refresh, its refresh token vouching for it, and until then its id cannot be
registered again by anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.access.models import User
from api.access.revocation import revoke_tokens
from api.access.tokens import Principal, encode_access, hash_refresh_token, new_refresh_token
from api.accounts.models import AppInstall, RefreshToken
from api.core import ratelimit
from api.core.errors import AppError, Forbidden, Unauthorized
from api.core.ratelimit import Limit
from api.core.settings import Settings
from api.core.text import nfc
from api.reports.models import Report


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: uuid.UUID
    role: str


async def issue_tokens(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    """A new access token and a refresh token in `family_id` (a new family for a fresh sign-in).

    The caller commits.
    """
    token, digest = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=digest,
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    access = encode_access(Principal(user.id, user.role), settings.jwt_secret, settings.access_token_ttl_s)
    return IssuedTokens(access, token, settings.access_token_ttl_s, user.id, user.role)


def hash_device_secret(secret: str) -> bytes:
    """What is stored of a device secret. SHA-256, neither slow nor keyed: the app draws the secret
    at random, at least 32 characters of it, so a leaked hash cannot be reversed by guessing (slow
    hashes such as argon2 protect guessable passwords, and would cost a core's time per
    registration); unkeyed, so rotating PHANANH_JWT_SECRET does not lock out every install."""
    return hashlib.sha256(secret.encode()).digest()


_NO_SECRET = b"\0" * 32  # stands in for a missing stored hash: compared all the same, never equal


def invalid_device_credentials() -> Unauthorized:
    return Unauthorized(
        "This device could not be signed in: its id or secret is not right.",
        message_vi="Không thể đăng nhập thiết bị này: mã thiết bị hoặc khoá bí mật không đúng.",
        code="invalid_device_credentials",
    )


def _same_secret(stored: bytes | None, digest: bytes) -> bool:
    return hmac.compare_digest(stored or _NO_SECRET, digest) and stored is not None


async def register_install(
    session: AsyncSession,
    settings: Settings,
    *,
    device_id: str,
    device_secret: str | None,
    platform: str,
    locale: str,
    app_version: str | None,
    limits: Sequence[tuple[Limit, str]] = (),
) -> IssuedTokens:
    """Register (or re-register, after a lost response) an app install and sign it in.

    A new device id becomes a new resident, its secret stored. The same id with the same secret is
    the same resident, so a retried registration is harmless. The same id with another secret, or
    without one, or an install that has no secret stored yet, is `invalid_device_credentials`: one
    answer for all, which does not say whether the id exists. `limits` are counted first, and
    committed (a refused attempt counts too).
    """
    if limits:
        await ratelimit.admit(session, limits)
    if device_secret is None:
        raise invalid_device_credentials()  # before any lookup: nothing to tell about the id
    digest = hash_device_secret(device_secret)
    install = await session.get(AppInstall, device_id, with_for_update=True)
    if install is None:
        try:
            async with session.begin_nested():  # two first registrations racing: one wins
                user = User(id=uuid.uuid4(), role="resident", locale=locale)
                session.add(user)
                await session.flush()
                session.add(
                    AppInstall(
                        device_id=device_id,
                        user_id=user.id,
                        platform=platform,
                        locale=locale,
                        app_version=app_version,
                        secret_hash=digest,
                    )
                )
                await session.flush()
        except IntegrityError:
            install = await session.get(AppInstall, device_id, with_for_update=True, populate_existing=True)
            if install is None:
                raise
    if install is not None:
        if not _same_secret(install.secret_hash, digest):
            raise invalid_device_credentials()
        user_or_none = await session.get(User, install.user_id)
        if user_or_none is None or user_or_none.disabled:
            raise Unauthorized("This device is blocked.", message_vi="Thiết bị này đã bị khóa.")
        user = user_or_none
        install.platform, install.locale, install.app_version = platform, locale, app_version
        install.last_seen_at = datetime.now(UTC)
        user.locale = locale
    issued = await issue_tokens(session, settings, user)
    await session.commit()
    return issued


async def _prove_installs(session: AsyncSession, user_id: uuid.UUID, device_secret: str) -> None:
    """At a refresh with a device secret: an install of the user that has none takes this one (the
    refresh token vouches for the caller); one that has a secret must be sent the same."""
    digest = hash_device_secret(device_secret)
    installs = (
        await session.execute(select(AppInstall).where(AppInstall.user_id == user_id).with_for_update())
    ).scalars()
    for install in installs:
        if install.secret_hash is None:
            install.secret_hash = digest
        elif not _same_secret(install.secret_hash, digest):
            raise invalid_device_credentials()


async def refresh(
    session: AsyncSession, settings: Settings, token: str, device_secret: str | None = None
) -> IssuedTokens:
    """Rotate a refresh token. Presenting one already used revokes its whole family (theft signal).

    With `device_secret`, the resident's install takes it if it has none yet (an install registered
    before secrets existed); one that has a secret must be sent the same one, else
    `invalid_device_credentials` and the refresh token stays unused.
    """
    now = datetime.now(UTC)
    row = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token)).with_for_update()
        )
    ).scalar_one_or_none()
    invalid = Unauthorized(
        "The refresh token is not valid; sign in again.",
        message_vi="Phiên đăng nhập không còn hiệu lực, vui lòng đăng nhập lại.",
        code="invalid_refresh_token",
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise invalid
    if row.used_at is not None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await session.commit()
        raise invalid
    user = await session.get(User, row.user_id)
    if user is None or user.disabled:
        raise invalid
    if device_secret is not None:
        await _prove_installs(session, user.id, device_secret)
    row.used_at = now
    issued = await issue_tokens(session, settings, user, family_id=row.family_id)
    await session.commit()
    return issued


async def revoke_family(session: AsyncSession, token: str) -> None:
    """Sign out: the presented refresh token's family can no longer be used."""
    row = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
        )
    ).scalar_one_or_none()
    if row is not None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        await session.commit()


_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")


async def update_profile(session: AsyncSession, user_id: uuid.UUID, changes: dict[str, str | None]) -> User:
    """Set the given profile fields (NFC, trimmed); a Vietnamese phone number is checked for shape."""
    user = await session.get(User, user_id)
    if user is None or user.disabled:
        raise Unauthorized("This account no longer exists.", message_vi="Tài khoản không còn tồn tại.")
    for name, value in changes.items():
        if value is not None:
            value = nfc(value)
        if name == "phone" and value is not None:
            value = re.sub(r"[\s.\-]", "", value)
            if not _PHONE.match(value):
                raise AppError(
                    "Enter a Vietnamese phone number, e.g. 0901234567.",
                    message_vi="Số điện thoại không hợp lệ (ví dụ 0901234567).",
                    code="invalid_phone",
                    details={"field": "phone"},
                )
        setattr(user, name, value if name != "locale" else (value or "vi"))
    await session.commit()
    return user


async def erase_resident(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The resident leaves: their personal data goes, their reports stay as anonymous public record.

    Name and phone are cleared, every report they made becomes anonymous, their push tokens and app
    installs are forgotten (the same phone registering again starts a new, unrelated resident), their
    refresh tokens are revoked, the account is disabled and its access tokens are refused from now on
    in every API process (api/access/revocation.py). Reports are kept because the ward's work
    on them (and other residents following them) does not end with the reporter's account.
    """
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or user.disabled:
        raise Unauthorized("This account no longer exists.", message_vi="Tài khoản không còn tồn tại.")
    if user.role != "resident":
        raise Forbidden(
            "Staff accounts are removed by an administrator.",
            message_vi="Tài khoản cán bộ do quản trị viên xoá.",
            code="staff_account",
        )
    user.display_name = user.phone = None
    user.disabled = True
    await session.execute(update(Report).where(Report.reporter_id == user_id).values(anonymous=True))
    await session.execute(delete(AppInstall).where(AppInstall.user_id == user_id))
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await push.remove_all_devices(session, user_id=user_id)
    await revoke_tokens(session, user_id)
    await session.commit()
