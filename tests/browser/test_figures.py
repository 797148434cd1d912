"""The figures page in a browser: per ward and per category with names, the trend, the exports of
exactly the filters shown."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveWorld, sign_in, unlabelled


def cells(page: Page, table: str, key: str) -> list[str]:
    row = page.get_by_test_id(f"figures-{table}").locator(f'tr[data-key="{key}"]')
    return [c.strip() for c in row.locator("th, td").all_inner_texts()]


def test_figures_per_ward_and_category_with_names_and_a_trend(
    page: Page, live: LiveWorld, page_errors: list[str]
) -> None:
    sign_in(page, live, "leader")
    page.goto(live.console + "#/figures")
    wards = page.get_by_test_id("figures-ward")
    expect(wards.locator("tbody tr")).to_have_count(2)  # the leader's wards, not W3
    assert cells(page, "ward", "W1")[:4] == ["Phường Một", "4", "3", "1"]
    assert cells(page, "ward", "W2")[:4] == ["Phường Hai", "2", "2", "1"]
    assert cells(page, "category", "mat-dien")[:2] == ["Mất điện", "2"]
    expect(page.get_by_test_id("trend-chart")).to_be_visible()
    expect(page.get_by_test_id("trend-chart")).to_have_attribute(
        "aria-label", "Biểu đồ số phản ánh tiếp nhận và đã giải quyết theo thời gian; tổng 6 phản ánh."
    )
    # a ward's name filters everything to it: the categories, the totals, the exports
    wards.get_by_role("button", name="Phường Hai").click()
    expect(page.get_by_label("Phường/xã")).to_have_value("W2")
    expect(page.get_by_test_id("figures-summary").locator(".stat-value").first).to_have_text("2")
    assert cells(page, "category", "mat-dien")[:2] == ["Mất điện", "1"]
    href = page.get_by_test_id("export-geojson").get_attribute("href") or ""
    assert href.startswith("/v1/export.geojson?") and "ward=W2" in href and "from=" in href
    # the export link downloads exactly that: W2's two cases
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert {code for code in live.in_wards("W2") if code in text} == live.in_wards("W2")
    assert not live.in_wards("W1", "W3") & {line.split(",")[0] for line in text.splitlines()}
    page.get_by_role("button", name="Theo tuần").click()
    expect(page.get_by_role("button", name="Theo tuần")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Phường/xã").select_option("")
    assert unlabelled(page) == []
    assert not page_errors, page_errors
