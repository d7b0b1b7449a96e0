"""The stock desk in a real browser: sign in, find an item, receive a lot, read the ledger."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pos.services import clock
from tests.e2e.conftest import browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.fixture
def clinic(live_app):  # type: ignore[no-untyped-def]
    """A few items: cartridges well stocked, masks at their reorder point, mist sold out."""
    with live_app.context():
        make_item("CART-36", kind="supply", unit="cartridge", reorder_point=20,
                  name="MDPen needle cartridge", lots=[("C-OLD", 60, 400)])
        make_item("GF-MASK", kind="supply", unit="mask", reorder_point=10,
                  name="Growth-factor gel mask", lots=[("G-031", 10, 200)])
        make_item("MIST-RET", kind="retail", reorder_point=6, name="Copper mist take-home")
    return live_app


def test_a_manager_receives_a_new_lot_and_sees_on_hand_and_the_ledger_rise(page, clinic):
    browser_login(page, clinic, "manager")
    page.get_by_role("link", name="Stock", exact=True).click()
    expect(page.get_by_role("heading", name="Stock")).to_be_visible()

    page.get_by_role("searchbox", name="Search items").fill("cartridge")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.stock tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CART-36")

    page.get_by_role("link", name="MDPen needle cartridge").click()
    expect(page.locator("#on-hand")).to_have_text("60")

    page.get_by_role("link", name="Receive stock").click()
    with clinic.context():
        expires = clock.today() + timedelta(days=365)
    page.get_by_label("Quantity").fill("10")
    page.get_by_label("Lot number").fill("C-NEW-77")
    page.get_by_label("Expires on").fill(expires.isoformat())
    page.get_by_label("Unit cost ($)").fill("4.50")
    page.get_by_role("button", name="Receive").click()

    expect(page).to_have_url(re.compile(r"/stock/items/CART-36$"))
    expect(page.locator("#on-hand")).to_have_text("70")
    expect(page.get_by_role("status")).to_contain_text("On hand now 70")
    newest = page.locator("table.ledger tbody tr").first
    expect(newest).to_contain_text("+10")
    expect(newest).to_contain_text("receipt")
    expect(newest).to_contain_text("C-NEW-77")
    expect(newest).to_contain_text("manager@test.example")
    lot_row = page.locator("table.lots tbody tr", has_text="C-NEW-77")
    expect(lot_row).to_contain_text(expires.isoformat())
    expect(lot_row.locator("td.num")).to_have_text("10")


def test_front_desk_sees_stock_but_no_receive_or_adjust_button(page, clinic):
    browser_login(page, clinic, "front_desk")
    page.goto(f"{clinic.url}/stock/items/CART-36")
    expect(page.locator("#on-hand")).to_have_text("60")
    expect(page.get_by_role("link", name="Receive stock")).to_have_count(0)
    expect(page.get_by_role("link", name="Adjust or count")).to_have_count(0)
    expect(page.locator("table.ledger")).to_have_count(0)
    response = page.goto(f"{clinic.url}/stock/items/CART-36/receive")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_receive_form_shows_each_error_next_to_its_field(page, clinic):
    browser_login(page, clinic, "manager")
    page.goto(f"{clinic.url}/stock/items/CART-36/receive")
    page.get_by_label("Quantity").fill("-1")
    page.get_by_role("button", name="Receive").click()
    quantity_field = page.locator(".field.has-error", has=page.get_by_label("Quantity"))
    expect(quantity_field.locator("p.error")).to_contain_text("between 1 and")
    expect(page.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")

    with clinic.context():
        yesterday = clock.today() - timedelta(days=1)
    page.get_by_label("Quantity").fill("5")
    page.get_by_label("Lot number").fill("C-STALE")
    page.get_by_label("Expires on").fill(yesterday.isoformat())
    page.get_by_role("button", name="Receive").click()
    expiry_field = page.locator(".field.has-error", has=page.get_by_label("Expires on"))
    expect(expiry_field.locator("p.error")).to_contain_text("expired")
    expect(page.locator(".field.has-error")).to_have_count(1)

    page.goto(f"{clinic.url}/stock/items/CART-36")
    expect(page.locator("#on-hand")).to_have_text("60")
    expect(page.locator("table.ledger tbody tr")).to_have_count(1)


def test_low_and_out_items_are_highlighted_on_the_overview(page, clinic):
    browser_login(page, clinic, "front_desk")
    page.goto(f"{clinic.url}/stock/")
    cartridge = page.locator("tr[data-sku='CART-36']")
    mask = page.locator("tr[data-sku='GF-MASK']")
    mist = page.locator("tr[data-sku='MIST-RET']")
    expect(cartridge.locator(".badge")).to_have_text("OK")
    expect(mask.locator(".badge")).to_have_text("LOW")
    expect(mist.locator(".badge")).to_have_text("OUT")
    expect(mask).to_have_class(re.compile(r"\bstatus-low\b"))
    expect(mist).to_have_class(re.compile(r"\bstatus-out\b"))
    # Highlighted means a person can see it: the rows and badges are coloured differently.
    colours = {sku: page.locator(f"tr[data-sku='{sku}'] .badge").evaluate(
        "el => getComputedStyle(el).backgroundColor") for sku in ("CART-36", "GF-MASK",
                                                                  "MIST-RET")}
    assert len(set(colours.values())) == 3, colours
    backgrounds = {sku: page.locator(f"tr[data-sku='{sku}']").evaluate(
        "el => getComputedStyle(el).backgroundColor") for sku in ("CART-36", "GF-MASK",
                                                                  "MIST-RET")}
    assert backgrounds["GF-MASK"] != backgrounds["CART-36"] != backgrounds["MIST-RET"]

    page.get_by_role("combobox", name="Kind").select_option("retail")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.stock tbody tr")).to_have_count(1)
    expect(page.locator("tr[data-sku='MIST-RET']")).to_be_visible()


def test_a_wrong_password_keeps_you_on_the_sign_in_page_with_a_message(page, live_app):
    with pytest.raises(AssertionError, match="Email or password is not right"):
        browser_login(page, live_app, "manager", password="not-the-password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
