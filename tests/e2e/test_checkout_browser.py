"""The acceptance test of the checkout, in Chromium: a front-desk user sells a 3-session
series and a retail serum to a new client, the client pays by card (through the Stripe
stand-in, and separately through the demo gateway), the desk screen turns to "Paid" by
itself, the receipt prints; the serum's stock fell by one and the client has 3 sessions."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Client, Item, ItemStock, Sale
from pos.services import catalog, clients
from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item
from tests.stripe_standin import StripeStandIn

pytestmark = pytest.mark.browser

WEBHOOK_SECRET = "whsec_test_checkout_browser"
SERUM = "SERUM-1OZ"
SERIES = "FACE-3"
# 795.00 (series, not taxed) + 65.00 serum + 8 % tax on the serum (5.20)
TOTAL = "$865.20"


def stock_the_clinic(live: LiveServer) -> None:
    with live.context():
        make_item(SERUM, name="Pure HA serum 1 oz (take-home)", price_cents=6500,
                  lots=[("S-24", 5, 300)])
        catalog.create_package(catalog.NewPackage(
            code=SERIES, name="Face microneedling series of 3", area="face", sessions=3,
            price_cents=79500, min_days_between=28, max_days_between=42, supplies=()), None)


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    s = StripeStandIn(webhook_secret=WEBHOOK_SECRET).start()
    yield s
    s.stop()


@pytest.fixture
def stripe_clinic(make_live_server, standin: StripeStandIn) -> LiveServer:  # type: ignore[no-untyped-def]
    live = make_live_server(STRIPE_SECRET_KEY="sk_test_browser",
                            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                            STRIPE_API_BASE=standin.api_base)
    # The stand-in posts the signed events to the app by itself, as Stripe does.
    standin.webhook_url = f"{live.url}/stripe/webhook"
    stock_the_clinic(live)
    return live


@pytest.fixture
def demo_clinic(live_app: LiveServer) -> LiveServer:
    stock_the_clinic(live_app)
    return live_app


def serum_on_hand(live: LiveServer) -> int:
    with live.context():
        return db.session.scalar(select(func.sum(ItemStock.on_hand)).join(
            Item, Item.id == ItemStock.item_id).where(Item.sku == SERUM))


def sell_series_and_serum_by_card(page: Page, live: LiveServer) -> None:
    """From the top bar to the sale's payment screen, as the front desk does it."""
    browser_login(page, live, "front_desk")
    page.get_by_role("link", name="Checkout", exact=True).click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()

    # A new client, created without leaving the checkout.
    page.locator("#new-client summary").click()
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Email", exact=True).fill("nora.quinn@example.com")
    page.get_by_label("Phone").fill("(555) 201-3344")
    page.get_by_role("button", name="Create and choose").click()
    expect(page.locator("#client-chosen-name")).to_have_text("Nora Quinn")

    # The series scanned (its code typed + Enter, as a scanner does), the serum searched.
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill(SERIES)
    scan.press("Enter")
    expect(page.locator("#cart-lines tr[data-key='package:FACE-3']")).to_be_visible()
    scan.fill("serum")
    page.locator("#product-results button", has_text="Pure HA serum").click()
    expect(page.locator("#cart-lines tr")).to_have_count(2)

    # Totals follow the cart: two serums, then back to one.
    serum_qty = page.get_by_label("Quantity of Pure HA serum 1 oz (take-home)")
    serum_qty.fill("2")
    serum_qty.dispatch_event("change")
    expect(page.locator("#total-total")).to_have_text("$935.40")
    serum_qty.fill("1")
    serum_qty.dispatch_event("change")
    expect(page.locator("#total-subtotal")).to_have_text("$860.00")
    expect(page.locator("#total-tax")).to_have_text("$5.20")
    expect(page.locator("#total-total")).to_have_text(TOTAL)

    page.get_by_role("button", name="Pay by card").click()
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Awaiting payment")
    expect(page.locator("#payment-qr svg")).to_be_visible()
    expect(page.locator("#sale-total")).to_have_text(TOTAL)


def wait_until_paid_without_reloading(page: Page) -> None:
    expect(page.locator("#sale-status")).to_have_text("Paid", timeout=30_000)
    expect(page.locator("#payment-panel")).to_be_hidden()
    # The marker set before paying survives: the page was never reloaded.
    assert page.evaluate("window.__stillTheSamePage") is True


def open_the_receipt(page: Page, live: LiveServer) -> Page:
    page.get_by_role("link", name="Print receipt").click()
    expect(page).to_have_url(re.compile(r"/sales/\d+/receipt$"))
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text(live.app.config["CLINIC_NAME"])
    expect(receipt).to_contain_text("Face microneedling series of 3")
    expect(receipt).to_contain_text("Pure HA serum 1 oz (take-home)")
    expect(page.locator("#receipt-tax")).to_have_text("$5.20")
    expect(page.locator("#receipt-total")).to_have_text(TOTAL)
    # The brand when the processor names it (Stripe: "Visa"); the demo gateway does not.
    expect(page.locator("#receipt-method")).to_have_text(re.compile(r"^(Visa|Card) ending 4242$"))
    expect(page.locator("#receipt-number")).to_have_text(re.compile(r"^#\d+$"))
    # The print stylesheet keeps the receipt and drops the app around it.
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(receipt).to_be_visible()
    page.emulate_media(media="screen")
    return page


def the_client_has_three_sessions_and_the_serum_fell_by_one(live: LiveServer) -> None:
    assert serum_on_hand(live) == 4
    with live.context():
        client = db.session.scalar(select(Client).where(Client.email == "nora.quinn@example.com"))
        summary = clients.client_summary(db.session, client.id)
        assert [(p.code, p.sessions_left) for p in summary.packages] == [(SERIES, 3)]
        sale = db.session.scalar(select(Sale).where(Sale.client_id == client.id))
        assert sale.status == "paid" and sale.total_cents == 86520


