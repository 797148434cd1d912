"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import media
from api import worker
from api.access import bearer
from api.access import deps as access_deps
from api.access.middleware import BearerAuthMiddleware
from api.access.revocation import RevocationListener
from api.accounts.http import AuthController, MeController
from api.areas.http import LOOKUP, AreasController
from api.casework.http import (
    CaseActionsController,
    LiveQueueController,
    MapController,
    OfficerQueueController,
    StatsController,
)
from api.casework.live import LiveCases
from api.catalogue.http import (
    AgenciesAdminController,
    CategoriesAdminController,
    CategoriesController,
    HolidaysAdminController,
)
from api.console.http import ConsolePagesController, ConsoleSessionController
from api.core import clock, migrate, openapi
from api.core import deps as core_deps
from api.core.db import Database, Timeouts, make_engine, plain_url
from api.core.errors import EXCEPTION_HANDLERS, http_exception_handler
from api.core.fastpath import FastPaths
from api.core.inputs import CheckedRequest, check_parameters, entry
from api.core.logs import ensure_logging, request_id_middleware_factory
from api.core.media import config_for
from api.core.overload import gates
from api.core.ratelimit import Limits
from api.core.settings import Settings, ensure_jwt_secret, load_settings
from api.health.http import HealthController
from api.notifications import announce
from api.notifications.http import DevicesController, NotificationsController
from api.open311 import http as open311_http
from api.open311.http import ApiKeysController, Open311Controller
from api.pages.http import PublicFiguresController, PublicPagesController
from api.reports.http import SUBMIT, ReportsController
from api.review.http import FlagController, MediaBlurController, ModerationController
from api.staff.http import StaffLoginController, UsersController
from api.uploads.http import LocalMediaController, MediaController, UploadsController
from api.webhooks.http import WebhooksController

VERSION = "0.1.0"

# Every controller the app serves.
ROUTES: list[Any] = [
    HealthController,
    AuthController,
    MeController,
    DevicesController,
    NotificationsController,
    StaffLoginController,
    UsersController,
    CategoriesAdminController,
    AgenciesAdminController,
    HolidaysAdminController,
    ModerationController,
    FlagController,
    AreasController,
    CaseActionsController,
    OfficerQueueController,
    LiveQueueController,
    StatsController,
    MapController,
    ReportsController,
    CategoriesController,
    Open311Controller,
    ApiKeysController,
    WebhooksController,
    UploadsController,
    MediaController,
    MediaBlurController,
    LocalMediaController,
    ConsoleSessionController,
    ConsolePagesController,
    PublicPagesController,
    PublicFiguresController,
]


# Paths the bearer middleware leaves alone (anywhere else a token that is given must be valid, or 401).
# Open311 partners authenticate with their api_key; a bearer token means nothing there.
TOKENLESS = [
    "^/schema",
    "^/health$",
    "^/ready$",
    "^/media/local/",
    "^/console(/|$)",
    f"^{open311_http.PREFIX}/",
]


class App(Litestar):
    """Litestar behind the request id and the check of the request target, for every request: Litestar's
    own middleware runs only on routes it found, so its 404s and 405s would go without either."""

    def __init__(self, *args: Any, access_log: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._entry = request_id_middleware_factory(access=access_log)(
            entry(super().__call__, open311_http.target_error)
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._entry(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _http_errors(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors in the project's shape, except under Open311's prefix: its clients expect
    Open311's own (an unknown path or a wrong method there never reaches the Open311 controller)."""
    if request.url.path.startswith(open311_http.PREFIX) and exc.status_code in (404, 405):
        return open311_http.routing_error(request, exc)
    return http_exception_handler(request, exc)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    database_url: str | None = None,
    check_schema: bool = True,
) -> Litestar:
    """Build the app. Give `database` (tests) or `database_url`; else settings.database_url is used."""
    settings = ensure_jwt_secret(settings or load_settings())
    ensure_logging(settings.log_level, settings.log_json)
    clock.configure(settings)
    media.configure(config_for(settings))
    state = State(
        {
            "settings": settings,
            "limits": Limits.of(settings),
            **gates(settings),
        }
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = database
        if db is None:
            url = database_url or settings.database_url
            if not url:
                raise RuntimeError(
                    "no database URL: run through `phananh serve`, or set PHANANH_DATABASE_URL"
                )
            # the pool holds the sessions' connections and the lookups' (Database.driver)
            pool_size = settings.db_pool_size + settings.lookup_connections
            timeouts = Timeouts.of(settings)
            db = Database(
                make_engine(
                    url, pool_size=pool_size, max_overflow=settings.db_max_overflow, timeouts=timeouts
                ),
                sessions_at_once=settings.db_pool_size,
                drivers_at_once=settings.lookup_connections,
                timeouts=timeouts,
            )
        app.state.db = db
        try:
            if check_schema:
                await migrate.check(db.engine)
            # revocations younger than a token's lifetime (and a margin for clocks) can still matter
            revocations = RevocationListener(
                plain_url(db.engine.url.render_as_string(hide_password=False)),
                settings.access_token_ttl_s + 60,
            )
            await revocations.start()
            app.state.revocations = revocations
            # the live queue's listener connects with the first stream
            app.state.live = LiveCases(
                plain_url(db.engine.url.render_as_string(hide_password=False)),
                max_streams=settings.live_streams_max,
            )
            stop = asyncio.Event()
            task = (
                asyncio.create_task(worker.run_forever(db, settings, stop), name="worker")
                if settings.serve_worker
                else None
            )
            try:
                yield
            finally:
                stop.set()
                await app.state.live.stop()
                if task is not None:
                    await task
                await announce.close_all()
                await revocations.stop()
        finally:
            if database is None:
                await db.dispose()

    viewer, viewer_files = openapi.docs_ui()
    app = App(
        access_log=settings.access_log,
        route_handlers=[*ROUTES, viewer_files],
        state=state,
        lifespan=[lifespan],
        dependencies={**core_deps.DEPENDENCIES, **access_deps.DEPENDENCIES},
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: _http_errors},
        request_class=CheckedRequest,
        before_request=check_parameters,
        middleware=[
            DefineMiddleware(
                BearerAuthMiddleware,
                secret=settings.jwt_secret,
                exclude=TOKENLESS,
            ),
        ],
        openapi_config=OpenAPIConfig(
            title="Phản Ánh API",
            version=VERSION,
            description="Citizen feedback and incident reporting: residents report, wards resolve.",
            path="/schema",
            render_plugins=[viewer],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
        logging_config=None,  # api.core.logs set the process's logs up; Litestar's would replace them
    )
    return openapi.document(app, {open311_http.PREFIX: open311_http.DIALECT}, tokenless=TOKENLESS)


def create_app_from_env() -> Litestar:
    """Factory for `uvicorn --factory` (several worker processes): everything from PHANANH_* variables."""
    return create_app()


__all__ = ["create_app", "create_app_from_env"]


def with_fast_paths(app: Litestar, *, serving: bool = False) -> FastPaths:
    """The app behind the fast paths of its hot routes; `serving`: a server process of its own."""
    secret = app.state.settings.jwt_secret
    return FastPaths(
        app,
        [LOOKUP, SUBMIT],
        authenticate=lambda header: bearer.authenticate(header, secret),
        freeze_gc=serving,
    )


def create_asgi_from_env() -> FastPaths:
    """Factory for the worker processes of `phananh serve --workers N` (api/run/serve.py)."""
    return with_fast_paths(create_app_from_env(), serving=True)
