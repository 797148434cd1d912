"""The leaders' map in a browser: the cases of the leader's wards and no others, filters that move the
map and the figures together, the case card, the ward card, the English switch."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveWorld, sign_in, unlabelled

# W1..W3 side by side, 0.01° each from (106.70, 10.77): at zoom 14 the map shows all three, and
# draws single cases (clusters are below zoom 14)
CITY_CENTRE = [106.715, 10.775]


def map_ready(page: Page) -> None:
    # polled by one evaluate: wait_for_function evaluates a string, which the console's CSP forbids
    page.evaluate(
        """() => new Promise((done, fail) => {
            const start = Date.now();
            const poll = () => window.phananhMap && window.phananhMap.loaded() ? done()
                : Date.now() - start > 10000 ? fail(new Error('the map did not load')) : setTimeout(poll, 50);
            poll();
        })"""
    )


def settle(page: Page, zoom: float | None = None, centre: list[float] | None = None) -> None:
    """Moves the map (when asked) and waits until every tile is drawn."""
    page.evaluate(
        """([zoom, centre]) => new Promise((done) => {
            const m = window.phananhMap;
            if (zoom !== null) m.jumpTo({ zoom, center: centre });
            const check = () => (m.loaded() && m.areTilesLoaded() ? done() : m.once('idle', check));
            m.once('idle', check);
            m.triggerRepaint();
        })""",
        [zoom, centre or CITY_CENTRE],
    )


def drawn_cases(page: Page) -> dict[str, dict[str, Any]]:
    """The cases drawn on the map, by code, with their tile properties."""
    features = page.evaluate(
        "() => window.phananhMap.queryRenderedFeatures({ layers: ['cases'] }).map(f => f.properties)"
    )
    return {f["code"]: f for f in features}


def summary(page: Page) -> dict[str, str]:
    """The figures above the map: label → value."""
    items = page.get_by_test_id("map-summary").locator(".stat")
    expect(items).to_have_count(4)
    return {
        items.nth(i).locator(".stat-label").inner_text(): items.nth(i).locator(".stat-value").inner_text()
        for i in range(4)
    }


def open_map(page: Page, live: LiveWorld) -> None:
    sign_in(page, live, "leader")
    expect(page).to_have_url(live.console + "#/map")
    expect(page.get_by_test_id("leaders-map")).to_be_visible()
    map_ready(page)
    settle(page, 14)


def test_the_map_shows_the_cases_of_the_leaders_wards_and_none_other(
    page: Page, live: LiveWorld, page_errors: list[str]
) -> None:
    open_map(page, live)
    drawn = drawn_cases(page)
    assert set(drawn) == live.in_wards("W1", "W2"), (sorted(drawn), live.reports)
    assert not set(drawn) & live.in_wards("W3")
    # coloured by deadline: the overdue ones are marked so in the tiles
    late = {r.code for r in live.reports.values() if r.overdue and r.ward in ("W1", "W2")}
    assert {
        c for c, p in drawn.items() if p.get("deadline_state") == "overdue" or p.get("overdue") is True
    } == late
    assert summary(page)["Tiếp nhận"] == "6"
    # the wards are drawn and coloured from the figures
    wards = page.evaluate(
        "() => window.phananhMap.queryRenderedFeatures({ layers: ['wards-tile-fill', 'wards-geo-fill'] })"
        ".map(f => f.properties.code)"
    )
    assert set(wards) == {"W1", "W2"}
    assert unlabelled(page) == []
    assert not page_errors, page_errors


def test_a_filter_changes_the_map_the_figures_and_the_export_together(page: Page, live: LiveWorld) -> None:
    open_map(page, live)
    page.get_by_label("Lĩnh vực").select_option("mat-dien")
    expect(page.get_by_test_id("map-summary")).to_contain_text("2")
    settle(page)
    want = {r.code for r in live.reports.values() if r.category == "mat-dien" and r.ward in ("W1", "W2")}
    assert set(drawn_cases(page)) == want
    assert summary(page)["Tiếp nhận"] == "2"
    href = page.get_by_test_id("export-csv").get_attribute("href") or ""
    assert href.startswith("/v1/export.csv?") and "category=mat-dien" in href
    # overdue only, on top: one case left (W2's water leak is another category)
    page.get_by_label("Chỉ hồ sơ quá hạn").check()
    settle(page)
    assert set(drawn_cases(page)) == set()
    page.get_by_label("Lĩnh vực").select_option("")
    settle(page)
    late = {r.code for r in live.reports.values() if r.overdue and r.ward in ("W1", "W2")}
    assert set(drawn_cases(page)) == late
    assert "overdue=true" in (page.get_by_test_id("export-geojson").get_attribute("href") or "")
    page.get_by_label("Chỉ hồ sơ quá hạn").uncheck()  # the filters live on in this tab's storage


def test_a_click_on_a_case_opens_its_card(page: Page, live: LiveWorld) -> None:
    open_map(page, live)
    case = live.reports["w1_work"]
    x, y = page.evaluate(
        """([lng, lat]) => {
            const m = window.phananhMap, p = m.project([lng, lat]), box = m.getCanvas().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [case.lng, case.lat],
    )
    page.mouse.click(x, y)
    card = page.get_by_test_id("case-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading")).to_have_text(case.code)
    expect(card).to_contain_text("Đang giải quyết")
    expect(card.get_by_role("link", name="Mở hồ sơ")).to_have_attribute("href", f"#/case/{case.code}")
    card.get_by_role("button", name="Đóng").click()  # the card floats over the map's corner
    expect(card).to_have_count(0)
    # a click on the ward around it: its figures and its cases
    ward_x, ward_y = page.evaluate(
        """([lng, lat]) => {
            const m = window.phananhMap, p = m.project([lng, lat]), box = m.getCanvas().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [106.705, 10.7795],
    )
    page.mouse.click(ward_x, ward_y)
    ward = page.get_by_test_id("ward-card")
    expect(ward.get_by_role("heading", level=2)).to_have_text("Phường Một")
    for code in live.in_wards("W1"):
        expect(ward.get_by_role("link", name=code)).to_be_visible()


def test_the_english_switch(page: Page, live: LiveWorld) -> None:
    open_map(page, live)
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports map")
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(
        ["Map", "Figures", "Queue", "Administration"]
    )
    map_ready(page)
    assert "Received" in summary(page)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports map")
    # a tablet held upright: the map on top, the panel under it, nothing overlapping
    page.set_viewport_size({"width": 820, "height": 1180})
    map_box = page.get_by_test_id("leaders-map").bounding_box()
    side_box = page.locator("aside.side").bounding_box()
    assert map_box and side_box and map_box["width"] >= 800 and map_box["height"] >= 500
    assert map_box["y"] + map_box["height"] <= side_box["y"] + 1
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bản đồ phản ánh")
