"""In Chromium, at the desk's two screen sizes: a card sale's waiting page survives a
refresh, its Cancel releases the hold (no alert mail), "Take cash instead" ends paid in
cash, and the Transactions page finds the sales (its screenshot goes to docs/)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pos import app_settings
from pos.extensions import db
from pos.models import Client, Item, ItemStock, Sale
from pos.notify.outbox import deliver_pending
from pos.services import sales
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.factories import make_item
from tests.fixtures_notify import SmtpServer
from tests.fixtures_payments import make_client, stripe_config
from tests.stripe_standin import StripeStandIn

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {"landscape": {"width": 1024, "height": 768},
             "portrait": {"width": 768, "height": 1024}}


@pytest.fixture(params=list(VIEWPORTS))
def desk_page(request, browser) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.viewport_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def clinic(make_live_server, standin: StripeStandIn, smtp_server: SmtpServer) -> LiveServer:  # type: ignore[no-untyped-def]
    live = make_live_server(**stripe_config(standin), **smtp_server.config(),
                            ALERT_EMAIL_TO="manager@clinic.test")
    standin.webhook_url = f"{live.url}/stripe/webhook"
    with live.context():
        # Ten on the shelf, reorder point 2: selling one crosses nothing.
        make_item("SERUM", name="Pure HA serum 1 oz", price_cents=6500,
                  reorder_point=2, lots=[("S-24", 10, 300)])
        make_client("Ana", "Lopez", "ana.lopez@example.org")
    return live


def card_sale(live: LiveServer, user_id: int) -> int:
    """A card sale of one serum, as the checkout makes it (the checkout is its own page)."""
    with live.context():
        sale = sales.sell(client_id=None, lines=[sales.CartLine(sku="SERUM", package_code=None, quantity=1)],
                          discount_code=None, payment="card", user_id=user_id,
                          settings=app_settings(live.app), base_url=live.url)
        return sale.id


def stock(live: LiveServer) -> tuple[int, int]:
    with live.context():
        row = db.session.execute(select(ItemStock.on_hand, ItemStock.held).join(
            Item, Item.id == ItemStock.item_id).where(Item.sku == "SERUM")).one()
        return int(row[0]), int(row[1])


def assert_in_view(page: Page, selector: str) -> None:
    """The control is on screen without scrolling (the desk's main action)."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    height = page.viewport_size["height"]  # type: ignore[index]
    assert box["y"] + box["height"] <= height, f"{selector} is below the fold ({box})"


def test_cancel_on_the_waiting_page_releases_the_hold_and_survives_a_refresh(
        desk_page: Page, clinic: LiveServer, standin: StripeStandIn, smtp_server: SmtpServer):
    page = desk_page
    user = browser_login(page, clinic, "front_desk")
    sale_id = card_sale(clinic, user["id"])
    assert stock(clinic) == (10, 1)

    page.goto(f"{clinic.url}/sales/{sale_id}")
    expect(page.locator("#sale-status")).to_have_text("Awaiting payment")
    page.reload()  # the hold and the page survive a refresh
    expect(page.locator("#sale-status")).to_have_text("Awaiting payment")
    expect(page.locator("#payment-qr svg")).to_be_visible()
    assert stock(clinic) == (10, 1)
    assert_in_view(page, "#cancel-form [type=submit]")

    page.get_by_role("button", name="Cancel the card payment").click()

    expect(page.locator("#sale-status")).to_have_text("Cancelled")
    expect(page.locator("#closed-panel")).to_be_visible()
    expect(page.get_by_role("button", name="Take cash instead")).to_have_count(0)
    assert stock(clinic) == (10, 0)
    with clinic.context():
        session_id = db.session.get(Sale, sale_id).checkout_session_id
    assert standin.requests_to("POST", f"/v1/checkout/sessions/{session_id}/expire")
    assert standin.sessions[session_id]["status"] == "expired"
    page.reload()
    expect(page.locator("#sale-status")).to_have_text("Cancelled")
    # No alert went out (nor anything else: the sale had no client to send a receipt to).
    with clinic.context():
        assert deliver_pending(settings=app_settings(clinic.app)).delivered == 0
    assert smtp_server.messages == []


def test_take_cash_instead_ends_paid_in_cash(desk_page: Page, clinic: LiveServer):
    page = desk_page
    user = browser_login(page, clinic, "front_desk")
    sale_id = card_sale(clinic, user["id"])
    page.goto(f"{clinic.url}/sales/{sale_id}")
    assert_in_view(page, "#take-cash-form [type=submit]")

    page.get_by_label("Cash tendered ($, optional)").fill("80")
    page.get_by_role("button", name="Take cash instead").click()

    expect(page).not_to_have_url(re.compile(rf"/sales/{sale_id}$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#sale-payments")).to_contain_text("Cash")
    expect(page.locator("#change-due")).to_have_text("$9.80")  # 80 - (65 + 5.20 tax)
    assert stock(clinic) == (9, 0)
    with clinic.context():
        assert db.session.get(Sale, sale_id).status == "cancelled"


def test_the_transactions_page_finds_a_sale_by_client_and_opens_it(
        desk_page: Page, clinic: LiveServer):
    page = desk_page
    user = browser_login(page, clinic, "front_desk")
    with clinic.context():
        ana_id = db.session.scalar(select(Client.id).where(Client.last_name == "Lopez"))
        for client_id in (ana_id, None, ana_id):
            sales.sell(client_id=client_id, lines=[sales.CartLine(sku="SERUM", package_code=None, quantity=1)],
                       discount_code=None, payment="cash", user_id=user["id"],
                       settings=app_settings(clinic.app))
    card_sale(clinic, user["id"])

    page.goto(clinic.url)
    page.get_by_role("link", name="Transactions", exact=True).click()
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    expect(page.locator("#transactions tbody tr")).to_have_count(4)
    expect(page.locator("#transactions tbody tr").first).to_contain_text("Awaiting payment")
    if page.viewport_name == "landscape":  # type: ignore[attr-defined]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "transactions.png"), full_page=True)

    # Keyboard only: the search box has the focus; type, Enter.
    expect(page.get_by_label("Receipt number or client")).to_be_focused()
    page.keyboard.type("lopez")
    page.keyboard.press("Enter")
    expect(page.locator("#transactions tbody tr")).to_have_count(2)
    expect(page.locator("#result-count")).to_have_text("2 sales")
    page.locator("#transactions tbody tr a").first.click()
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.get_by_role("link", name="Print receipt")).to_be_visible()
    expect(page.get_by_role("button", name="Email the receipt")).to_be_visible()
