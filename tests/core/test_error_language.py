"""Errors answer in the caller's language, details included: validation (the fast submit path and
Litestar's own), and the answers to a category's questions."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import centre, make_city, resident

VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en"}


def _body(**kw: object) -> dict[str, object]:
    lat, lng = centre("W1")
    return {"category": "ngap-nuoc", "description": "Đường ngập sâu", "lat": lat, "lng": lng, **kw}


async def test_report_validation_details_in_vietnamese(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    vi = assert_error_shape(
        await client.post("/v1/reports", json=_body(lng="abc"), headers={**me, **VI}), 400, "validation_error"
    )
    assert vi["message"] == "Một số trường bị thiếu hoặc không hợp lệ."
    assert vi["details"] == [{"message": "Cần số, nhận được chuỗi ký tự.", "key": "lng", "source": "body"}]
    en = assert_error_shape(
        await client.post("/v1/reports", json=_body(lng="abc"), headers={**me, **EN}), 400, "validation_error"
    )
    assert en["details"] == [{"message": "Expected `float`, got `str`", "key": "lng", "source": "body"}]
    unknown = await client.post("/v1/reports", json=_body(extra=1), headers={**me, **VI})
    assert assert_error_shape(unknown, 400, "validation_error")["details"][0]["message"] == (
        "Trường `extra` không được hỗ trợ."
    )
    far = await client.post("/v1/reports", json=_body(lat=91), headers={**me, **VI})
    assert assert_error_shape(far, 400, "validation_error")["details"][0]["message"] == (
        "Giá trị phải không lớn hơn 90.0."
    )


async def test_framework_validation_in_vietnamese(client: httpx.AsyncClient) -> None:
    """A body Litestar decodes itself (not a fast path): the same Vietnamese sentences."""
    r = await client.post("/v1/auth/login", json={"username": "a"}, headers=VI)
    err = assert_error_shape(r, 400, "validation_error")
    assert [d["message"] for d in err["details"]] == ["Thiếu trường bắt buộc `password`."]
    en = assert_error_shape(
        await client.post("/v1/auth/login", json={"username": "a"}, headers=EN), 400, "validation_error"
    )
    assert en["details"][0]["message"] == "Object missing required field `password`"


async def test_answers_explained_in_vietnamese(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    payload = _body(category="tieng-on", answers={"time_of_day": "trua", "colour": "x"})
    vi = assert_error_shape(
        await client.post("/v1/reports", json=payload, headers={**me, **VI}), 422, "invalid_answers"
    )
    assert vi["details"] == {
        "colour": "không có câu hỏi này",
        "time_of_day": "phải là một trong các giá trị ['sang', 'chieu', 'toi', 'dem']",
    }
    en = assert_error_shape(
        await client.post("/v1/reports", json=payload, headers={**me, **EN}), 422, "invalid_answers"
    )
    assert en["details"]["colour"] == "unknown question"
    required = await client.post("/v1/reports", json=_body(category="cay-gay-do"), headers={**me, **VI})
    assert assert_error_shape(required, 422, "invalid_answers")["details"] == {
        "blocking_road": "bắt buộc trả lời"
    }
