"""The desk's card reader flow with the demo gateway's simulated reader, in Chromium, on
a landscape screen (1024x768) and an iPad held upright (768x1024): a manager registers
the reader, the desk sells on it, the client's card is declined, "Try again", the tap
pays; and a Cancel while the reader waits gives the items back to the shelf."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, browser_login
from tests.e2e.test_checkout_browser import SERUM, serum_on_hand, stock_the_clinic

pytestmark = pytest.mark.browser


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def register_reader_and_sell(page: Page, live: LiveServer) -> None:
    browser_login(page, live, "manager")
    page.goto(f"{live.url}/terminal/readers")
    expect(page.locator("#no-readers")).to_be_visible()
    page.locator("#registration_code").fill("wrong-code")
    page.locator("#label").fill("Front desk")
    page.keyboard.press("Enter")
    expect(page.locator("#readers-error")).to_contain_text("simulated-wpe")
    page.locator("#registration_code").fill("simulated-wpe")
    page.locator("#registration_code").press("Enter")
    expect(page.locator("#readers tbody tr")).to_have_count(1)
    expect(page.locator("#readers")).to_contain_text("Front desk")

    page.goto(f"{live.url}/checkout")
    expect(page.locator("#checkout")).to_have_attribute("data-cart-state", "saved")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("F4")
    page.keyboard.type(SERUM, delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#cart-lines tr[data-key]")).to_have_count(1)
    expect(page.locator("#pay-reader")).to_have_value(re.compile(r"\d+"))
    expect(page.locator("#pay-terminal")).to_be_enabled()
    page.locator("#pay-terminal").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#reader-prompt")).to_contain_text("Tap, insert or swipe")
    expect(page.locator("#reader-prompt")).to_contain_text("Front desk")


def test_a_decline_then_try_again_then_a_tap_pays(desk_page: Page, live_app: LiveServer
                                                 ) -> None:
    page = desk_page
    stock_the_clinic(live_app)
    before = serum_on_hand(live_app)
    register_reader_and_sell(page, live_app)
    assert in_view(page, "#demo-tap") and in_view(page, "#cancel-form [type=submit]")

    page.locator("#demo-decline").click()
    expect(page.locator("#reader-error-text")).to_have_text("Your card was declined.")
    expect(page.locator("#reader-error")).to_be_focused()
    expect(page.locator("#reader-other-way")).to_be_visible()
    assert in_view(page, "#reader-retry")
    page.locator("#reader-retry").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reader-prompt")).to_contain_text("Tap, insert or swipe")
    expect(page.locator("#reader-error")).to_have_count(0)

    page.locator("#demo-tap").click()
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#sale-payments")).to_contain_text("4242")
    assert serum_on_hand(live_app) == before - 1


def test_cancel_while_the_reader_waits_gives_the_items_back(desk_page: Page,
                                                           live_app: LiveServer) -> None:
    page = desk_page
    stock_the_clinic(live_app)
    before = serum_on_hand(live_app)
    register_reader_and_sell(page, live_app)

    page.locator("#cancel-form [type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sale-status")).to_have_text("Cancelled")
    expect(page.locator("#closed-panel")).to_be_visible()
    assert serum_on_hand(live_app) == before
