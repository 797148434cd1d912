"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

import media
from api.access.middleware import BearerAuthMiddleware
from api.core import migrate
from api.core.db import Database, make_engine
from api.core.deps import DEPENDENCIES
from api.core.errors import EXCEPTION_HANDLERS
from api.core.logs import request_id_middleware_factory
from api.core.ratelimit import ReportLimiter
from api.core.settings import Settings, ensure_jwt_secret, load_settings
from api.routes import ROUTES
from api.run import worker
from api.uploads import config_for

VERSION = "0.1.0"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    database_url: str | None = None,
    check_schema: bool = True,
) -> Litestar:
    """Build the app. Give `database` (tests) or `database_url`; else settings.database_url is used."""
    settings = ensure_jwt_secret(settings or load_settings())
    media.configure(config_for(settings))
    state = State(
        {
            "settings": settings,
            "report_limiter": ReportLimiter(
                settings.report_rate_per_device_hour, settings.report_rate_per_ip_hour
            ),
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
            db = Database(
                make_engine(url, pool_size=pool_size, max_overflow=settings.db_max_overflow),
                sessions_at_once=settings.db_pool_size,
                drivers_at_once=settings.lookup_connections,
            )
        app.state.db = db
        try:
            if check_schema:
                await migrate.check(db.engine)
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
                if task is not None:
                    await task
        finally:
            if database is None:
                await db.dispose()

    return Litestar(
        route_handlers=ROUTES,
        state=state,
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            request_id_middleware_factory(access=settings.access_log),
            DefineMiddleware(
                BearerAuthMiddleware,
                secret=settings.jwt_secret,
                exclude=["^/schema", "^/health$", "^/ready$", "^/media/local/"],
            ),
        ],
        openapi_config=OpenAPIConfig(
            title="Phản Ánh API",
            version=VERSION,
            description="Citizen feedback and incident reporting: residents report, wards resolve.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """Factory for `uvicorn --factory` (several worker processes): everything from PHANANH_* variables."""
    return create_app()


__all__ = ["create_app", "create_app_from_env"]
