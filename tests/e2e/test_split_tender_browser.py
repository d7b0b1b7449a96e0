"""The desk's split payment in Chromium, at 1024x768 and 768x1024 (issue 14): a series
and a serum, $50 in cash (with a tip to a provider) and the rest on the clinic's other
card machine, every step by the keyboard; the balance always in view, each tender listed
with its status, and the main action visible without scrolling."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from pos.extensions import db
from pos.services import clients, drawers
from tests.e2e.conftest import LiveServer
from tests.e2e.test_checkout_browser import SERIES, SERUM, serum_on_hand
from tests.e2e.test_checkout_desk_browser import (
    SCREENSHOTS,
    choose_client_by_keyboard,
    in_view,
    open_checkout,
    scan,
    stock_the_clinic,
)

pytestmark = pytest.mark.browser



@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    stock_the_clinic(live_app)
    with live_app.context():
        clients.create_client(first_name="Nora", last_name="Quinn",
                              email="nora.quinn@example.com", phone=None, user_id=None)
    return live_app


def test_fifty_dollars_cash_with_a_tip_and_the_rest_on_the_card_machine(
        desk_page: Page, clinic: LiveServer, viewport: dict[str, int]) -> None:
    page = desk_page
    provider = clinic.users("provider")
    with clinic.context():
        drawers.open_drawer(opening_float_cents=10000, user_id=None)
    open_checkout(page, clinic)
    choose_client_by_keyboard(page, "quinn")
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quinn")
    scan(page, SERIES)
    scan(page, SERUM)
    expect(page.locator("#total-total")).to_have_text("$865.20")
    assert in_view(page, "#pay-split")
    page.locator("#pay-split").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Awaiting payment")
    expect(page.locator("#balance-due")).to_have_text("$865.20")
    expect(page.locator("#tenders")).to_contain_text("No payment yet.")
    amount = page.get_by_label("Amount ($)")
    expect(amount).to_be_focused()
    assert in_view(page, "#tender-form button[type=submit], #tender-form input[type=submit]")
    amount.fill("50")
    page.get_by_label("Cash handed over ($, optional)").fill("60")
    page.get_by_label("Tip ($, optional").fill("5")
    page.get_by_label("Tip goes to").select_option(value=str(provider["id"]))
    page.keyboard.press("Enter")

    expect(page.locator("#balance-due")).to_have_text("$815.20")
    expect(page.locator("#tenders")).to_contain_text("Cash (tip $5.00) (handed over $60.00, "
                                                     "change $5.00)")
    expect(page.locator("#tenders")).to_contain_text("Succeeded")
    expect(page.get_by_label("Amount ($)")).to_have_value("815.20")
    assert in_view(page, "#balance-due")
    page.get_by_role("radio", name="External card machine").check()
    page.get_by_label("Card's last 4 digits").fill("1234")
    page.get_by_label("Authorization code").fill("12ab")
    page.get_by_label("Card's last 4 digits").fill("12a4")
    page.keyboard.press("Enter")
    error = page.locator("#tender-error")
    expect(error).to_be_focused()
    expect(error).to_contain_text("last 4 digits")
    expect(page.locator("#balance-due")).to_have_text("$815.20")
    page.get_by_label("Card's last 4 digits").fill("1234")
    page.get_by_role("radio", name="External card machine").check()
    page.screenshot(path=str(SCREENSHOTS / f"split-payment-{viewport['width']}x"
                             f"{viewport['height']}.png"))
    page.get_by_label("Authorization code").press("Enter")

    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#sale-payments")).to_contain_text("Cash $50.00")
    expect(page.locator("#sale-payments")).to_contain_text("External card ending 1234 $815.20")
    assert serum_on_hand(clinic) == 4
    with clinic.context():
        figures = drawers.current_drawer(db.session).figures
    # The cash and its tip are in the drawer; the card machine's part is not.
    assert (figures.cash_sales_cents, figures.expected_cents) == (5500, 15500)
