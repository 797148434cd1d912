"""`/v1/uploads` (declare, send bytes to the local store, complete), `/v1/media/{id}`, and the local
store's signed reads (`/media/local/<key>?exp=&sig=`, with HTTP Range).

The local-store PUT is authorised by the signed URL `POST /v1/uploads` returned (no token needed,
like an S3 presigned URL), or by the uploader's own Bearer token.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.access.tokens import Principal
from api.core.db import Database
from api.core.errors import AppError, Forbidden, NotFound, Unauthorized, wants_english
from api.core.inputs import check_json
from api.core.media import config_for
from api.core.openapi import BEARER, PUBLIC, errors
from api.core.settings import Settings
from api.reports.models import Report
from api.uploads.schemas import CompleteIn, CompleteOut, PartOut, ReceivedOut, UploadIn, UploadOut
from api.uploads.service import sees_as_staff
from media.storage import CONTENT_TYPES, LocalStorage


class UploadsController(Controller):
    path = "/v1/uploads"
    tags = ["media"]

    @post("", status_code=201, responses=errors(401, 413, 415, 422, 429), operation_id="declareUpload")
    async def declare(
        self,
        data: JSONBody[UploadIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> UploadOut:
        """Declare a photo or video (kind, type, size, optional SHA-256) and learn how to send it.

        Local store: PUT the bytes to `url` (signed; the `headers` given). S3: a presigned POST
        (`url` + form `fields`, the file field last), or for large videos PUT each of `parts` and
        send their ETags to `complete_url`. Then POST `complete_url`.
        """
        t = await media.declare(
            session,
            config_for(settings),
            owner_id=principal.id,
            kind=data.kind,
            content_type=data.content_type,
            size=data.size,
            sha256=data.sha256,
            api_base_url=settings.base_url,
        )
        out = UploadOut(t.id, t.method, t.url, t.expires_at, t.complete_url, t.headers, t.fields)
        if t.parts:
            out.parts = [PartOut(p.part_number, p.url, p.offset, p.size) for p in t.parts]
            out.part_size = t.part_size or 0
        return out

    @put(
        "/{media_id:uuid}/content",
        status_code=200,
        request_max_body_size=None,
        responses=errors(401, 403, 404, 409, 410, 413),
        security=[{}, {"BearerToken": []}],
        operation_id="sendUploadBytes",
    )
    async def content(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[uuid.UUID],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        exp: Annotated[str | None, QueryParameter(max_length=20)] = None,
        sig: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> ReceivedOut:
        """Local store only: the raw bytes of the upload, streamed to disk. Refused (413) as soon as
        more than the declared size arrives; a new PUT replaces an earlier partial one."""
        cfg = config_for(settings)
        owner: uuid.UUID | None = None
        store = cfg.storage
        signed = isinstance(store, LocalStorage) and store.uploads.verify(str(media_id), exp, sig)
        if not signed:
            user = request.scope.get("user")
            if not isinstance(user, Principal):
                if exp or sig:
                    raise Forbidden(
                        "This upload link is invalid or expired.",
                        message_vi="Liên kết tải lên không hợp lệ hoặc đã hết hạn.",
                        code="invalid_signature",
                    )
                raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
            owner = user.id
        size = await media.receive(database.session, cfg, media_id, request.stream(), owner_id=owner)
        return ReceivedOut(media_id, size)

    @post(
        "/{media_id:uuid}/complete",
        status_code=200,
        responses=errors(401, 404, 409, 410, 415, 422),
        operation_id="completeUpload",
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> CompleteOut:
        """Check the bytes arrived (size, SHA-256 when declared, real type from the first bytes) and
        queue the file for processing. Body (multipart S3 uploads only): `{"parts": [{"part_number",
        "etag"}]}`. A retry gives the same answer; a refused file is deleted."""
        raw = await request.body()
        body = CompleteIn()
        if raw.strip():
            check_json(raw)  # what every JSON body gets (api/core/inputs.py); this one is optional
            try:
                body = msgspec.json.decode(raw, type=CompleteIn)
            except msgspec.ValidationError as exc:
                raise AppError(
                    f"Invalid body: {exc}", message_vi="Dữ liệu không hợp lệ.", code="validation_error"
                ) from None
            except msgspec.DecodeError:
                raise AppError(
                    "The body is not JSON.", message_vi="Dữ liệu không phải JSON.", code="validation_error"
                ) from None
        async with state.media_gate.turn():  # checking the bytes is dear: a few at a time, or 503
            done = await media.complete(
                session,
                config_for(settings),
                media_id=media_id,
                owner_id=principal.id,
                parts=[(p.part_number, p.etag) for p in body.parts] or None,
            )
        return CompleteOut(done.media_id, done.status)


class MediaController(Controller):
    path = "/v1/media"
    tags = ["media"]

    @get("/{media_id:uuid}", responses=errors(404), security=PUBLIC + BEARER, operation_id="getMedia")
    async def get_media(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        """A photo or video: status (`processing`, `ready`, `rejected` with `reason`), facts (size,
        duration, blurhash) and signed links to its renditions. Its uploader and staff covering its
        report see it in every state; everyone else only ready media of a public report. Only staff
        covering the report (and moderators who may review it) get the unblurred copies and the blur
        boxes; everyone else, the uploader too, gets the renditions with faces and plates hidden."""
        row = await session.get(media.Media, media_id)
        if row is None:
            raise _media_not_found(media_id)
        cfg = config_for(settings)
        owner = viewer is not None and viewer.id == row.owner_id
        staff = await sees_as_staff(session, viewer, row.report_id)
        if owner or staff:
            return media.render(row, cfg, staff=staff, owner=owner, english=wants_english(request))
        if row.status == "ready" and row.report_id is not None:
            report = await session.get(Report, row.report_id)
            if report is not None and report.visibility == "public":
                return media.render(row, cfg)
        raise _media_not_found(media_id)


def _media_not_found(media_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"No media with id {media_id}.", message_vi=f"Không tìm thấy tệp {media_id}.", code="media_not_found"
    )


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single `bytes=` range, or None when unsatisfiable/unsupported."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                return None
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


async def _file_chunks(path: str, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        left = length
        while left > 0:
            chunk = await f.read(min(256 * 1024, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


class LocalMediaController(Controller):
    path = "/media/local"
    tags = ["media"]

    @get(
        "/{key:path}",
        responses=errors(403, 404, 416),
        security=PUBLIC,
        include_in_schema=False,
        operation_id="readLocalMedia",
    )
    async def read(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        settings: NamedDependency[Settings],
        exp: Annotated[str | None, QueryParameter(max_length=20)] = None,
        sig: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Response[Any]:
        """A rendition from the local store through a signed, expiring link (Range supported)."""
        store = config_for(settings).storage
        key = key.lstrip("/")
        if (
            not isinstance(store, LocalStorage)
            or not key.startswith("r/")
            or not media.storage.valid_key(key)
        ):
            raise NotFound("Not found.", message_vi="Không tìm thấy.")
        if not store.reads.verify(key, exp, sig):
            raise Forbidden(
                "This media link is invalid or expired.",
                message_vi="Liên kết tệp không hợp lệ hoặc đã hết hạn.",
                code="invalid_signature",
            )
        path = store.path(key)
        try:
            size = (await anyio.to_thread.run_sync(os.stat, path)).st_size
        except FileNotFoundError:
            raise NotFound("Not found.", message_vi="Không tìm thấy.") from None
        ext = key.rsplit(".", 1)[-1]
        max_age = max(0, int(exp or 0) - int(time.time()))
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": f"private, max-age={max_age}",
            "X-Content-Type-Options": "nosniff",
        }
        media_type = CONTENT_TYPES.get(ext, "application/octet-stream")
        start, length, status = 0, size, 200
        rng = request.headers.get("range")
        if rng:
            got = _parse_range(rng, size)
            if got is None:
                return Response(
                    content=b"",
                    status_code=416,
                    headers={**headers, "Content-Range": f"bytes */{size}"},
                    media_type=media_type,
                )
            start, end = got
            length, status = end - start + 1, 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(length)
        return Stream(
            _file_chunks(str(path), start, length), status_code=status, headers=headers, media_type=media_type
        )


__all__ = ["LocalMediaController", "MediaController", "UploadsController"]
