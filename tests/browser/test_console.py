"""The console's shell in a browser: sign-in, the session cookie, navigation by role, the language."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, LiveWorld, sign_in


def test_sign_in_with_the_keyboard_keeps_the_token_out_of_reach(
    page: Page, live: LiveWorld, page_errors: list[str]
) -> None:
    page.goto(live.console)
    expect(page).to_have_url(live.console + "#/signin")
    # every input has a label
    for name in ("username", "password"):
        control = page.locator(f'input[name="{name}"]')
        label = page.locator(f'label[for="{control.get_attribute("id")}"]')
        expect(label).to_have_count(1)
        assert label.inner_text().strip()
    page.locator('input[name="username"]').fill(live.people["leader"])
    page.locator('input[name="password"]').fill(PASSWORD)
    page.keyboard.press("Tab")  # from the password to the button
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    expect(page).to_have_url(live.console + "#/map")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link")).to_have_text(["Bản đồ", "Số liệu", "Hàng đợi", "Quản trị"])
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "phananh_console"]
    assert len(session) == 1
    assert session[0]["httpOnly"] and session[0]["secure"] and session[0]["sameSite"] == "Strict"
    assert session[0]["path"] == "/v1/console/session"
    assert page.evaluate("document.cookie") == ""  # the page's script cannot read it
    assert "eyJ" not in page.evaluate("JSON.stringify(localStorage)")  # no token kept in storage
    # a reload keeps the session through the cookie (Chromium keeps Secure cookies on http://127.0.0.1)
    page.reload()
    expect(page.get_by_role("navigation").get_by_role("link").first).to_be_visible()
    expect(page).to_have_url(live.console + "#/map")
    assert not page_errors, page_errors


def test_a_wrong_password_is_said_in_the_chosen_language(page: Page, live: LiveWorld) -> None:
    page.goto(live.console + "#/signin")
    page.fill('input[name="username"]', live.people["officer"])
    page.fill('input[name="password"]', "sai mật khẩu")
    page.click('button[type="submit"]')
    expect(page.get_by_role("alert")).to_contain_text("đăng nhập")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    page.fill('input[name="username"]', live.people["officer"])  # the page was drawn again
    page.fill('input[name="password"]', "still wrong")
    page.click('button[type="submit"]')
    expect(page.get_by_role("alert")).to_contain_text("username or password")
    assert page.evaluate("localStorage.getItem('phananh.console.lang')") == "en"


def test_navigation_follows_the_role_and_sign_out_ends_the_session(page: Page, live: LiveWorld) -> None:
    sign_in(page, live, "moderator")
    expect(page).to_have_url(live.console + "#/moderation")
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(["Kiểm duyệt"])
    page.goto(live.console + "#/map")  # not for moderators: back to their home page
    expect(page).to_have_url(live.console + "#/moderation")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(live.console + "#/signin")
    page.reload()
    expect(page).to_have_url(live.console + "#/signin")
