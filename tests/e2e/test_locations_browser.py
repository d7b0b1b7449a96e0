"""Locations in Chromium at the desk's two sizes: an admin adds a location, a manager
transfers stock to it on the transfer form, and the stock page shows each location's
figures through its location selector."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    with live_app.context():
        make_item("CART-36", kind="supply", name="MDPen cartridge", unit="cartridge",
                  reorder_point=2, reorder_quantity=100, lots=[("C-1", 12, 300)])
    return live_app


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_admin_adds_a_location_manager_transfers_and_the_stock_page_shows_each(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "admin")
    page.get_by_role("link", name="Locations", exact=True).click()
    expect(page.locator("#locations")).to_contain_text("Main clinic")
    page.get_by_label("Name").fill("Harbour Street")
    page.get_by_role("button", name="Add location").click()
    expect(page.locator("p.flash")).to_contain_text("Location Harbour Street added.")
    expect(page.locator("#locations")).to_contain_text("Harbour Street")
    # The same name again is refused, announced at the top.
    page.get_by_label("Name").fill("harbour street")
    page.get_by_role("button", name="Add location").click()
    expect(page.locator(".error-summary")).to_contain_text("already a location named")
    page.get_by_role("button", name="Sign out").click()

    browser_login(page, clinic, "manager")
    expect(page.locator("#work-location")).to_have_text("at Main clinic")
    page.get_by_role("link", name="Stock", exact=True).click()
    page.get_by_role("link", name="Transfer stock").click()
    page.get_by_label("Item").select_option("CART-36")
    page.get_by_label("Lot").fill("C-1")
    page.get_by_label("Quantity").fill("5")
    page.get_by_label("From").select_option(label="Main clinic")
    page.get_by_label("To").select_option(label="Harbour Street")
    transfer = page.get_by_role("button", name="Transfer")
    box = transfer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= size[1]
    transfer.click()
    expect(page.locator("p.flash")).to_contain_text(
        "Transferred 5 of lot C-1 from Main clinic (now 7) to Harbour Street (now 5).")
    # More than the lot holds where it leaves: refused beside the quantity.
    page.get_by_label("Item").select_option("CART-36")
    page.get_by_label("Lot").fill("C-1")
    page.get_by_label("Quantity").fill("8")
    page.get_by_label("To").select_option(label="Harbour Street")
    page.get_by_role("button", name="Transfer").click()
    expect(page.locator(".error-summary")).to_contain_text("8 needed, 7 available")

    page.get_by_role("link", name="Stock", exact=True).click()
    expect(page.locator("#stock-location")).to_have_text("Main clinic")
    expect(page.locator('tr[data-sku="CART-36"] .on-hand')).to_have_text("7")
    page.get_by_label("Location", exact=True).select_option(label="Harbour Street")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#stock-location")).to_have_text("Harbour Street")
    expect(page.locator('tr[data-sku="CART-36"] .on-hand')).to_have_text("5")
    page.locator('tr[data-sku="CART-36"] a').click()
    expect(page.locator("#item-location")).to_have_text("Harbour Street")
    expect(page.locator("#on-hand")).to_have_text("5")
