"""The checkout at the desk, in Chromium, on a landscape screen (1024x768) and an iPad
held upright (768x1024): a sale with the keyboard only, a cart that survives a refresh, a
sale parked on one desk and resumed on another, and the pay buttons in view."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pos.extensions import db
from pos.models import Client, Sale
from pos.services import clients
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.e2e.test_checkout_browser import SERIES, SERUM, serum_on_hand, stock_the_clinic
from tests.factories import make_item

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERUM_NAME = "Pure HA serum 1 oz (take-home)"



@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    stock_the_clinic(live_app)
    with live_app.context():
        for first, last, email in (("Nora", "Quinn", "nora.quinn@example.com"),
                                   ("Nora", "Quill", "nora.quill@example.com")):
            clients.create_client(first_name=first, last_name=last, email=email, phone=None,
                                  user_id=None)
    return live_app


def open_checkout(page: Page, live: LiveServer, role: str = "front_desk") -> None:
    browser_login(page, live, role)
    page.goto(f"{live.url}/checkout")
    expect(page.locator("#checkout")).to_have_attribute("data-cart-state", "saved")
    page.wait_for_load_state("networkidle")  # the catalog is in


def cart_rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#cart-lines tr[data-key]")


def wait_until_saved(page: Page) -> None:
    expect(page.locator("#checkout")).to_have_attribute("data-cart-state", "saved")


def choose_client_by_keyboard(page: Page, text: str) -> None:
    page.keyboard.press("F2")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def scan(page: Page, code: str) -> None:
    """What a barcode scanner does: the code typed fast, then Enter."""
    page.keyboard.press("F4")
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and \
        box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


def test_a_cash_sale_of_a_series_and_a_serum_with_the_keyboard_only(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    open_checkout(page, clinic)

    choose_client_by_keyboard(page, "quinn")  # one match: Enter picks it
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quinn")
    expect(page.locator("#product-input")).to_be_focused()
    scan(page, SERIES)
    scan(page, SERUM.lower())
    expect(cart_rows(page)).to_have_count(2)
    expect(page.locator("#total-total")).to_have_text("$865.20")

    page.keyboard.press("F8")
    expect(page.locator("#cash-tendered")).to_be_focused()
    page.keyboard.type("900")
    page.keyboard.press("Enter")  # Enter in "cash tendered" takes the cash

    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#change-due")).to_have_text("$34.80")
    page.goto(page.url + "/receipt")
    expect(page.locator("#receipt-total")).to_have_text("$865.20")
    assert serum_on_hand(clinic) == 4
    with clinic.context():
        client = db.session.scalar(select(Client).where(Client.last_name == "Quinn"))
        summary = clients.client_summary(db.session, client.id)
        assert [(p.code, p.sessions_left) for p in summary.packages] == [(SERIES, 3)]
    # Sold: the desk's next checkout starts empty.
    page.goto(f"{clinic.url}/checkout")
    expect(page.locator("#cart-lines tr.empty")).to_be_visible()
    expect(page.locator("#client-chosen-name")).to_have_text("no client chosen (retail only)")


def test_the_arrow_keys_move_through_the_client_results(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    open_checkout(page, clinic)
    page.keyboard.press("F2")
    page.keyboard.type("nora")
    results = page.locator("#checkout-client-results button")
    expect(results).to_have_count(2)
    second = results.nth(1).locator("strong").inner_text()
    page.keyboard.press("ArrowDown")
    expect(results.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#client-chosen-name")).to_have_text(second)
    expect(page.locator("#product-input")).to_be_focused()


def test_a_click_on_take_cash_right_after_editing_a_quantity_pays_the_new_quantity(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    open_checkout(page, clinic)
    scan(page, SERUM)
    expect(page.locator("#total-total")).to_have_text("$70.20")
    page.get_by_label("Cash tendered ($)").fill("200")
    expect(page.locator("#change-due")).to_have_text("$129.80")

    page.get_by_label(f"Quantity of {SERUM_NAME}").fill("2")
    page.get_by_role("button", name="Take cash").click()  # the box loses focus on this click

    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#sale-total")).to_have_text("$140.40")
    assert serum_on_hand(clinic) == 3


def test_a_refresh_or_a_trip_to_clients_keeps_the_cart(
        desk_page: Page, clinic: LiveServer) -> None:
    page = desk_page
    open_checkout(page, clinic)
    choose_client_by_keyboard(page, "quill")
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quill")
    scan(page, SERIES)
    scan(page, SERUM)
    quantity = page.get_by_label(f"Quantity of {SERUM_NAME}")
    quantity.fill("3")
    quantity.press("Enter")
    expect(page.locator("#total-total")).to_have_text("$1,005.60")
    wait_until_saved(page)

    page.reload()
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quill")
    expect(cart_rows(page)).to_have_count(2)
    expect(page.get_by_label(f"Quantity of {SERUM_NAME}")).to_have_value("3")
    expect(page.locator("#total-total")).to_have_text("$1,005.60")

    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.get_by_role("link", name="Checkout", exact=True).click()
    expect(cart_rows(page)).to_have_count(2)
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quill")


def test_a_parked_sale_resumes_on_another_desk(
        desk_page: Page, clinic: LiveServer, browser: Browser,
        viewport: dict[str, int]) -> None:
    page = desk_page
    open_checkout(page, clinic)
    choose_client_by_keyboard(page, "quinn")
    scan(page, SERIES)
    scan(page, SERUM)
    expect(page.locator("#total-total")).to_have_text("$865.20")
    page.get_by_role("button", name="Park sale").click()
    expect(page.locator("#checkout-status")).to_have_text(
        "Sale parked as “Nora Quinn”. Resume it from Parked sales.")
    expect(page.locator("#cart-lines tr.empty")).to_be_visible()
    expect(page.locator("#parked-count")).to_have_text("1")

    # A walk-in needs a label.
    scan(page, SERUM)
    page.get_by_role("button", name="Park sale").click()
    expect(page.locator("#park-error")).to_have_text("Type a label for this sale (it has no client).")
    page.get_by_label("Park as").fill("Walk-in, blue coat")
    page.get_by_role("button", name="Park sale").click()
    expect(page.locator("#parked-count")).to_have_text("2")

    other = browser.new_context(viewport=viewport)
    other.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        second = other.new_page()
        browser_login(second, clinic, "manager")
        second.goto(f"{clinic.url}/checkout")
        expect(second.locator("#cart-lines tr.empty")).to_be_visible()  # its own desk
        second.get_by_role("link", name=re.compile(r"Parked sales")).click()
        rows = second.locator("#parked-sales tbody tr[data-parked-id]")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="Nora Quinn")).to_contain_text(f"1 × {SERUM_NAME}")
        if viewport["width"] == 1024:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            second.screenshot(path=str(SCREENSHOTS / "parked.png"))
        second.get_by_role("button", name="Resume Nora Quinn").click()

        expect(second).to_have_url(re.compile(r"/checkout$"))
        expect(second.locator("#client-chosen-name")).to_have_text("Nora Quinn")
        expect(second.locator("#cart-lines tr[data-key]")).to_have_count(2)
        expect(second.locator("#total-total")).to_have_text("$865.20")
        second.goto(f"{clinic.url}/desk/parked")
        expect(second.locator("#parked-sales tbody tr[data-parked-id]")).to_have_count(1)
        expect(second.locator("#parked-sales")).not_to_contain_text("Nora Quinn")

        second.goto(f"{clinic.url}/checkout")
        second.get_by_label("Cash tendered ($)").fill("1000")
        second.get_by_role("button", name="Take cash").click()
        expect(second.locator("#sale-status")).to_have_text("Paid")
    finally:
        other.close()
    with clinic.context():
        sale = db.session.scalar(select(Sale))
        assert sale.total_cents == 86520 and sale.client.last_name == "Quinn"


def test_the_pay_buttons_are_in_view_without_scrolling(
        desk_page: Page, clinic: LiveServer, viewport: dict[str, int]) -> None:
    page = desk_page
    with clinic.context():
        for n in range(1, 7):
            make_item(f"MASK-{n}", name=f"Hydrogel sheet mask no. {n}", price_cents=1500,
                      lots=[(f"M-{n}", 10, 300)])
    open_checkout(page, clinic)
    choose_client_by_keyboard(page, "quinn")
    scan(page, SERIES)
    scan(page, SERUM)
    for n in range(1, 7):
        scan(page, f"MASK-{n}")
    expect(cart_rows(page)).to_have_count(8)
    page.get_by_label("Cash tendered ($)").fill("1000")
    expect(page.locator("#change-due")).not_to_have_text("—")
    page.keyboard.press("F4")
    page.evaluate("window.scrollTo(0, 0)")

    assert page.evaluate("document.documentElement.scrollHeight") > viewport["height"]
    assert in_view(page, "#pay-cash"), "Take cash is below the fold"
    assert in_view(page, "#pay-card"), "Pay by card is below the fold"
    assert in_view(page, "#total-total")
    if viewport["width"] == 1024:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "checkout.png"))
    # Still in view at the bottom of a long cart.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert in_view(page, "#pay-cash")
