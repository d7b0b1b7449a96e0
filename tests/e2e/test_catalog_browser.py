"""The catalog back office in Chromium, at 1024x768 and 768x1024: a manager creates an item
with a barcode and a package whose sessions use it, with the keyboard; the front desk,
whose checkout was already open, scans the barcode and the item is in the cart."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pos.extensions import db
from pos.models import Package
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.factories import make_item, receive

pytestmark = pytest.mark.browser

VIEWPORTS = [pytest.param({"width": 1024, "height": 768}, id="1024x768"),
             pytest.param({"width": 768, "height": 1024}, id="768x1024")]
BARCODE = "0860004419207"


@pytest.fixture(params=VIEWPORTS)
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param


def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def pages(browser: Browser, viewport: dict[str, int]) -> Iterator[tuple[Page, Page]]:
    manager, desk = new_page(browser, viewport), new_page(browser, viewport)
    yield manager, desk
    manager.context.close()
    desk.context.close()


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_a_manager_adds_an_item_with_a_barcode_and_a_package_the_desk_scans_it(
        pages: tuple[Page, Page], live_app: LiveServer) -> None:
    manager, desk = pages
    with live_app.context():
        make_item("CART-36", kind="supply", price_cents=0, name="MDPen needle cartridge",
                  lots=[("C-1", 50, 300)])

    # The desk's checkout is open before the item exists.
    browser_login(desk, live_app, "front_desk")
    desk.goto(f"{live_app.url}/checkout")
    expect(desk.locator("#checkout")).to_have_attribute("data-cart-state", "saved")
    desk.wait_for_load_state("networkidle")

    browser_login(manager, live_app, "manager")
    manager.get_by_role("link", name="Catalog", exact=True).click()
    expect(manager.get_by_role("heading", name="Items")).to_be_visible()
    manager.locator("#new-item").click()
    expect(manager.locator("#sku")).to_be_focused()
    # Keyboard only: type, Tab to the next field.
    manager.keyboard.type("GROW-SER")
    manager.keyboard.press("Tab")
    manager.keyboard.press("Tab")  # kind: retail is the second choice
    manager.locator("#kind").select_option("retail")
    manager.locator("#unit").fill("bottle")
    manager.locator("#name").fill("Growth-factor serum")
    manager.locator("#barcode").focus()
    manager.keyboard.type(BARCODE)
    manager.locator("#price").fill("58.00")
    manager.locator("#cost").fill("17.00")
    manager.locator("#reorder_point").fill("3")
    manager.locator("#reorder_quantity").fill("12")
    manager.locator("#taxable").check()
    assert in_view(manager, "#submit")
    manager.locator("#submit").press("Enter")
    expect(manager).to_have_url(re.compile(r"/stock/items/GROW-SER$"))
    expect(manager.locator("#barcode")).to_have_text(BARCODE)
    with live_app.context():
        receive("GROW-SER", 6, "G-1")

    manager.get_by_role("link", name="Catalog", exact=True).click()
    manager.locator('nav[aria-label="Catalog"]').get_by_role("link", name="Packages").click()
    manager.locator("#new-package").click()
    manager.locator("#code").fill("FACE-GF")
    manager.locator("#name").fill("Face session with growth serum")
    manager.locator("#area").select_option("face")
    manager.locator("#sessions").fill("1")
    manager.locator("#price").fill("350")
    manager.locator("#min_days_between").fill("28")
    manager.get_by_label(re.compile(r"^Growth-factor serum \(GROW-SER\)")).fill("1")
    manager.get_by_label(re.compile(r"^MDPen needle cartridge \(CART-36\)")).fill("1")
    manager.get_by_role("button", name="Create package").click()
    expect(manager).to_have_url(re.compile(r"/catalog/packages$"))
    expect(manager.locator('tr[data-code="FACE-GF"]')).to_contain_text("1 × GROW-SER")
    with live_app.context():
        package = db.session.scalar(select(Package).where(Package.code == "FACE-GF"))
        assert package is not None
        assert sorted((s.item.sku, s.quantity) for s in package.supplies) == [
            ("CART-36", 1), ("GROW-SER", 1)]

    # The scanner: the code typed fast, then Enter. The item is in the cart.
    desk.keyboard.press("F4")
    desk.keyboard.type(BARCODE, delay=5)
    desk.keyboard.press("Enter")
    rows = desk.locator("#cart-lines tr[data-key]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-key", "sku:GROW-SER")
    expect(rows.first).to_contain_text("Growth-factor serum")
    expect(desk.locator("#product-input")).to_be_focused()
    # Scanned again: the same line, quantity 2; the keyboard still drives the checkout.
    desk.keyboard.type(BARCODE, delay=5)
    desk.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("input.qty")).to_have_value("2")
    expect(desk.locator("#total-total")).to_have_text("$125.28")  # 2 x 58.00 + 8 % tax
