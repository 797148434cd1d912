"""GET /open311/v2/…: discovery, services, service definitions and service requests (JSON or XML)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.errors import wants_english
from api.core.openapi import PUBLIC
from api.core.settings import Settings
from api.open311 import service
from api.open311.formats import MEDIA_TYPES, render, split_suffix
from api.open311.service import Open311Error

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00Z"  # when this interface last changed


Produce = Callable[[str], Awaitable[tuple[str, str, Any]]]  # stem → (XML root, XML item, body)


async def _serve(name: str, produce: Produce) -> Response[bytes]:
    """Answer "<stem>.json|xml" in its format, Open311 errors included (JSON when the suffix is bad)."""
    split = split_suffix(name)
    fmt = split[1] if split else "json"
    try:
        if split is None:
            raise Open311Error(404, f"No such Open311 document: {name!r}.")
        root, item, body = await produce(split[0])
        return Response(render(fmt, root, item, body), media_type=MEDIA_TYPES[fmt])
    except Open311Error as exc:
        body = [{"code": exc.status, "description": exc.description}]
        return Response(
            render(fmt, "errors", "error", body), media_type=MEDIA_TYPES[fmt], status_code=exc.status
        )


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["open311"]

    @get("/{document:str}", security=PUBLIC, operation_id="open311Document")
    async def document(
        self,
        request: Request[Any, Any, Any],
        document: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """`discovery`, `services` or `requests`, each `.json` or `.xml`. `requests` takes the spec's
        filters `service_request_id`, `service_code`, `start_date`, `end_date`, `status`, and `page`,
        `page_size`."""
        english = wants_english(request)

        async def produce(stem: str) -> tuple[str, str, Any]:
            if stem == "discovery":
                return "discovery", "", _discovery(settings)
            if stem == "services":
                return "services", "service", await service.services(session, english)
            if stem == "requests":
                q = request.query_params
                query = service.parse_query(
                    service_request_id=q.get("service_request_id"),
                    service_code=q.get("service_code"),
                    start_date=q.get("start_date"),
                    end_date=q.get("end_date"),
                    status=q.get("status"),
                    page=q.get("page"),
                    page_size=q.get("page_size"),
                )
                return "service_requests", "request", await service.service_requests(session, query, english)
            raise Open311Error(404, f"No such Open311 document: {document!r}.")

        return await _serve(document, produce)

    @get("/services/{name:str}", security=PUBLIC, operation_id="open311ServiceDefinition")
    async def service_definition(
        self, request: Request[Any, Any, Any], name: FromPath[str], session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """`services/{service_code}.json|xml`: the category's questions as Open311 attributes."""

        async def produce(code: str) -> tuple[str, str, Any]:
            return (
                "service_definition",
                "",
                await service.service_definition(session, code, wants_english(request)),
            )

        return await _serve(name, produce)

    @get("/requests/{name:str}", security=PUBLIC, operation_id="open311ServiceRequest")
    async def service_request(
        self, request: Request[Any, Any, Any], name: FromPath[str], session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """`requests/{service_request_id}.json|xml`: one public request (as a list, like the spec says)."""

        async def produce(code: str) -> tuple[str, str, Any]:
            return (
                "service_requests",
                "request",
                await service.service_request(session, code, wants_english(request)),
            )

        return await _serve(name, produce)


def _discovery(settings: Settings) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "",
        "key_service": "",
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{settings.base_url}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": [MEDIA_TYPES["json"], MEDIA_TYPES["xml"]],
            }
        ],
    }
