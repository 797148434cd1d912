"""The public pages in a real browser on a phone-sized screen: a report's page (where its QR code
points) and the wards' league table, read in Vietnamese with its diacritics, with no script at all."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import LiveWorld

PHONE = ViewportSize(width=360, height=740)


def fits_the_screen(page: Page) -> bool:
    """Nothing wider than the screen but the table, which scrolls in its own box."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_report_page_on_a_phone(page: Page, live: LiveWorld, page_errors: list[str]) -> None:
    page.set_viewport_size(PHONE)
    report = live.reports["w1_late"]
    answer = page.goto(f"{live.base_url}/r/{report.code}")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Hư hỏng mặt đường")
    expect(page.get_by_text("Đã tiếp nhận · Quá hạn xử lý")).to_be_visible()
    expect(page.get_by_text("Phường/xã: Phường Một")).to_be_visible()
    expect(page.get_by_role("heading", name="Diễn biến")).to_be_visible()
    expect(page.get_by_text("Người dân gửi phản ánh")).to_be_visible()
    expect(page).to_have_title(re.compile(f"Hư hỏng mặt đường · Phường Một · {report.code}"))
    assert page.evaluate("document.scripts.length") == 0
    assert fits_the_screen(page)
    # the other language, by the link the page offers
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Road damage")
    expect(page.get_by_text("Acknowledged · Overdue")).to_be_visible()
    assert not page_errors, page_errors


def test_an_unknown_report_is_a_plain_page(page: Page, live: LiveWorld) -> None:
    page.set_viewport_size(PHONE)
    answer = page.goto(f"{live.base_url}/r/PA-ZZZZ-ZZZZ")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy phản ánh")


def _public_count(live: LiveWorld, ward: str) -> int:
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        listed = http.get("/v1/reports", params={"ward": ward, "limit": 100}).json()
    return len(listed["items"])


def test_the_league_table_sorts_by_links(page: Page, live: LiveWorld, page_errors: list[str]) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live.base_url}/transparency?area=T1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bảng xếp hạng phường/xã")
    wards = page.locator("tbody th")
    expect(wards).to_have_text(["Phường Ba", "Phường Hai", "Phường Một"])  # by name
    # every ward received its public reports, as the public list counts them (other browser tests
    # add cases to the shared world, so the seed alone is not the count)
    received = {w: _public_count(live, w) for w in ("W1", "W2", "W3")}
    names = {"W1": "Phường Một", "W2": "Phường Hai", "W3": "Phường Ba"}
    expect(page.locator("tbody tr").first.locator("td").first).to_have_text(str(received["W3"]))
    most = sorted(received, key=lambda w: (-received[w], names[w]))  # ties keep the name order
    page.get_by_role("link", name="Tiếp nhận").click()
    expect(page).to_have_url(re.compile(r"sort=received&dir=desc"))
    expect(wards.first).to_have_text(names[most[0]])
    page.get_by_role("link", name=re.compile("Tiếp nhận")).click()  # again: the other way
    expect(page).to_have_url(re.compile(r"sort=received&dir=asc"))
    expect(wards.last).to_have_text(names[most[0]])
    # the period, through the form (no script: a GET)
    page.fill('input[name="from"]', "2020-01-01")
    page.fill('input[name="to"]', "2020-01-31")
    page.get_by_role("button", name="Xem").click()
    expect(page).to_have_url(re.compile(r"from=2020-01-01&to=2020-01-31"))
    expect(page.locator("tbody tr")).to_have_count(3)  # every ward, even with nothing received
    expect(page.locator("tbody tr td:first-of-type")).to_have_text(["0", "0", "0"])
    assert page.evaluate("document.scripts.length") == 0
    assert fits_the_screen(page)
    assert not page_errors, page_errors
