"""GET /r/{code}: the page a report's QR code opens — the public view only, as light HTML."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import (
    make_city,
    make_report,
    photo_report,
    report_event,
    resident,
    session_on,
    staff,
    submit_report,
)
from tests.factories.reports import Report, update_report
from tests.pages.conftest import Worker

MAX_PAGE_BYTES = 50_000
NAME, PHONE, EMAIL = "Nguyễn Thị Hoa", "0901234567", "hoa.nguyen@example.vn"


def og(page: str, prop: str) -> str | None:
    found = re.search(rf'<meta property="{prop}" content="([^"]*)">', page)
    return found.group(1) if found else None


def weigh(r: httpx.Response, what: str) -> int:
    size = len(r.content)
    print(f"{what}: {size} bytes (limit {MAX_PAGE_BYTES})")
    assert size <= MAX_PAGE_BYTES
    return size


async def anonymous_report(client: httpx.AsyncClient, db_conn: AsyncConnection) -> tuple[str, str]:
    """An anonymous report by a named resident with a phone, whose text gives a phone and an email;
    (code, the resident's device id)."""
    await make_city(db_conn)
    device = f"android-{uuid.uuid4().hex[:12]}"
    r = await client.post(
        "/v1/auth/device", json={"device_id": device, "device_secret": "s" * 32, "platform": "android"}
    )
    assert r.status_code == 200, r.text
    me = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.patch("/v1/me", json={"display_name": NAME, "phone": PHONE}, headers=me)
    assert r.is_success, r.text
    lat, lng = 10.775, 106.705
    body = {
        "category": "ngap-nuoc",
        "description": f"Nước ngập sâu trước chợ, gọi 0912 345 678 hoặc {EMAIL} để biết thêm",
        "lat": lat,
        "lng": lng,
        "anonymous": True,
    }
    r = await client.post("/v1/reports", json=body, headers=me)
    assert r.status_code == 201, r.text
    return str(r.json()["code"]), device


async def test_anonymous_report_page_shows_no_identity_and_masked_text(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    code, device = await anonymous_report(client, db_conn)
    officer, _ = await staff(db_conn, "officer", ["W1"])
    report_id = await db_conn.scalar(text("SELECT id FROM reports WHERE code = :c"), {"c": code})
    async with session_on(db_conn) as s:
        await report_event(
            s,
            Report(report_id, code, "W1", "ngap-nuoc"),
            "commented",
            actor=officer,
            message="Đã cử đội thoát nước, liên hệ 0987 654 321",
        )
        await s.commit()

    r = await client.get(f"/r/{code}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    weigh(r, "report page")
    assert "<script" not in page
    # what the public reads
    assert "Ngập nước" in page or "ngập" in page.lower()
    assert "Nước ngập sâu trước chợ" in page and "Phường Một" in page
    assert "Mới gửi, chờ tiếp nhận" in page  # the status in words
    assert "Đã cử đội thoát nước" in page and "Phản hồi" in page  # the public timeline
    # nothing of who sent it, and personal data masked (in the text and the officer's reply)
    for secret in (NAME, PHONE, EMAIL, device, "0912 345 678", "0912345678", "0987 654 321"):
        assert secret not in page, secret
    public_json = (await client.get(f"/v1/reports/{code}")).json()
    assert public_json["description"] in page  # the one masking (api/reports/views.py), unchanged
    # Open Graph
    assert og(page, "og:title") and code in str(og(page, "og:title"))
    assert og(page, "og:description") == public_json["description"]
    assert og(page, "og:url") == f"http://testserver/r/{code}"
    assert og(page, "og:image") is None  # no photo
    # cache: short, with an ETag that answers 304
    assert r.headers["cache-control"] == "public, max-age=60"
    again = await client.get(f"/r/{code}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_english_and_lowercase_code(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    code, _ = await anonymous_report(client, db_conn)
    en = await client.get(f"/r/{code.lower()}?lang=en")
    assert en.status_code == 200 and '<html lang="en">' in en.text and "Received, awaiting review" in en.text
    by_header = await client.get(f"/r/{code}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Timeline" in by_header.text
    vi = await client.get(f"/r/{code}", headers={"Accept-Language": "en"}, params={"lang": "vi"})
    assert '<html lang="vi">' in vi.text and "Diễn biến" in vi.text
    assert en.headers["etag"] != vi.headers["etag"]


async def test_text_is_escaped(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" {title} {css}'
    body = await submit_report(client, me, "W1", description=hostile)
    page = (await client.get(f"/r/{body['code']}")).text
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{title}" in page and "{css}" in page  # given back as text, never filled in
    assert 'content="&lt;script&gt;' in page  # og:description escaped inside its attribute


async def test_photo_is_the_blurred_public_rendition(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    pid, code = await photo_report(client, me, "W1")
    await run_worker()
    public_json = (await client.get(f"/v1/reports/{code}")).json()
    renditions = public_json["media"][0]["renditions"]
    r = await client.get(f"/r/{code}")
    page = r.text
    weigh(r, "report page with a photo")
    # lasting addresses (the renditions' own links expire) that lead to the public renditions
    image = og(page, "og:image")
    assert image == f"http://testserver/r/{code}/photo/{pid}/large"
    assert f'src="/r/{code}/photo/{pid}/thumb"' in page and f'href="/r/{code}/photo/{pid}/large"' in page
    for size in ("large", "thumb"):
        hop = await client.get(f"/r/{code}/photo/{pid}/{size}")
        assert hop.status_code == 302, hop.text
        assert urlsplit(hop.headers["location"]).path == urlsplit(renditions[size]).path
        photo = await client.get(hop.headers["location"])
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/webp"
    # the page's bytes do not change with the links' expiry: the ETag holds
    assert (await client.get(f"/r/{code}", headers={"If-None-Match": r.headers["etag"]})).status_code == 304
    # nothing else is reachable that way: the staff's unblurred copy, another report's photo, a held one
    assert "original" not in page
    for path in (
        f"/r/{code}/photo/{pid}/original",
        f"/r/{code}/photo/{uuid.uuid4()}/large",
    ):
        assert (await client.get(path)).status_code == 404, path
    other = await submit_report(client, me, "W2")
    assert (await client.get(f"/r/{other['code']}/photo/{pid}/large")).status_code == 404
    await update_report(db_conn, code, visibility="hidden")
    assert (await client.get(f"/r/{code}/photo/{pid}/large")).status_code == 404


@pytest.mark.parametrize("visibility", ["pending_review", "hidden", "private"])
async def test_a_report_the_public_may_not_see_is_404(
    client: httpx.AsyncClient, db_conn: AsyncConnection, visibility: str
) -> None:
    code, _ = await anonymous_report(client, db_conn)
    await update_report(db_conn, code, visibility=visibility)
    r = await client.get(f"/r/{code}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy phản ánh" in r.text and "Nước ngập" not in r.text


@pytest.mark.parametrize("code", ["PA-ZZZZ-ZZZZ", "nope", "PA-0000-0000", "x" * 200, "%3Cb%3E"])
async def test_unknown_or_malformed_code_is_a_plain_404_page(client: httpx.AsyncClient, code: str) -> None:
    r = await client.get(f"/r/{code}")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy phản ánh" in r.text and "<b>" not in r.text
    weigh(r, "404 page")


@pytest.mark.parametrize("code", ["PA-ZZZZ-ZZZ%00", "%00"])
async def test_a_control_character_in_the_code_is_refused_before_routing(
    client: httpx.AsyncClient, code: str
) -> None:
    """Refused for every path alike (api/core/inputs.py), in the one error shape."""
    assert_error_shape(await client.get(f"/r/{code}"), 400, "invalid_text")


async def test_a_declined_report_says_why_in_words(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    report = await make_report(db_conn, "W1", status="rejected")
    r = await client.get(f"/r/{report.code}")
    assert r.status_code == 200
    assert "Không được xử lý" in r.text and "Không có việc cần xử lý" in r.text  # status, reason
    assert "not_actionable" not in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # no script may run at all
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    en = await client.get(f"/r/{report.code}?lang=en")
    assert "Declined" in en.text and "Nothing to act on" in en.text


async def test_the_reporters_rating_with_its_comment_masked(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    me = await resident(client)
    report = await make_report(db_conn, "W1", status="resolved", reporter=me)
    r = await client.post(
        f"/v1/reports/{report.code}/rating",
        json={"stars": 4, "comment": "Xử lý nhanh, cảm ơn. Gọi tôi 0912 345 678"},
        headers=me.headers,
    )
    assert r.status_code == 200, r.text
    page = (await client.get(f"/r/{report.code}")).text
    assert "Người gửi đánh giá: 4/5" in page and "Xử lý nhanh, cảm ơn" in page
    assert "0912 345 678" not in page
