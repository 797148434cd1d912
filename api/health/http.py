from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.core.db import Database
from api.core.errors import AppError
from api.core.openapi import PUBLIC, errors
from api.health.schemas import Status


class HealthController(Controller):
    tags = ["health"]

    @get("/health", security=PUBLIC, operation_id="health")
    async def health(self) -> Status:
        """The process is alive."""
        return Status("ok")

    @get("/ready", security=PUBLIC, responses=errors(503), operation_id="ready")
    async def ready(self, database: NamedDependency[Database]) -> Status:
        """The database answers, and a request would not wait for a session: a balancer sends
        traffic elsewhere while either is not so."""
        retry = {"Retry-After": str(database.timeouts.retry_after_s)}
        if database.saturated:
            raise AppError(
                "Every database session is taken and requests are waiting.",
                message_vi="Hệ thống đang quá tải.",
                code="not_ready",
                status_code=503,
                details={"reason": "pool_saturated"},
                headers=retry,
            )
        try:
            await database.ping(min(3.0, database.timeouts.pool_wait_s))
        except Exception as exc:
            raise AppError(
                "The database is unreachable.",
                message_vi="Không kết nối được cơ sở dữ liệu.",
                code="not_ready",
                status_code=503,
                details={"reason": type(exc).__name__},
                headers=retry,
            ) from None
        return Status("ready")
