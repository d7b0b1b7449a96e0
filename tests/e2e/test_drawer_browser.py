"""The drawer in Chromium, at the desk's two screen sizes: open it with a float, sell for
cash, pay out, count and close it on the page; the next cash sale still goes through and
lands in a new drawer (closing never stops the desk)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "drawer.png"


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    with live_app.context():
        make_item("SERUM-1OZ", name="Pure HA serum 1 oz", price_cents=6500,
                  lots=[("S-24", 5, 300)])
    return live_app


def sell_a_serum_for_cash(page: Page, live: LiveServer) -> None:
    page.goto(f"{live.url}/checkout")
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill("serum-1oz")
    scan.press("Enter")
    expect(page.locator("#total-total")).to_have_text("$70.20")
    page.get_by_role("button", name="Take cash").click()
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")


def in_view(page: Page, name: str) -> None:
    """The screen's main action shows without scrolling."""
    box = page.get_by_role("button", name=name).bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] + box["height"] <= viewport["height"], (name, box, viewport)


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_the_drawer_is_closed_on_the_page_and_the_next_cash_sale_opens_a_new_one(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "front_desk")
    page.get_by_role("link", name="Drawer", exact=True).click()
    expect(page.locator("#drawer-state")).to_have_text("NO OPEN DRAWER")
    in_view(page, "Open the drawer")
    page.get_by_label("Opening float ($)").fill("100")
    page.get_by_role("button", name="Open the drawer").click()
    expect(page.locator("#drawer-state")).to_have_text("OPEN")
    expect(page.locator("#expected-cash")).to_have_text("$100.00")

    sell_a_serum_for_cash(page, clinic)
    page.goto(f"{clinic.url}/drawers")
    expect(page.locator("#cash-sales")).to_have_text("$70.20")
    page.get_by_label("Kind").select_option("paid_out")
    page.get_by_label("Amount ($)").fill("5")
    page.get_by_label("What for").fill("Courier tip")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_have_text("Paid out.")
    expect(page.locator("#paid-out")).to_have_text("$5.00")
    expect(page.locator("#expected-cash")).to_have_text("$165.20")
    in_view(page, "Count and close")
    if size == (1024, 768):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

    # Counted short past the tolerance: the page asks for a note, then closes.
    page.get_by_label("Counted cash ($)").fill("155.20")
    page.get_by_role("button", name="Count and close").click()
    expect(page.locator("#close-note-error")).to_contain_text("$10.00 short")
    expect(page.locator("#error-summary")).to_be_focused()
    page.get_by_label("Note").fill("A ten went to the bank bag")
    page.get_by_role("button", name="Count and close").click()
    expect(page).to_have_url(re.compile(r"/drawers/\d+/report$"))
    expect(page.locator("#z-report")).to_contain_text("Z report")
    expect(page.locator("#counted-cash")).to_have_text("$155.20")
    expect(page.locator("#over-short")).to_have_text("-$10.00 (short)")
    expect(page.locator("#drawer-note")).to_have_text("A ten went to the bank bag")
    expect(page.locator("#closed")).to_contain_text("by front_desk")

    sell_a_serum_for_cash(page, clinic)  # the desk never stops
    page.goto(f"{clinic.url}/drawers")
    expect(page.locator("#drawer-state")).to_have_text("OPEN")
    expect(page.locator("#opening-float")).to_have_text("$0.00")
    expect(page.locator("#cash-sales")).to_have_text("$70.20")
    expect(page.locator("#past-drawers tbody tr")).to_have_count(2)
