"""Keyset pages: one cursor codec and one way of cutting a page for every list.

Lists take `cursor` and answer `next_cursor` (null on the last page). A cursor is the sort key of the
page's last row, a JSON array in url-safe base64 without padding; clients pass it back unchanged. A
list decodes it with the types of its own key, so whatever is not a cursor it made (not base64, not
ASCII, NUL inside, the wrong shape, an impossible or out-of-range date) is one error: 400 `bad_cursor`, before any
of it reaches SQL.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from api.core.errors import AppError
from api.core.inputs import check_value

T = TypeVar("T")
R = TypeVar("R")

MAX_LENGTH = 512  # far above any key we write; anything longer is not ours
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")

# An instant in a key: time-zone aware, as the database hands it out.
Instant = Annotated[datetime, msgspec.Meta(tz=True)]

# The query parameter every list takes. No length limit here: an overlong one is a bad cursor too.
Cursor = Annotated[
    str | None, QueryParameter(description="`next_cursor` from the previous page; omit for the first")
]


def bad_cursor() -> AppError:
    return AppError(
        "This page cursor is not valid; start again from the first page.",
        message_vi="Con trỏ phân trang không hợp lệ; vui lòng tải lại từ trang đầu.",
        code="bad_cursor",
        details={"parameter": "cursor"},
    )


def encode(*key: Any) -> str:
    """The cursor for a row whose sort key is `key` (str, int, date, datetime, UUID or None)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).rstrip(b"=").decode("ascii")


def decode(cursor: str, shape: type[T]) -> T:
    """The key in `cursor`, checked against `shape` (a tuple type such as tuple[Instant, uuid.UUID]).

    Raises the `bad_cursor` AppError for anything else."""
    if len(cursor) > MAX_LENGTH or not _ALPHABET.fullmatch(cursor):
        raise bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw, type=shape)
    except (ValueError, msgspec.MsgspecError):
        raise bad_cursor() from None
    for part in key if isinstance(key, tuple) else (key,):
        if not _storable(part):
            raise bad_cursor()
    return key


def _storable(value: object) -> bool:
    """Whether the value is one the API takes as a parameter (api.core.inputs: clean text, bigint,
    an instant in range)."""
    try:
        check_value(value, "cursor")
    except AppError:
        return False
    return True


def page(rows: Sequence[R], limit: int, key: Callable[[R], tuple[Any, ...]]) -> tuple[list[R], str | None]:
    """Rows fetched with LIMIT `limit` + 1 → (the page, the cursor after it or None at the end)."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return items, (encode(*key(items[-1])) if more else None)


__all__ = ["MAX_LENGTH", "Cursor", "Instant", "bad_cursor", "decode", "encode", "page"]
