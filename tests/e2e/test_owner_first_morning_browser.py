"""The owner's first morning (issue 13, in Chromium at 1024x768 and 768x1024): the owner
(admin) names the clinic and its address on the settings page, creates an item with a
barcode, a package whose bill of materials uses it and a 10 % code, all from the pages;
then the front desk scans the barcode, applies the code, takes cash, and the receipt
carries the clinic's name and address as the owner typed them."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pos.extensions import db
from pos.models import DiscountCode, Item, Package
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.factories import make_item, receive

pytestmark = pytest.mark.browser

VIEWPORTS = [pytest.param({"width": 1024, "height": 768}, id="1024x768"),
             pytest.param({"width": 768, "height": 1024}, id="768x1024")]
BARCODE = "0860004419214"
NAME = "Glow Skin Studio"
ADDRESS = "12 Harbour Road, Portland ME 04101"


@pytest.fixture(params=VIEWPORTS)
def pages(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Page, Page]]:
    contexts = [browser.new_context(viewport=request.param) for _ in range(2)]
    for context in contexts:
        context.set_default_timeout(PAGE_TIMEOUT_MS)
    yield contexts[0].new_page(), contexts[1].new_page()
    for context in contexts:
        context.close()


def menu(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).first.click()


def test_the_owner_sets_up_the_clinic_and_the_desk_sells_with_it(
        pages: tuple[Page, Page], live_app: LiveServer) -> None:
    owner, desk = pages
    with live_app.context():
        make_item("CART-36", kind="supply", price_cents=0, name="MDPen needle cartridge",
                  lots=[("C-1", 50, 300)])

    browser_login(owner, live_app, "admin")
    menu(owner, "Settings")
    owner.get_by_label("Clinic name").fill(NAME)
    owner.get_by_label("Address").fill(ADDRESS)
    owner.get_by_role("button", name="Save settings").click()
    expect(owner.locator("body")).to_contain_text("Settings saved.")

    menu(owner, "Catalog")
    owner.locator("#new-item").click()
    owner.locator("#sku").fill("GROW-SER")
    owner.locator("#kind").select_option("retail")
    owner.locator("#unit").fill("bottle")
    owner.locator("#name").fill("Growth-factor serum")
    owner.locator("#barcode").fill(BARCODE)
    owner.locator("#price").fill("60.00")
    owner.locator("#cost").fill("17.00")
    owner.locator("#reorder_point").fill("3")
    owner.locator("#reorder_quantity").fill("12")
    owner.locator("#taxable").check()
    owner.locator("#submit").press("Enter")
    expect(owner).to_have_url(re.compile(r"/stock/items/GROW-SER$"))
    with live_app.context():
        receive("GROW-SER", 6, "G-1")

    menu(owner, "Catalog")
    owner.locator('nav[aria-label="Catalog"]').get_by_role("link", name="Packages").click()
    owner.locator("#new-package").click()
    owner.locator("#code").fill("FACE-GF")
    owner.locator("#name").fill("Face session with growth serum")
    owner.locator("#area").select_option("face")
    owner.locator("#sessions").fill("1")
    owner.locator("#price").fill("350")
    owner.locator("#min_days_between").fill("28")
    owner.get_by_label(re.compile(r"^Growth-factor serum \(GROW-SER\)")).fill("1")
    owner.get_by_label(re.compile(r"^MDPen needle cartridge \(CART-36\)")).fill("1")
    owner.get_by_role("button", name="Create package").click()
    expect(owner.locator('tr[data-code="FACE-GF"]')).to_contain_text("1 × GROW-SER")

    menu(owner, "Discounts")
    owner.get_by_label("Code", exact=True).fill("OPENING10")
    owner.get_by_label("Kind").select_option("percent")
    owner.get_by_label(re.compile(r"^Value")).fill("10")
    owner.locator("#discount-code-form").get_by_role("button").click()
    expect(owner.locator("body")).to_contain_text("Discount code OPENING10 created.")
    with live_app.context():
        assert db.session.scalar(select(Item.barcode).where(Item.sku == "GROW-SER")) == BARCODE
        package = db.session.scalar(select(Package).where(Package.code == "FACE-GF"))
        assert package is not None
        assert sorted((s.item.sku, s.quantity) for s in package.supplies) == [
            ("CART-36", 1), ("GROW-SER", 1)]
        code = db.session.scalar(select(DiscountCode).where(DiscountCode.code == "OPENING10"))
        assert code is not None and code.kind == "percent"

    # The front desk: a scanner's code and Enter, then the code, then cash.
    browser_login(desk, live_app, "front_desk")
    desk.goto(f"{live_app.url}/checkout")
    desk.wait_for_load_state("networkidle")
    desk.keyboard.press("F4")
    desk.keyboard.type(BARCODE, delay=5)
    desk.keyboard.press("Enter")
    expect(desk.locator("#cart-lines tr[data-key]")).to_have_count(1)
    desk.get_by_label("Discount code").fill("OPENING10")
    desk.get_by_role("button", name="Apply", exact=True).click()
    expect(desk.locator("#total-discount")).to_have_text("-$6.00")
    expect(desk.locator("#total-total")).to_have_text("$58.32")  # (60.00 - 6.00) + 8 % tax
    desk.keyboard.press("F8")
    desk.keyboard.type("60")
    desk.keyboard.press("Enter")
    expect(desk).to_have_url(re.compile(r"/sales/\d+$"))
    expect(desk.locator("#sale-status")).to_have_text("Paid")
    desk.goto(desk.url + "/receipt")
    expect(desk.locator("h1.clinic")).to_have_text(NAME)
    expect(desk.locator("#receipt-clinic")).to_contain_text(ADDRESS)
    expect(desk.locator("#receipt-total")).to_have_text("$58.32")
