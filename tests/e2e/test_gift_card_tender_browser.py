"""The checkout sells a gift card in Chromium at the desk's two sizes: "Sell a gift card"
by keyboard adds its line (kept across a reload), a bad amount is announced, the cash sale
issues the card."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pos.extensions import db
from pos.models import GiftCard
from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_the_checkout_sells_a_gift_card_with_a_serum_for_cash(
        page: Page, live_app: LiveServer, size: tuple[int, int]) -> None:
    with live_app.context():
        make_item("SERUM-1OZ", name="Pure HA serum 1 oz", price_cents=6500, taxable=False,
                  lots=[("S-1", 5, 300)])
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, live_app, "front_desk")
    page.goto(f"{live_app.url}/checkout")
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill("serum-1oz")
    scan.press("Enter")
    expect(page.locator("#total-total")).to_have_text("$65.00")

    amount = page.get_by_label("Gift card amount ($1.00 to $1,000.00)")
    amount.fill("0.50")
    amount.press("Enter")
    expect(page.locator("#gift-card-error")).to_have_text(
        "Type the gift card's amount, $1.00 to $1,000.00.")
    expect(amount).to_have_attribute("aria-invalid", "true")
    amount.fill("50")
    page.get_by_label("Recipient's email (optional: the code is mailed to them)").fill(
        "friend@example.com")
    page.get_by_role("button", name="Add gift card").click()
    expect(page.locator("#cart-lines")).to_contain_text("Gift card $50.00 for friend@example.com")
    expect(page.locator("#total-total")).to_have_text("$115.00")
    expect(page.locator("#checkout")).to_have_attribute("data-cart-state", "saved")

    page.reload()  # the desk's cart keeps the gift card line
    expect(page.locator("#cart-lines")).to_contain_text("Gift card $50.00 for friend@example.com")
    expect(page.locator("#total-total")).to_have_text("$115.00")
    page.get_by_label("Cash tendered ($)").fill("120")
    expect(page.locator("#change-due")).to_have_text("$5.00")
    page.get_by_role("button", name="Take cash").click()
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    with live_app.context():
        card = db.session.scalar(select(GiftCard))
        assert card is not None and card.balance_cents == 5000
        assert card.recipient_email == "friend@example.com"
