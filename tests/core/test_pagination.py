"""The one cursor codec (api/core/pagination.py): round trips, and every kind of bad cursor answering
400 `bad_cursor` through the list endpoints over HTTP."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from api.catalogue import deadlines
from api.core import pagination
from api.core.errors import AppError
from api.core.pagination import Instant
from tests.assertions import assert_error_shape
from tests.factories import resident, staff


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# ---- the codec ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shape"),
    [
        ((datetime(2031, 3, 3, 9, 30, 0, 123456, tzinfo=UTC), uuid.uuid4()), tuple[Instant, uuid.UUID]),
        ((datetime(2031, 3, 3, 2, 0, tzinfo=UTC), "HN-2031-000042"), tuple[Instant | None, str]),
        ((None, "HN-2031-000042"), tuple[Instant | None, str]),
        ((date(2031, 4, 30),), tuple[date]),
        (("Nguyễn Văn Đức",), tuple[str]),
        ((-(2**63), 2**63 - 1), tuple[int, int]),
    ],
)
def test_round_trip(key: tuple[object, ...], shape: type) -> None:
    cursor = pagination.encode(*key)
    assert cursor.isascii() and "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert pagination.decode(cursor, shape) == key


def test_instants_keep_their_moment() -> None:
    local = datetime(2031, 3, 3, 9, 0, tzinfo=UTC).astimezone()
    (back,) = pagination.decode(pagination.encode(local), tuple[Instant])
    assert back == local and back.utcoffset() is not None


@pytest.mark.parametrize(
    ("cursor", "shape"),
    [
        ("@@@", tuple[str]),
        ("Zm9v", tuple[str]),  # "foo": base64, not JSON
        (b64('["a"'), tuple[str]),  # truncated JSON
        ("A", tuple[str]),  # impossible base64 length
        ("Wy" + "é", tuple[str]),
        (b64('["a"]') + "\x00", tuple[str]),
        (b64('["a\\u0000b"]'), tuple[str]),  # NUL inside the key
        (b64('["\\ud800"]'), tuple[str]),  # a lone surrogate PostgreSQL would refuse
        (b64('{"a": 1}'), tuple[str]),
        (b64('["a", "b"]'), tuple[str]),
        (b64("[1]"), tuple[str]),
        (b64('["2031-02-30"]'), tuple[date]),
        (b64('["2031-03-03T09:00:00"]'), tuple[Instant]),  # no time zone
        (b64(f"[{2**63}]"), tuple[int]),
        (b64('["' + "a" * 600 + '"]'), tuple[str]),
    ],
)
def test_decode_refuses(cursor: str, shape: type) -> None:
    with pytest.raises(AppError) as exc:
        pagination.decode(cursor, shape)
    assert (exc.value.status_code, exc.value.code) == (400, "bad_cursor")


def test_page_cuts_and_points_past_the_last_row() -> None:
    rows = list(range(5))
    assert pagination.page(rows, 5, lambda r: (r,)) == (rows, None)
    items, cursor = pagination.page([*rows, 5], 5, lambda r: (r,))
    assert items == rows and cursor is not None
    assert pagination.decode(cursor, tuple[int]) == (4,)
    assert pagination.page([], 5, lambda r: (r,)) == ([], None)


# ---- over HTTP ----------------------------------------------------------------------------------

_INSTANT_KEY = b64('["2031-02-30T09:00:00+07:00", "00000000-0000-0000-0000-000000000000"]')
_CODE_KEY = b64('["2031-02-30T09:00:00+07:00", "HN-1"]')

# (what is wrong, the raw query value (already percent-encoded), the endpoints that must refuse it)
ALL = ("reports", "notifications", "users", "holidays", "moderation", "areas")
BAD = [
    ("garbage", "!!not-a-cursor!!", ALL),
    ("truncated", pagination.encode(datetime(2031, 3, 3, tzinfo=UTC), uuid.uuid4())[:-7], ALL),
    ("nul", "%00", ALL),
    ("nul after a good one", pagination.encode("x") + "%00", ALL),
    ("non-ascii", "Wy%C3%A9", ALL),
    ("too long", "A" * 1000, ALL),
    ("valid base64, not JSON", b64("hello|world"), ALL),
    ("valid base64, wrong shape", b64('{"after": "x"}'), ALL),
    ("valid base64, too many keys", b64('["a", "b", "c"]'), ALL),
    ("nul inside the key", b64('["a\\u0000"]'), ("users", "areas")),
    ("out-of-range date", _INSTANT_KEY, ("reports", "notifications")),
    ("out-of-range date", _CODE_KEY, ("moderation",)),
    ("out-of-range date", b64('["2031-02-30"]'), ("holidays",)),
]


@pytest.fixture
async def lists(db_conn: AsyncConnection) -> dict[str, tuple[str, dict[str, str]]]:
    _, admin = await staff(db_conn, "admin")
    _, someone = await resident(db_conn)
    return {
        "reports": ("/v1/reports", {}),
        "notifications": ("/v1/me/notifications", someone),
        "users": ("/v1/admin/users", admin),
        "holidays": ("/v1/admin/holidays", admin),
        "moderation": ("/v1/moderation/queue", admin),
        "areas": ("/v1/areas", {}),
    }


@pytest.mark.parametrize(("what", "raw", "endpoints"), BAD, ids=[f"{w}-{'+'.join(e)}" for w, _, e in BAD])
async def test_bad_cursor_is_one_error_everywhere(
    client: httpx.AsyncClient,
    lists: dict[str, tuple[str, dict[str, str]]],
    what: str,
    raw: str,
    endpoints: tuple[str, ...],
) -> None:
    for name in endpoints:
        path, headers = lists[name]
        r = await client.get(f"{path}?cursor={raw}", headers=headers)
        if "%00" in raw:  # refused with every query string holding a control character (api/core/inputs.py)
            err = assert_error_shape(r, 400, "invalid_text")
            assert err["details"] == {"in": "query"}, (what, name)
            continue
        err = assert_error_shape(r, 400, "bad_cursor")
        assert err["details"] == {"parameter": "cursor"}, (what, name)


async def test_bad_cursor_speaks_both_languages(
    client: httpx.AsyncClient, lists: dict[str, tuple[str, dict[str, str]]]
) -> None:
    for name in ("reports", "holidays"):
        path, headers = lists[name]
        vi = (await client.get(f"{path}?cursor=@@", headers=headers)).json()["error"]["message"]
        en = (await client.get(f"{path}?cursor=@@", headers={**headers, "Accept-Language": "en"})).json()
        assert "phân trang" in vi and "cursor" in en["error"]["message"]


async def test_every_list_pages_by_cursor(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    """An empty cursor is the first page; each list answers `next_cursor`, null at the end."""
    _, admin = await staff(db_conn, "admin", username="a-admin")
    for i in range(3):
        await staff(db_conn, "officer", username=f"b-officer-{i}")
    for i in range(3):
        r = await client.post(
            "/v1/admin/holidays",
            json={"day": str(date(2031, 3, 12) + timedelta(days=i)), "name": f"Nghỉ {i}"},
            headers=admin,
        )
        assert r.status_code == 201
    for path, params, field, total in [
        ("/v1/admin/users", {}, "username", 4),
        # the admin's three days and the `holidays` package's days of the year
        ("/v1/admin/holidays", {"year": 2031}, "day", 3 + sum(map(len, deadlines.package_year(2031)))),
    ]:
        seen: list[str] = []
        cursor = ""
        for _ in range(20):
            r = await client.get(path, params={**params, "limit": 2, "cursor": cursor}, headers=admin)
            assert r.status_code == 200, r.text
            seen += [item[field] for item in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert cursor is None and len(seen) == total and seen == sorted(seen)
