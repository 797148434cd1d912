"""The fast path of `POST /v1/reports` (see api/fast.py): a signed-in resident's well-formed report.

The same service call as the controller (`submit.submit`: idempotency, rate limit, every rule), the
same body and headers, and the service's own errors (`AppError`: 409, 422, 429…) rendered in the
one error shape. Left to Litestar: a body that does not decode into `ReportIn` (its validation
error names the field), a missing, bad or revoked token (the same `decode_access` as the middleware),
staff callers, a non-JSON content type, an Idempotency-Key of the wrong length, an oversized body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar

from api.access.tokens import InvalidToken, Principal, decode_access
from api.core.deps import lineage_cache
from api.core.errors import AppError, app_error_body, prefers_english
from api.core.fastpath import Answer
from api.reports import service as submit
from api.reports.schemas import MAX_BODY, ReportIn

_decode = msgspec.json.Decoder(ReportIn).decode
_encode = msgspec.json.Encoder().encode
_REPLAYED = [(b"idempotent-replayed", b"true")]


class SubmitFastPath:
    method, path, max_body = "POST", "/v1/reports", MAX_BODY

    def __init__(self, app: Litestar) -> None:
        self.state = app.state

    async def answer(self, scope: dict[str, Any], headers: dict[bytes, bytes], body: bytes) -> Answer | None:
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        principal = self._resident(headers.get(b"authorization", b""))
        if principal is None:
            return None
        key = headers.get(b"idempotency-key")
        idempotency_key = None if key is None else key.decode("latin-1")
        if idempotency_key is not None and not 8 <= len(idempotency_key) <= 128:
            return None
        try:
            data = _decode(body)
        except msgspec.MsgspecError:
            return None
        state = self.state
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        try:
            async with state.db.session() as session:
                outcome = await submit.submit(
                    session,
                    state.settings,
                    principal,
                    data,
                    idempotency_key=idempotency_key,
                    lineage_cache=lineage_cache(state),
                    admit=lambda: state.report_limiter.check(str(principal.id), ip),
                )
        except AppError as exc:
            english = prefers_english(headers.get(b"accept-language", b"").decode("latin-1"))
            extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
            return Answer(exc.status_code, _encode(app_error_body(exc, english)), extra)
        return Answer(outcome.status_code, _encode(outcome.created()), _REPLAYED if outcome.replayed else [])

    def _resident(self, authorization: bytes) -> Principal | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = decode_access(token.strip(), self.state.settings.jwt_secret)
        except InvalidToken:
            return None
        return None if principal.is_staff else principal

    async def close(self) -> None:
        return None
