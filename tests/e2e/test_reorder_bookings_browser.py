"""Expected treatments on the reorder page, in Chromium at the desk's two sizes: a manager
types the next 14 days' count by keyboard, a mistake is announced beside the field, and the
cartridges' suggestion then comes from the bookings."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from pos.services import catalog, stock
from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    with live_app.context():
        make_item("CART", kind="supply", name="MDPen cartridge", unit="cartridge",
                  reorder_point=10, reorder_quantity=5, lots=[("C-1", 16, 300)])
        stock.adjust_stock(sku="CART", lot_code="C-1", qty_delta=-6, reason="damaged",
                           note=None, user_id=None)  # 10 left, 6 used in 30 days
        catalog.create_package(catalog.NewPackage("FACE-1", "Face single", "face", 1, 30000,
                                                  28, None, (("CART", 1),)), None)
    return live_app


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_a_manager_enters_expected_treatments_and_the_suggestion_follows_the_bookings(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "manager")
    page.goto(f"{clinic.url}/alerts/reorder")
    row = page.locator('table.reorder tr[data-sku="CART"]')
    expect(row.locator(".basis")).to_have_text("Last 30 days")
    expect(row.locator(".suggested")).to_have_text("5 cartridge")

    count = page.get_by_label("Face single (FACE-1): expected treatments, next 14 days")
    count.fill("-1")
    count.press("Enter")  # keyboard first: Enter submits the form
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("From 0 to 10000.")
    expect(count).to_have_attribute("aria-invalid", "true")

    count = page.get_by_label("Face single (FACE-1): expected treatments, next 14 days")
    count.fill("10")
    count.press("Enter")
    expect(page.locator("p.flash")).to_contain_text("Expected treatments saved")
    expect(row.locator(".basis")).to_have_text("Expected treatments")
    expect(row.locator(".suggested")).to_have_text("12 cartridge")
    expect(row.locator(".booked")).to_have_text("10")
    # The table fits the tablet's width: no sideways scrolling to reach the order column.
    box = row.locator(".suggested").bounding_box()
    assert box is not None and box["x"] + box["width"] <= size[0]
