"""/open311/v2/…: discovery, services, service definitions, service requests (read and filed by
partners), tokens and mySociety's service request updates, in JSON or XML; and the admin's partner keys
under /v1/admin/apikeys."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import admin_only
from api.access.tokens import Principal
from api.core.deps import lineage_cache
from api.core.errors import AppError, wants_english
from api.core.openapi import PUBLIC, Dialect, errors
from api.core.pagination import Cursor
from api.core.ratelimit import Limits
from api.core.settings import Settings
from api.open311 import intake, keys, service
from api.open311.formats import MEDIA_TYPES, render, split_suffix
from api.open311.models import ApiKey
from api.open311.schemas import OPEN311_ERRORS, OPEN311_SUCCESS, ApiKeyIn, ApiKeyList, ApiKeyOut
from api.open311.service import Open311Error

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00Z"  # when this interface last changed


Produce = Callable[[str], Awaitable[tuple[str, str, Any]]]  # stem → (XML root, XML item, body)


PREFIX = "/open311/v2"
# how the OpenAPI document describes what is answered under PREFIX
DIALECT = Dialect("Open311Errors", OPEN311_ERRORS, (MEDIA_TYPES["json"], MEDIA_TYPES["xml"]), OPEN311_SUCCESS)


def error_response(fmt: str, exc: Open311Error, headers: dict[str, str] | None = None) -> Response[bytes]:
    """Open311's own error shape, `errors[]{code, description}`, in the asked format."""
    body = [{"code": exc.status, "description": exc.description}]
    return Response(
        render(fmt, "errors", "error", body),
        media_type=MEDIA_TYPES[fmt],
        status_code=exc.status,
        headers=headers,
    )


def _format_of(path: str) -> str:
    return "xml" if path.rsplit("?", 1)[0].endswith(".xml") else "json"


def routing_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """An unknown path or a wrong method under /open311/v2, answered the way Open311 clients expect
    (the app sends the framework's 404 and 405 under this prefix here)."""
    path = request.url.path
    status = exc.status_code if exc.status_code in (404, 405) else 400
    text = {
        404: f"No such Open311 resource: {path}.",
        405: f"{request.method} is not allowed on {path}.",
    }.get(status, "Bad request.")
    headers = {"Allow": exc.headers["Allow"]} if exc.headers and "Allow" in exc.headers else None
    return error_response(_format_of(path), Open311Error(status, text), headers)


def target_error(path: str, exc: AppError, english: bool) -> tuple[bytes, str] | None:
    """A request target refused before routing (api.core.inputs.entry), in Open311's shape under PREFIX."""
    if not path.startswith(PREFIX):
        return None
    fmt = _format_of(path)
    body = [{"code": exc.status_code, "description": exc.message if english else exc.message_vi}]
    return render(fmt, "errors", "error", body), MEDIA_TYPES[fmt]


async def _one_request(
    request: Request[Any, Any, Any], name: str, session: AsyncSession, settings: Settings
) -> Response[bytes]:
    async def produce(code: str) -> tuple[str, str, Any]:
        extensions = request.query_params.get("extensions")
        if extensions not in (None, "", "true", "false"):
            raise Open311Error(400, "extensions must be 'true' or 'false'.")
        return (
            "service_requests",
            "request",
            await service.service_request(
                session, code, wants_english(request), settings.base_url, extensions == "true"
            ),
        )

    return await _serve(name, produce)


async def _form(request: Request[Any, Any, Any]) -> intake.Form:
    try:
        form = await request.form()
    except Exception:  # a body that is not a form: the spec's general 400
        raise Open311Error(400, "The body must be form-encoded.") from None
    fields = {k: form.getall(k) for k in form}
    values = {k: [v for v in vs if isinstance(v, str)] for k, vs in fields.items()}
    return intake.Form({k: vs[0] for k, vs in values.items() if vs}, values)


