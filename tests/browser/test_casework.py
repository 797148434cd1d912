"""Officers work their queue in the browser (in W3, so that the map tests' wards keep their seeded cases):
the queue shows their wards' open cases and a new one arrives without a reload; a case is acknowledged, then resolved with a photo uploaded from the page,
and the resident's inbox holds both notices; a refused move is said in a plain sentence."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveWorld, sign_in
from tests.factories import centre
from tests.factories.people import DEVICE_SECRET
from tests.media.files import jpeg


def _resident(http: httpx.Client) -> dict[str, str]:
    body = {
        "device_id": f"android-{uuid.uuid4().hex[:12]}",
        "device_secret": DEVICE_SECRET,
        "platform": "android",
    }
    r = http.post("/v1/auth/device", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _report(http: httpx.Client, headers: dict[str, str], ward: str, description: str) -> str:
    lat, lng = centre(ward)
    body = {"category": "ngap-nuoc", "description": description, "lat": lat, "lng": lng}
    r = http.post("/v1/reports", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_officer_queue_is_their_wards_and_new_cases_arrive_live(page: Page, live: LiveWorld) -> None:
    sign_in(page, live, "officer_w3")
    expect(page).to_have_url(live.console + "#/queue")
    queue = page.get_by_test_id("queue")
    open_w3 = {r.code for r in live.reports.values() if r.ward == "W3" and r.status != "resolved"}
    for code in open_w3:
        expect(queue.get_by_role("link", name=code)).to_be_visible()
    for r in live.reports.values():
        if r.ward != "W3":
            expect(queue.get_by_role("link", name=r.code)).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Cập nhật trực tiếp")).to_be_visible()
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        code = _report(http, _resident(http), "W3", "Cột đèn nghiêng sắp đổ trước số 12")
    expect(queue.get_by_role("link", name=code)).to_be_visible()  # no reload
    # the filters: overdue only leaves the overdue case of W3
    page.get_by_label("Chỉ phản ánh quá hạn").check()
    expect(queue.get_by_role("link")).to_have_count(1)


def test_officer_acknowledges_then_resolves_with_a_photo_and_the_resident_is_told(
    page: Page, live: LiveWorld, tmp_path: Path, page_errors: list[str]
) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        resident = _resident(http)
        code = _report(http, resident, "W3", "Nắp cống bị vỡ trước trường tiểu học")
    sign_in(page, live, "officer_w3")
    page.goto(live.console + "#/case/" + code)
    expect(page.get_by_role("heading", level=1)).to_have_text(code)
    expect(page.get_by_test_id("case-description")).to_have_text("Nắp cống bị vỡ trước trường tiểu học")
    ack = page.get_by_test_id("action-acknowledge")
    ack.get_by_label("Trả lời người dân (công khai)").fill("Phường đã nhận, sẽ cử người kiểm tra.")
    ack.get_by_role("button", name="Tiếp nhận").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Đã tiếp nhận")
    expect(page.get_by_text("Phường đã nhận, sẽ cử người kiểm tra.")).to_be_visible()

    photo = tmp_path / "nap-cong.jpg"
    photo.write_bytes(jpeg(640, 480))
    resolve = page.get_by_test_id("action-resolve")
    resolve.get_by_label("Trả lời người dân (công khai)").fill("Đã thay nắp cống mới.")
    resolve.get_by_label("Ảnh kết quả xử lý").set_input_files(str(photo))
    resolve.get_by_role("button", name="Đã xử lý xong").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Đã giải quyết")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Phạm Thị Lan")  # who did it, by name
    assert not [e for e in page_errors if "script error" in e], page_errors

    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        view = http.get(f"/v1/reports/{code}", headers=resident).json()
        assert view["status"] == "resolved"
        assert [m for m in view["media"] if m.get("event_id")], view["media"]  # the result photo
        inbox = http.get("/v1/me/notifications", headers=resident).json()
    texts = " ".join(str(n) for n in inbox["items"])
    assert code in texts and "Đã thay nắp cống mới." in texts, inbox


def test_a_refused_move_is_a_plain_sentence(page: Page, live: LiveWorld) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as http:
        code = _report(http, _resident(http), "W3", "Rác tràn ra lòng đường")
    sign_in(page, live, "officer_w3")
    page.goto(live.console + "#/case/" + code)
    expect(page.get_by_test_id("action-acknowledge")).to_be_visible()
    # someone else acknowledges it meanwhile (through the API, as another officer would)
    page.evaluate(
        """async code => {
            const r = await fetch('/v1/console/session/refresh', {method: 'POST', credentials: 'same-origin'});
            const {access_token} = await r.json();
            await fetch(`/v1/reports/${code}/actions`, {method: 'POST', headers: {
                'Authorization': 'Bearer ' + access_token, 'Content-Type': 'application/json'},
                body: JSON.stringify({action: 'acknowledge'})});
        }""",
        code,
    )
    page.get_by_test_id("action-acknowledge").get_by_role("button", name="Tiếp nhận").click()
    alert = page.locator(".conflict")
    expect(alert).to_contain_text("Tải lại")
    alert.get_by_role("button", name="Tải lại").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Đã tiếp nhận")
