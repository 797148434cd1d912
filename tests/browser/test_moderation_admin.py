"""Moderators and admins in the browser: a held report is redacted and published from the moderation
queue (the public then reads the redacted, masked text); an admin issues a partner key (shown once),
sees the working calendar with the national holidays, and the staff with their scopes."""

from __future__ import annotations

import uuid
from datetime import date

import holidays
import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveWorld, sign_in
from tests.factories import centre
from tests.factories.people import DEVICE_SECRET


def _held_report(live: LiveWorld) -> str:
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        body = {
            "device_id": f"android-{uuid.uuid4().hex[:12]}",
            "device_secret": DEVICE_SECRET,
            "platform": "android",
        }
        token = http.post("/v1/auth/device", json=body).json()["access_token"]
        lat, lng = centre("W3")  # outside the leader's wards: the map tests count W1 and W2
        made = http.post(
            "/v1/reports",
            json={
                "category": "ngap-nuoc",
                "lat": lat,
                "lng": lng,
                "description": "Đ.m lũ kia đổ nước thải, dit me may, gọi 0903 111 222",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 201 and made.json()["visibility"] != "public", made.text
        return str(made.json()["code"])


def test_moderator_redacts_a_held_report(page: Page, live: LiveWorld) -> None:
    code = _held_report(live)
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        assert http.get(f"/v1/reports/{code}").status_code == 404  # held: not public yet
    sign_in(page, live, "moderator")
    expect(page).to_have_url(live.console + "#/moderation")
    item = page.locator(f'article[data-code="{code}"]')
    expect(item).to_contain_text("Ngôn từ thô tục")  # why it is held, in words
    item.get_by_label("Nội dung công chúng sẽ thấy").fill("Có người đổ nước thải ra đường, gọi 0903 111 222")
    item.get_by_label("Lý do (ghi vào nhật ký)").fill("Bỏ từ ngữ thô tục")
    item.get_by_role("button", name="Biên tập và công khai").click()
    expect(item).to_have_count(0)
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        public = http.get(f"/v1/reports/{code}")
        assert public.status_code == 200, public.text
        text = public.json()["description"]
    assert text.startswith("Có người đổ nước thải ra đường") and "dit" not in text
    assert "0903 111 222" not in text  # personal data masked on top of the redaction


def test_admin_issues_a_key_and_reads_the_calendar_and_staff(page: Page, live: LiveWorld) -> None:
    sign_in(page, live, "admin")
    page.get_by_role("link", name="Quản trị").click()
    panel = page.get_by_role("tabpanel")
    expect(panel).to_contain_text(live.people["officer"])
    expect(
        panel.get_by_label(f"Phạm vi (mã phường/xã, cách nhau bởi dấu phẩy) — {live.people['officer']}")
    ).to_have_value("W1")

    page.get_by_role("tab", name="Khóa API đối tác").click()
    panel.get_by_label("Tên hệ thống đối tác").fill("Tổng đài 1022")
    panel.get_by_role("button", name="Cấp khóa mới").click()
    key = page.get_by_test_id("new-key")
    expect(key).to_be_visible()
    secret = key.inner_text()
    assert secret.startswith("pa_")
    expect(panel.locator("tr", has_text="Tổng đài 1022")).to_contain_text(secret[:8])

    page.get_by_role("tab", name="Lịch làm việc").click()
    year = date.today().year
    national = holidays.Vietnam(years=year)
    first = min(national)  # New Year's day, from the package
    expect(panel.locator("tr", has_text=first.isoformat())).to_contain_text("Lịch nghỉ lễ quốc gia")
