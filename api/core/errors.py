"""The one error shape: `{"error": {"code", "message", "details"}}`.

Services raise `AppError` (or a subclass) with a stable machine code and a message in Vietnamese and
English; the handler picks the language from `Accept-Language` (Vietnamese unless English is asked
for). Framework errors (validation, 404, 405, 413, 429…) and unexpected failures are mapped to the
same shape; a 500 never carries a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from media import MediaError

log = logging.getLogger("phananh.errors")


class AppError(Exception):
    """A failure the client can act on. `message_vi` defaults to the English text."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        message_vi: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_vi = message_vi or message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.details = details
        self.headers = headers or {}


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unprocessable(AppError):
    status_code = 422
    code = "unprocessable"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"


def wants_english(request: Request[Any, Any, Any]) -> bool:
    return prefers_english(request.headers.get("accept-language", ""))


def prefers_english(accept_language: str) -> bool:
    """English when it is the caller's first language; Vietnamese otherwise."""
    return accept_language.split(",")[0].strip().lower().startswith("en")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


# Framework errors → (code, English, Vietnamese)
_HTTP_CODES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "The request is not valid.", "Yêu cầu không hợp lệ."),
    401: ("unauthorized", "Sign-in is required.", "Cần đăng nhập."),
    403: ("forbidden", "You may not do this.", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Not found.", "Không tìm thấy."),
    405: ("method_not_allowed", "This method is not allowed here.", "Phương thức không được hỗ trợ."),
    409: ("conflict", "Conflict with the current state.", "Xung đột với trạng thái hiện tại."),
    413: ("payload_too_large", "The request body is too large.", "Dữ liệu gửi lên quá lớn."),
    415: ("unsupported_media_type", "Unsupported content type.", "Kiểu dữ liệu không được hỗ trợ."),
    429: ("rate_limited", "Too many requests; try again later.", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
}


_INVALID = (
    "validation_error",
    "Some fields are missing or invalid.",
    "Một số trường bị thiếu hoặc không hợp lệ.",
)
_INTERNAL = ("internal_error", "Something went wrong on our side.", "Đã xảy ra lỗi phía máy chủ.")
_encode = msgspec.json.Encoder().encode


def app_error_body(exc: AppError, english: bool) -> dict[str, Any]:
    return error_body(exc.code, exc.message if english else exc.message_vi, exc.details)


def error_json(exc: AppError, english: bool) -> bytes:
    """The body of an `AppError`: the same bytes from Litestar's handler and from the fast paths."""
    return _encode(app_error_body(exc, english))


def internal_error_json(english: bool) -> bytes:
    code, en, vi = _INTERNAL
    return _encode(error_body(code, en if english else vi))


def invalid(problems: list[dict[str, Any]]) -> AppError:
    """A 400 `validation_error` in the shape Litestar gives its own (see `validation_problem`)."""
    code, en, vi = _INVALID
    return AppError(en, message_vi=vi, code=code, details=problems)


def validation_problem(
    problem: msgspec.DecodeError | str, *, source: str, key: str | None = None
) -> dict[str, Any]:
    """{"message", "key", "source"}; a msgspec error's path ("… - at `$.lat`") gives the key."""
    message = str(problem)
    text, at, path = message.rpartition(" - at `$")
    if at:
        message, key = text, path.rstrip("`").lstrip(".")
    return {"message": message, "key": key, "source": source}


def http_error(status: int, details: Any = None) -> AppError:
    """One of the framework's errors (`_HTTP_CODES`), raised by our own parsing."""
    code, en, vi = _HTTP_CODES[status]
    return AppError(en, message_vi=vi, code=code, status_code=status, details=details)


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return Response(
        error_json(exc, wants_english(request)),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code, en, vi = _HTTP_CODES.get(status, ("http_error", exc.detail or "Request failed.", exc.detail or ""))
    details: Any = None
    if isinstance(exc, ValidationException):
        code, en, vi = _INVALID
        details = exc.extra
    elif isinstance(exc, NotAuthorizedException | PermissionDeniedException | NotFoundException):
        pass
    elif status < 500 and exc.detail and exc.detail not in (en,):
        details = {"reason": exc.detail}
    if status >= 500:
        log.error("http error %s: %s", status, exc.detail)
        code, en, vi = _INTERNAL
        details = None
    message = en if wants_english(request) else vi
    return _response(status, error_body(code, message, details), getattr(exc, "headers", None))


def media_error_handler(request: Request[Any, Any, Any], exc: MediaError) -> Response[Any]:
    """The media capability's refusals carry their own status (404, 409, 413, 415, 422, 429…)."""
    message = exc.message if wants_english(request) else exc.message_vi
    return _response(exc.status, error_body(exc.code, message, exc.details), exc.headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    from api.core.overload import database_error  # it builds on this module

    settings = request.app.state.get("settings")
    failed = database_error(exc, request.url.path, settings.db_retry_after_s if settings is not None else 2)
    if failed is not None:  # the database is away or busy: a 503, logged once in a while
        return app_error_handler(request, failed)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        internal_error_json(wants_english(request)),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    MediaError: media_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