async def _partner(session: AsyncSession, form: intake.Form) -> ApiKey:
    key = await keys.find(session, form.get("api_key"))
    if key is None:
        raise Open311Error(403, "A valid api_key is required.")
    return key


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
        return error_response(fmt, exc)
    except AppError as exc:  # a rule of the app's own (a rate limit): same status, Open311's shape
        return error_response(fmt, Open311Error(exc.status_code, exc.message), exc.headers)


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
        filters `service_request_id`, `service_code`, `start_date`, `end_date`, `status` (lists may
        repeat or be comma-separated), and the usual extensions `updated_after`, `updated_before`,
        `page`, `page_size`, `extensions=true` (extended_attributes and notes)."""
        english = wants_english(request)

        async def produce(stem: str) -> tuple[str, str, Any]:
            if stem == "discovery":
                return "discovery", "", _discovery(settings)
            if stem == "services":
                return "services", "service", await service.services(session, english)
            if stem == "requests":
                q = request.query_params
                query = service.parse_query(
                    service_request_id=q.getall("service_request_id", []),
                    service_code=q.getall("service_code", []),
                    start_date=q.get("start_date"),
                    end_date=q.get("end_date"),
                    status=q.getall("status", []),
                    page=q.get("page"),
                    page_size=q.get("page_size"),
                    updated_after=q.get("updated_after"),
                    updated_before=q.get("updated_before"),
                    extensions=q.get("extensions"),
                )
                return (
                    "service_requests",
                    "request",
                    await service.service_requests(session, query, english, settings.base_url),
                )
            if stem == "servicerequestupdates":
                window = service.parse_query(
                    service_request_id=[],
                    service_code=[],
                    start_date=request.query_params.get("start_date"),
                    end_date=request.query_params.get("end_date"),
                    status=[],
                    page=None,
                    page_size=None,
                )
                updates = await intake.updates(session, start=window.start, end=window.end)
                return "service_request_updates", "request_update", updates
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

    @post(
        "/{document:str}",
        security=PUBLIC,
        operation_id="open311Post",
        status_code=200,
        # a missing key; the submission's own refusals and the partner's rate limit
        responses=errors(403, 409, 422, 429),
    )
    async def post_document(
        self,
        request: Request[Any, Any, Any],
        document: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> Response[bytes]:
        """`requests.json|xml`: a partner files a service request (form-encoded: `api_key`,
        `service_code`, `lat` + `long`, `description`, `attribute[code]`, `email`/`device_id`/
        `first_name`/`last_name`/`phone`, `media_url`; an `Idempotency-Key` header, or the same form
        again, is a retry). `servicerequestupdates.json|xml`: a partner adds a public update to a
        request it filed (`api_key`, `service_request_id`, `description`)."""
        english = wants_english(request)

        async def produce(stem: str) -> tuple[str, str, Any]:
            if stem not in ("requests", "servicerequestupdates"):
                raise Open311Error(404, f"No such Open311 document: {document!r}.")
            form = await _form(request)
            key = await _partner(session, form)
            if stem == "servicerequestupdates":
                return (
                    "service_request_updates",
                    "request_update",
                    await intake.post_update(session, key, form),
                )
            limits: Limits = state.limits
            answer = await intake.create_request(
                session,
                settings,
                key,
                form,
                idempotency_key=request.headers.get("idempotency-key"),
                lineage_cache=lineage_cache(state),
                english=english,
                limits=((limits.partner, str(key.id)),),
            )
            return "service_requests", "request", answer

        return await _serve(document, produce)

    @get("/tokens/{name:str}", security=PUBLIC, operation_id="open311Token")
    async def token(self, name: FromPath[str], session: NamedDependency[AsyncSession]) -> Response[bytes]:
        """`tokens/{token}.json|xml`: the service request a held submission became (empty until a
        moderator publishes it)."""

        async def produce(token: str) -> tuple[str, str, Any]:
            return "service_requests", "request", await intake.resolve_token(session, token)

        return await _serve(name, produce)

    @get("/requests/{name:str}", security=PUBLIC, operation_id="open311ServiceRequest")
    async def service_request(
        self,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """`requests/{service_request_id}.json|xml`: one public request, as a list like the spec
        says; `extensions=true` as for lists."""
        return await _one_request(request, name, session, settings)

    @get("/request/{name:str}", security=PUBLIC, operation_id="open311ServiceRequestSingular")
    async def service_request_singular(
        self,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """`request/{service_request_id}.json|xml`, the spelling of the spec's swagger: the same."""
        return await _one_request(request, name, session, settings)

    @get("/media/{code:str}", security=PUBLIC, operation_id="open311Media", status_code=302)
    async def media(self, code: FromPath[str], session: NamedDependency[AsyncSession]) -> Response[Any]:
        """A request's `media_url`: redirects to a fresh signed link to its first public photo (faces
        and plates blurred), so the link stays valid however long a partner keeps it."""
        try:
            return Redirect(await service.photo_url(session, code), status_code=302)
        except Open311Error as exc:
            return error_response("json", exc)


def _discovery(settings: Settings) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": settings.open311_contact or f"Phản Ánh — {settings.base_url}",
        # partners get a key from the city's administrators (`phananh apikeys create`, or the console)
        "key_service": f"{settings.base_url}/console/#/admin",
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


def _key_out(key: ApiKey, secret: str | None = None) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        key=secret,
    )


class ApiKeysController(Controller):
    """Partners' Open311 keys: admins issue (the key is shown once), list and revoke them."""

    path = "/v1/admin/apikeys"
    tags = ["admin"]
    guards = [admin_only]

    @get("", responses=errors(400, 401, 403), operation_id="listApiKeys")
    async def list_keys(
        self,
        session: NamedDependency[AsyncSession],
        cursor: Cursor = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> ApiKeyList:
        """Every partner key, newest first (never the key itself)."""
        found, next_cursor = await keys.list_keys(session, cursor=cursor, limit=limit)
        return ApiKeyList([_key_out(k) for k in found], next_cursor)

    @post("", responses=errors(400, 401, 403), operation_id="createApiKey")
    async def create_key(
        self,
        data: JSONBody[ApiKeyIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ApiKeyOut:
        """A new key for a partner system; `key` is in this answer only."""
        issued = await keys.issue(session, data.name, created_by=principal.id)
        return _key_out(issued.key, issued.secret)

    @delete("/{key_id:uuid}", responses=errors(401, 403, 404), operation_id="revokeApiKey", status_code=200)
    async def revoke_key(
        self, key_id: FromPath[uuid.UUID], session: NamedDependency[AsyncSession]
    ) -> ApiKeyOut:
        """Revoke a key: its partner's calls get 403 from now on."""
        return _key_out(await keys.revoke(session, key_id))
