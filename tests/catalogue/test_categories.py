"""GET /v1/categories: the seeded Vietnamese set, localised, cacheable."""

from __future__ import annotations

import httpx


async def test_seeded_categories_in_both_languages(client: httpx.AsyncClient) -> None:
    vi = (await client.get("/v1/categories")).json()["items"]
    codes = [c["code"] for c in vi]
    for expected in (
        "ngap-nuoc",
        "rac-thai",
        "den-duong",
        "hu-hong-duong",
        "lan-chiem-via-he",
        "mat-dien",
        "khac",
    ):
        assert expected in codes
    flood = next(c for c in vi if c["code"] == "ngap-nuoc")
    assert flood["name"] == "Ngập nước" and flood["questions"][0]["label"] == "Độ sâu ước tính (cm)"
    assert flood["deadlines"] == {
        "acknowledge_hours": 2,
        "resolve_value": 2,
        "resolve_unit": "days",
        "clock": "around_the_clock",  # flooding is urgent: its clock runs nights and holidays too
    }
    en = (await client.get("/v1/categories", headers={"Accept-Language": "en"})).json()["items"]
    assert next(c for c in en if c["code"] == "ngap-nuoc")["name"] == "Flooding"


async def test_etag_and_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/categories")
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"] and first.headers["vary"] == "Accept-Language"
    again = await client.get("/v1/categories", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    en = await client.get("/v1/categories", headers={"If-None-Match": etag, "Accept-Language": "en"})
    assert en.status_code == 200 and en.headers["etag"] != etag
