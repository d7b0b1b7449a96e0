"""The desk's split payment with the demo card reader, in Chromium, at 1024x768 and
768x1024 (issue 14): a series and a serum, $50 in cash and the rest on the card reader,
"Simulate tap", paid; the receipt lists both tenders; the drawer holds the $50."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from pos.extensions import db
from pos.services import clients, drawers, terminal_readers
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
        terminal_readers.register_reader("simulated-wpe", "Front desk reader", None, "usd")
        drawers.open_drawer(opening_float_cents=10000, user_id=None)
    return live_app


def test_fifty_dollars_cash_and_the_rest_on_the_demo_reader(
        desk_page: Page, clinic: LiveServer, viewport: dict[str, int]) -> None:
    page = desk_page
    before = serum_on_hand(clinic)
    open_checkout(page, clinic)
    choose_client_by_keyboard(page, "quinn")
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quinn")
    scan(page, SERIES)
    scan(page, SERUM)
    expect(page.locator("#total-total")).to_have_text("$865.20")
    page.locator("#pay-split").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    amount = page.get_by_label("Amount ($)")
    expect(amount).to_be_focused()
    amount.fill("50")
    page.keyboard.press("Enter")
    expect(page.locator("#balance-due")).to_have_text("$815.20")

    page.get_by_role("radio", name="Card reader").check()
    expect(page.get_by_label("Which card reader")).to_have_value(re.compile(r"\d+"))
    assert in_view(page, "#tender-form [type=submit]")
    page.screenshot(path=str(SCREENSHOTS / f"split-reader-form-{viewport['width']}x"
                             f"{viewport['height']}.png"))
    page.get_by_label("Amount ($)").press("Enter")

    expect(page.locator("#reader-prompt")).to_contain_text("Tap, insert or swipe")
    expect(page.locator("#reader-prompt")).to_contain_text("Front desk reader")
    expect(page.locator("#reader-amount")).to_have_text("$815.20")
    assert in_view(page, "#demo-tap")
    page.screenshot(path=str(SCREENSHOTS / f"split-reader-{viewport['width']}x"
                             f"{viewport['height']}.png"))
    page.locator("#demo-tap").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#sale-payments")).to_contain_text("Cash $50.00")
    expect(page.locator("#sale-payments")).to_contain_text("$815.20")
    page.goto(page.url + "/receipt")
    tenders = page.locator(".receipt-tender")
    expect(tenders).to_have_count(2)
    expect(tenders.nth(0)).to_have_text("Cash $50.00")
    expect(tenders.nth(1)).to_contain_text("(reader) $815.20")
    assert serum_on_hand(clinic) == before - 1
    with clinic.context():
        figures = drawers.current_drawer(db.session).figures
    assert (figures.cash_sales_cents, figures.expected_cents) == (5000, 15000)