def test_a_card_sale_paid_on_the_stripe_page_turns_paid_by_itself_and_prints(
        page: Page, stripe_clinic: LiveServer, standin: StripeStandIn) -> None:
    sell_series_and_serum_by_card(page, stripe_clinic)
    checkout_url = page.locator("#checkout-link").get_attribute("href")
    assert checkout_url.startswith(standin.api_base + "/pay/")
    assert serum_on_hand(stripe_clinic) == 5  # held for the sale, not gone yet
    page.evaluate("window.__stillTheSamePage = true")

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Open on this tablet").click()
    stripe_page = opened.value
    expect(stripe_page.get_by_role("heading")).to_contain_text("865.20 USD")
    stripe_page.locator("#pay").click()
    expect(stripe_page.get_by_role("heading", name="Thank you")).to_be_visible()
    stripe_page.close()

    wait_until_paid_without_reloading(page)
    open_the_receipt(page, stripe_clinic)
    expect(page.locator("#receipt-demo")).to_have_count(0)
    the_client_has_three_sessions_and_the_serum_fell_by_one(stripe_clinic)
    # Stripe was told the sale, never the client.
    created = standin.requests_to("POST", "/v1/checkout/sessions")[0]
    sent = " ".join(created.form.values()).lower()
    assert "nora" not in sent and "quinn" not in sent and "example.com" not in sent


def test_a_card_sale_approved_on_the_demo_page_turns_paid_by_itself_and_prints(
        page: Page, demo_clinic: LiveServer) -> None:
    sell_series_and_serum_by_card(page, demo_clinic)
    assert "/demo-pay/" in page.locator("#checkout-link").get_attribute("href")
    page.evaluate("window.__stillTheSamePage = true")

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Open on this tablet").click()
    demo_page = opened.value
    expect(demo_page.locator("#demo-label")).to_have_text("DEMO - no money moves")
    expect(demo_page.locator("#demo-amount")).to_have_text(TOTAL)
    demo_page.get_by_role("button", name="Approve payment").click()
    expect(demo_page.locator("#demo-status")).to_contain_text("paid")
    demo_page.close()

    wait_until_paid_without_reloading(page)
    open_the_receipt(page, demo_clinic)
    expect(page.locator("#receipt-demo")).to_have_text("DEMO - no money moves")
    the_client_has_three_sessions_and_the_serum_fell_by_one(demo_clinic)


def test_a_cash_sale_shows_the_change_due_and_is_paid_at_once(
        page: Page, demo_clinic: LiveServer) -> None:
    browser_login(page, demo_clinic, "front_desk")
    page.goto(f"{demo_clinic.url}/checkout")
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill(SERUM.lower())
    scan.press("Enter")
    expect(page.locator("#total-total")).to_have_text("$70.20")
    page.get_by_label("Cash tendered ($)").fill("100")
    expect(page.locator("#change-due")).to_have_text("$29.80")
    page.get_by_role("button", name="Take cash").click()
    expect(page).to_have_url(re.compile(r"/sales/\d+$"))
    expect(page.locator("#sale-status")).to_have_text("Paid")
    expect(page.locator("#change-due")).to_have_text("$29.80")
    assert serum_on_hand(demo_clinic) == 4


def test_a_code_scanned_before_the_catalog_arrives_is_added_once_it_does(
        page: Page, demo_clinic: LiveServer) -> None:
    """A scanner can type faster than the page loads: the scan must wait, not be lost or
    sent to the server in the case the scanner typed."""
    held: list[Route] = []
    # The front desk lands on the checkout: hold the catalog of the next visit only.
    browser_login(page, demo_clinic, "front_desk")
    page.route("**/desk/catalog.json", lambda route: held.append(route))
    page.goto(f"{demo_clinic.url}/checkout")
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill(SERUM.lower())
    scan.press("Enter")
    page.wait_for_timeout(200)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#cart-lines")).to_contain_text("Pure HA serum 1 oz")
    expect(page.locator("#total-total")).to_have_text("$70.20")
    expect(page.locator("#cart-error")).to_have_text("")


def test_scanning_an_unknown_code_says_so_and_adds_nothing(
        page: Page, demo_clinic: LiveServer) -> None:
    browser_login(page, demo_clinic, "front_desk")
    page.goto(f"{demo_clinic.url}/checkout")
    expect(page.locator("#cart-lines tr.empty")).to_be_visible()
    page.wait_for_load_state("networkidle")
    scan = page.get_by_role("textbox", name="Scan or search products")
    scan.fill("0000000000")
    scan.press("Enter")
    expect(page.locator("#product-error")).to_contain_text("No product has")
    expect(page.locator("#cart-lines tr.empty")).to_be_visible()
    expect(page.get_by_role("button", name="Pay by card")).to_be_disabled()


def test_client_search_as_you_type_shows_names_as_text(
        page: Page, demo_clinic: LiveServer) -> None:
    with demo_clinic.context():
        clients.create_client(first_name="<img src=x onerror=alert(1)>", last_name="Smith",
                              email=None, phone="555 777 1234", user_id=None)
        clients.create_client(first_name="Jane", last_name="Smithers", email=None,
                              phone=None, user_id=None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browser_login(page, demo_clinic, "front_desk")
    page.get_by_role("link", name="Clients", exact=True).click()
    search = page.get_by_role("searchbox", name="Search clients")
    search.fill("smi")
    rows = page.locator("#client-results tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("<img src=x onerror=alert(1)> Smith")
    search.fill("7771")
    expect(rows).to_have_count(1)
    search.fill("smithers")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Jane Smithers")
    assert dialogs == []
