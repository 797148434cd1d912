"""What the API accepts of raw input, checked once where input is parsed, before any of it reaches
Python arithmetic, `hmac` or PostgreSQL.

- The request target (`check_target`, from the outermost ASGI layer, `entry`): the path and the query
  string must be UTF-8 without control characters. PostgreSQL refuses NUL in text outright; nothing
  this API names or searches holds any other control character.
- JSON bodies (`check_json`, from the one JSON decoding of Litestar's requests, `CheckedRequest`, and
  of the hot routes): UTF-8, no control character in a string but tab and line breaks, and nested at
  most `MAX_DEPTH` deep (the decoder would otherwise recurse until Python gives up).
- Typed parameters (`check_parameters`, Litestar's `before_request` hook): what a handler declares as
  a date, a date-time, an integer or a float must lie in the range the database and the calendar
  take: `EARLIEST`..`LATEST` for dates, PostgreSQL's bigint for integers, finite floats.

Every refusal is a 400 in the one error shape: `invalid_text`, `invalid_json`, `out_of_range`.
"""

from __future__ import annotations

import math
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.types import ASGIApp, Receive, Scope, Send

from api.core.errors import AppError, error_json, prefers_english

# The instants and days any filter, cursor or calendar entry may name: wide enough for every record
# the service keeps, narrow enough that no arithmetic on them (local days, UTC offsets) overflows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
BIGINT = range(-(2**63), 2**63)
# A body's integer bound for an `integer` (int4) column
Int4 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
MAX_DEPTH = 32  # far deeper than any body this API reads (a report's answers are two levels)

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_CONTROL_TEXT = re.compile("[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line breaks are text
# A JSON escape of a control character other than tab, line feed and carriage return, preceded by an
# even number of backslashes (so `\\u0000`, an escaped backslash and the letters, is text).
_JSON_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F])|u007[fF]|[bf])",
)
# A JSON string (an unterminated one runs to the end, so the scan stays linear) …
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
# … and a container holding no other: each pass over the body folds one level away.
_INNERMOST = re.compile(rb"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_BRACKETS = re.compile(rb"[\[\]{}]")


def invalid_text(where: str) -> AppError:
    return AppError(
        "The request holds text that is not valid: not UTF-8, or with a control character.",
        message_vi="Yêu cầu chứa văn bản không hợp lệ: không phải UTF-8 hoặc có ký tự điều khiển.",
        code="invalid_text",
        details={"in": where},
    )


def invalid_json(reason: str) -> AppError:
    return AppError(
        "The request body is not JSON this API reads.",
        message_vi="Nội dung gửi lên không phải JSON hợp lệ.",
        code="invalid_json",
        details={"reason": reason},
    )


def out_of_range(parameter: str, allowed: str) -> AppError:
    return AppError(
        f"{parameter} is out of range ({allowed}).",
        message_vi=f"{parameter} nằm ngoài phạm vi cho phép ({allowed}).",
        code="out_of_range",
        details={"parameter": parameter, "allowed": allowed},
    )


# ---------------------------------------------------------------------------- the request target


def check_target(path: str, query: bytes) -> None:
    """400 `invalid_text` for a path or a query string that is not clean UTF-8 text."""
    if _CONTROL_TEXT.search(path):
        raise invalid_text("path")
    try:
        path.encode("utf-8")  # a server that decoded the path leniently leaves lone surrogates
    except UnicodeEncodeError:
        raise invalid_text("path") from None
    if query:
        raw = unquote_to_bytes(query) if b"%" in query else query
        if _CONTROL.search(raw) or not _utf8(raw):
            raise invalid_text("query")


def clean_text(value: str) -> bool:
    """Whether `value` is text a parameter may carry (no control character, encodable)."""
    return _CONTROL_TEXT.search(value) is None and _utf8_str(value)


def _utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_str(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# (path, error, English?) → (body, content type) for a path that answers errors in a shape of its own
ErrorRenderer = Callable[[str, AppError, bool], tuple[bytes, str] | None]


def entry(app: ASGIApp, render: ErrorRenderer | None = None) -> ASGIApp:
    """The outermost check of every HTTP request, before routing: a bad target is answered here (in
    the one error shape, or as `render` answers for the path)."""

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                check_target(scope["path"], scope.get("query_string", b""))
            except AppError as exc:
                await _send_error(scope, send, exc, render)
                return
        await app(scope, receive, send)

    return checked


async def _send_error(scope: Scope, send: Send, exc: AppError, render: ErrorRenderer | None) -> None:
    language = next((v for k, v in scope["headers"] if k == b"accept-language"), b"").decode("latin-1")
    english = prefers_english(language)
    own = render(scope["path"], exc, english) if render else None
    body, content_type = own or (error_json(exc, english), "application/json")
    start: Any = {
        "type": "http.response.start",
        "status": exc.status_code,
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)


# ---------------------------------------------------------------------------- JSON bodies


def check_json(body: bytes) -> None:
    """400 for a JSON body that is not UTF-8, escapes a control character or nests too deep."""
    if not _utf8(body):
        raise invalid_text("body")
    if b"\\" in body and _JSON_CONTROL.search(body):
        raise invalid_text("body")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _too_deep(body):
        raise invalid_json(f"nested deeper than {MAX_DEPTH} levels, or brackets that do not pair")


def _too_deep(body: bytes) -> bool:
    """Whether folding innermost containers away takes more than MAX_DEPTH passes (each in C), or
    gets stuck: brackets that never pair, which the decoder would follow as deep as they go before
    finding the body cut short."""
    folded = _STRING.sub(b"0", body)
    for _ in range(MAX_DEPTH):
        smaller = _INNERMOST.sub(b"0", folded)
        if _BRACKETS.search(smaller) is None:
            return False
        if smaller == folded:
            return True
        folded = smaller
    return True


class CheckedRequest(Request[Any, Any, State]):
    """Litestar's request whose JSON body is checked before it is decoded (every `data` parameter)."""

    async def json(self) -> Any:
        check_json(await self.body())
        try:
            value = await super().json()
        except RecursionError:  # `check_json` bounds the depth; this is the decoder's own limit
            raise invalid_json("nested too deep") from None
        _check_numbers(value)
        return value

    async def form(self) -> Any:
        """A form's text fields (Open311's requests) hold no control character but tab and line
        breaks, like JSON strings."""
        form = await super().form()
        for key, value in form.multi_items():
            if not clean_text(key) or (
                isinstance(value, str) and (_CONTROL_IN_TEXT.search(value) or not _utf8_str(value))
            ):
                raise invalid_text("body")
        return form


def _check_numbers(value: Any) -> None:
    """JSON integers are unbounded; PostgreSQL's stop at bigint (a column's own bound is its schema's)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value not in BIGINT:
            raise out_of_range("a number in the body", "a 64-bit integer")
    elif isinstance(value, dict):
        for item in value.values():
            _check_numbers(item)
    elif isinstance(value, list):
        for item in value:
            _check_numbers(item)


# ---------------------------------------------------------------------------- typed parameters


def check_instant(value: date, parameter: str) -> None:
    """400 `out_of_range` for a day or an instant outside EARLIEST..LATEST."""
    if isinstance(value, datetime):
        try:
            ok = EARLIEST <= (value if value.tzinfo else value.replace(tzinfo=UTC)) <= LATEST
        except OverflowError:
            ok = False
    else:
        ok = EARLIEST.date() <= value <= LATEST.date()
    if not ok:
        raise out_of_range(parameter, f"{EARLIEST.year}-01-01 to {LATEST.year}-12-31")


def check_value(value: object, parameter: str) -> None:
    """The range rule for one parsed value: dates, integers, floats, text; others pass."""
    if isinstance(value, date):
        check_instant(value, parameter)
    elif isinstance(value, bool) or value is None or isinstance(value, uuid.UUID):
        return
    elif isinstance(value, int):
        if value not in BIGINT:
            raise out_of_range(parameter, "a 64-bit integer")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise out_of_range(parameter, "a finite number")
    elif isinstance(value, str):
        if not clean_text(value):
            raise invalid_text(parameter)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item, parameter)


_Checked = tuple[tuple[str, Any], ...]  # (query parameter's name as sent, its type)
_RANGED = (date, int, float)


def _ranged(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, _RANGED) and annotation is not bool
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _ranged(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        return any(_ranged(a) for a in typing.get_args(annotation))
    return False


def _plan(plans: dict[int, _Checked], handler: Any) -> _Checked:
    """The handler's (and its dependencies') query parameters of a ranged type, found once per app
    (`plans` lives in the app's state, as long as its handlers)."""
    plan = plans.get(id(handler))
    if plan is None:
        signatures = [handler.parsed_fn_signature]
        for provide in handler.resolve_dependencies().values():
            signature = getattr(provide, "parsed_fn_signature", None)
            if signature is not None:
                signatures.append(signature)
        found: list[tuple[str, Any]] = []
        for signature in signatures:
            for name, field in signature.parameters.items():
                kwarg = field.kwarg_definition
                if not _ranged(field.annotation):
                    continue
                alias = getattr(kwarg, "query", None) or getattr(kwarg, "name", None) or name
                found.append((alias, field.annotation))
        plan = plans[id(handler)] = tuple(found)
    return plan


def _query_values(request: Request[Any, Any, Any], name: str, annotation: Any) -> Iterator[Any]:
    for raw in request.query_params.getall(name, []):
        try:
            yield msgspec.convert(raw, annotation, strict=False)
        except (msgspec.ValidationError, TypeError, ValueError, OverflowError):
            continue  # not of its type: Litestar's own validation says so, in its words


async def check_parameters(request: Request[Any, Any, Any]) -> None:
    """Litestar's `before_request` hook: typed query and path parameters within their ranges."""
    for name, value in request.path_params.items():
        check_value(value, name)
    state = request.app.state
    plans = state.get("input_plans")
    if plans is None:
        plans = state["input_plans"] = {}
    for name, annotation in _plan(plans, request.route_handler):
        if name in request.path_params:
            continue
        for value in _query_values(request, name, annotation):
            check_value(value, name)


__all__ = [
    "BIGINT",
    "EARLIEST",
    "LATEST",
    "MAX_DEPTH",
    "CheckedRequest",
    "Int4",
    "check_instant",
    "check_json",
    "check_parameters",
    "check_target",
    "check_value",
    "clean_text",
    "entry",
    "invalid_json",
    "invalid_text",
    "out_of_range",
]
