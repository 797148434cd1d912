"""The console's HTTP face: its cookie session (/v1/console/session), its settings for the page
(/v1/console/config) and the built pages themselves (/console/)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from api.console import pages, service
from api.console.schemas import ConfigOut, ConsoleUser, SessionOut, SignInIn
from api.core.db import Database
from api.core.errors import NotFound
from api.core.openapi import PUBLIC, errors
from api.core.ratelimit import Limits
from api.core.settings import Settings

# The refresh token's cookie: sent only to the session routes, never readable by the page's script.
COOKIE = "phananh_console"
COOKIE_PATH = "/v1/console/session"


def _cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path=COOKIE_PATH,
        max_age=max_age,
        httponly=True,
        secure=True,  # browsers keep Secure cookies on http://localhost and 127.0.0.1 too
        samesite="strict",
    )


def _session_out(signed: service.Signed, settings: Settings) -> Response[SessionOut]:
    u = signed.who.user
    body = SessionOut(
        access_token=signed.tokens.access_token,
        expires_in=signed.tokens.expires_in,
        user=ConsoleUser(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            areas=signed.who.areas,
            agencies=signed.who.agencies,
            locale=u.locale,
        ),
        extent=signed.extent,
    )
    return Response(
        body,
        cookies=[_cookie(settings, signed.tokens.refresh_token, settings.refresh_token_ttl_s)],
        headers={"Cache-Control": "no-store"},
    )


def _gone(settings: Settings) -> Cookie:
    return _cookie(settings, "", 0)


class ConsoleSessionController(Controller):
    path = "/v1/console"
    tags = ["console"]

    @post(
        "/session",
        status_code=200,
        security=PUBLIC,
        responses=errors(401, 429),
        operation_id="consoleSignIn",
    )
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SignInIn],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[SessionOut]:
        """Staff sign-in for the web console: the access token in the body, the refresh token in an
        HttpOnly, Secure, SameSite=Strict cookie limited to these session routes. Failures are those of
        POST /v1/auth/login (one 401 `invalid_credentials`, lockout, rate limit)."""
        limits: Limits = request.app.state.limits
        client_ip = request.client.host if request.client else "unknown"
        signed = await service.sign_in(
            database,
            settings,
            data.username,
            data.password,
            limits=((limits.login_ip, client_ip),),
            hashing=request.app.state.hash_gate,
        )
        return _session_out(signed, settings)

    @post(
        "/session/refresh",
        status_code=200,
        security=PUBLIC,
        responses=errors(401),
        operation_id="consoleRefresh",
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[SessionOut]:
        """A new access token for the session cookie, which rotates (a reused cookie ends the session
        everywhere). Without a good cookie: 401 `invalid_refresh_token`."""
        return _session_out(await service.refresh(session, settings, request.cookies.get(COOKIE)), settings)

    @delete("/session", status_code=204, security=PUBLIC, operation_id="consoleSignOut")
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[None]:
        """Sign out: the cookie's session stops working and the cookie is cleared."""
        await service.sign_out(session, request.cookies.get(COOKIE))
        return Response(None, status_code=204, cookies=[_gone(settings)])

    @get("/config", security=PUBLIC, operation_id="consoleConfig")
    async def config(self, settings: NamedDependency[Settings]) -> ConfigOut:
        """What the console's pages need to know of the server: the street basemap's style, if any."""
        return ConfigOut(map_style_url=settings.map_style_url or None)


class ConsolePagesController(Controller):
    """The built console. Public files: what a page may show comes from the API, behind sign-in."""

    path = "/console"
    include_in_schema = False

    @get("/", security=PUBLIC, operation_id="consoleIndex")
    async def index(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        return await _serve(request, settings, "")

    @get("/{name:path}", security=PUBLIC, operation_id="consoleFile")
    async def file(
        self, request: Request[Any, Any, Any], name: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        return await _serve(request, settings, name)


async def _serve(request: Request[Any, Any, Any], settings: Settings, name: str) -> Response[bytes]:
    headers = pages.security_headers(settings)
    if not pages.built(settings):
        return Response(
            pages.NOT_BUILT,
            status_code=503,
            media_type="text/html; charset=utf-8",
            headers={**headers, "Cache-Control": "no-store", "Retry-After": "60"},
        )
    accepts_gzip = "gzip" in request.headers.get("accept-encoding", "")
    found = await pages.page(settings, name, accepts_gzip)
    if found is None:
        raise NotFound("No such console file.", message_vi="Không có tệp này của bảng điều khiển.")
    headers["Cache-Control"] = found.cache_control
    headers["Vary"] = "Accept-Encoding"
    if found.gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(found.body, media_type=found.media_type, headers=headers)
