"""Staff sign-in and user administration (thin: the rules live in `api.staff.service`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import admin_only, roles
from api.access.tokens import Principal
from api.accounts.http import tokens_out
from api.accounts.schemas import TokensOut
from api.core.db import Database
from api.core.openapi import PUBLIC, errors
from api.core.pagination import Cursor
from api.core.ratelimit import Limits
from api.core.settings import Settings
from api.staff import service
from api.staff.schemas import LoginIn, PasswordIn, StaffRole, UserIn, UserList, UserOut, UserPatch


def user_out(s: service.StaffUser) -> UserOut:
    u = s.user
    return UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        areas=s.areas,
        agencies=s.agencies,
        disabled=u.disabled,
        locked_until=u.locked_until,
        last_login_at=u.last_login_at,
        created_at=u.created_at,
    )


class StaffLoginController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post("/login", status_code=200, security=PUBLIC, responses=errors(401, 429), operation_id="staffLogin")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> TokensOut:
        """Staff sign-in with username and password. Every failure answers the same 401
        (`invalid_credentials`); repeated failures lock the account for a while."""
        # the database, not a session: the service opens its own around the password check
        limits: Limits = request.app.state.limits
        client_ip = request.client.host if request.client else "unknown"
        return tokens_out(
            await service.login(
                database,
                settings,
                data.username,
                data.password,
                limits=((limits.login_ip, client_ip),),
                hashing=request.app.state.hash_gate,
            )
        )


class UsersController(Controller):
    """Staff accounts. Admins manage them; leaders may read the staff of their own areas."""

    path = "/v1/admin/users"
    tags = ["admin"]

    @get(
        "",
        guards=[roles("admin", "leader")],
        responses=errors(400, 401, 403),
        operation_id="listUsers",
    )
    async def list_users(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        role: FromQuery[StaffRole | None] = None,
        area: FromQuery[str | None] = None,
        q: FromQuery[Annotated[str | None, Parameter(max_length=64)]] = None,
        include_disabled: FromQuery[bool] = True,
        cursor: Cursor = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> UserList:
        """Staff accounts in username order; `next_cursor` pages on."""
        users, next_cursor = await service.list_users(
            session,
            principal,
            role=role,
            area=area,
            q=q,
            include_disabled=include_disabled,
            cursor=cursor,
            limit=limit,
        )
        return UserList([user_out(u) for u in users], next_cursor)

    @post("", guards=[admin_only], responses=errors(401, 403, 409, 422), operation_id="createUser")
    async def create_user(self, data: JSONBody[UserIn], session: NamedDependency[AsyncSession]) -> UserOut:
        """Create a staff account with its role and scope (areas and/or agencies)."""
        return user_out(
            await service.create_user(
                session,
                username=data.username,
                password=data.password,
                role=data.role,
                areas=data.areas,
                agencies=data.agencies,
                display_name=data.display_name,
                locale=data.locale,
            )
        )

    @get(
        "/{user_id:uuid}",
        guards=[roles("admin", "leader")],
        responses=errors(401, 403, 404),
        operation_id="getUser",
    )
    async def get_user(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> UserOut:
        """One staff account (a leader gets 404 for staff outside their areas)."""
        return user_out(await service.get_user(session, principal, user_id))

    @patch(
        "/{user_id:uuid}",
        guards=[admin_only],
        responses=errors(401, 403, 404, 409, 422),
        operation_id="updateUser",
    )
    async def update_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatch],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> UserOut:
        """Change role, scope (areas/agencies replace the lists), display name, or disable/enable."""
        return user_out(
            await service.update_user(
                session,
                principal,
                user_id,
                display_name=data.display_name,
                role=data.role,
                areas=data.areas,
                agencies=data.agencies,
                disabled=data.disabled,
                locale=data.locale,
            )
        )

    @post(
        "/{user_id:uuid}/password",
        status_code=204,
        guards=[admin_only],
        responses=errors(401, 403, 404),
        operation_id="resetUserPassword",
    )
    async def reset_password(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[PasswordIn],
        session: NamedDependency[AsyncSession],
    ) -> None:
        """Set a new password: unlocks the account and signs it out of every device."""
        await service.set_password(session, user_id, data.password)
