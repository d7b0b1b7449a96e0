"""Discounts at the checkout, in Chromium at 1024x768 and 768x1024: a wrong code is said
beside its field and leaves the total as it was (the pay buttons stay usable); a 10 %
code gives the discounted total; a manual discount approved with a manager's PIN is sold
and shown on the sale."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from pos.services import discounts, signin
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.factories import PASSWORD, make_item, settings

pytestmark = pytest.mark.browser

SERUM = "SERUM-1OZ"
PIN = "5813"
VIEWPORTS = [pytest.param({"width": 1024, "height": 768}, id="1024x768"),
             pytest.param({"width": 768, "height": 1024}, id="768x1024")]


@pytest.fixture(params=VIEWPORTS)
def desk_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=request.param)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    manager = live_app.users("manager")
    with live_app.context():
        make_item(SERUM, name="Pure HA serum 1 oz", price_cents=6500, lots=[("S-24", 5, 300)])
        discounts.create_code(discounts.NewDiscountCode(code="TEN", kind="percent", value=10),
                              None)
        signin.set_pin(manager["id"], PIN, PASSWORD, "127.0.0.1", settings=settings())
    return live_app


def serum_in_the_cart(page: Page, live: LiveServer) -> None:
    browser_login(page, live, "front_desk")
    page.goto(f"{live.url}/checkout")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("F4")
    page.keyboard.type(SERUM, delay=5)
    page.keyboard.press("Enter")
    # 65.00 + 8 % tax
    expect(page.locator("#total-total")).to_have_text("$70.20")


def test_a_wrong_code_is_said_beside_the_field_and_the_total_stays(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    serum_in_the_cart(page, clinic)
    page.get_by_label("Discount code").fill("NOPE")
    page.get_by_role("button", name="Apply", exact=True).click()
    error = page.locator("#discount-error")
    expect(error).to_contain_text("There is no discount code")
    expect(page.get_by_label("Discount code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#total-total")).to_have_text("$70.20")
    expect(page.locator("#total-discount")).to_have_text("$0.00")
    expect(page.locator("#pay-cash")).to_be_enabled()
    expect(page.locator("#pay-card")).to_be_enabled()
    # The error sits beside the code field, not at the other end of the screen.
    field_box = page.get_by_label("Discount code").bounding_box()
    error_box = error.bounding_box()
    assert field_box and error_box and abs(error_box["y"] - field_box["y"]) < 120

    # The right code: 10 % off, the error gone.
    page.get_by_label("Discount code").fill("ten")
    page.get_by_label("Discount code").press("Enter")
    # 65.00 - 6.50 = 58.50; tax 4.68
    expect(page.locator("#total-total")).to_have_text("$63.18")
    expect(page.locator("#total-discount")).to_have_text("-$6.50")
    expect(error).to_have_text("")


def test_a_manual_discount_approved_with_a_manager_pin(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    serum_in_the_cart(page, clinic)
    page.locator("#manual-discount summary").click()
    page.get_by_label("How much").fill("5")
    page.get_by_label("Reason").fill("scuffed box")
    page.get_by_role("button", name="Apply manual discount").click()
    # 60.00 + 4.80 tax
    expect(page.locator("#total-total")).to_have_text("$64.80")
    expect(page.locator("#md-applied")).to_contain_text("-$5.00")
    # Without the manager's approval the sale is refused, beside the manual discount.
    page.locator("#pay-cash").click()
    expect(page.locator("#md-error")).to_contain_text("manager")
    page.get_by_label("Manager's email").fill(clinic.users("manager")["email"])
    page.get_by_label("Manager's PIN").fill(PIN)
    page.locator("#pay-cash").click()
    page.wait_for_url("**/sales/*")
    expect(page.locator("#sale-manual-discount")).to_have_text("-$5.00")
    expect(page.locator("#sale-total")).to_have_text("$64.80")
