"""From a low-stock alert to stock on the shelf, in Chromium at the desk's two sizes: the
alert, the reorder list, drafts per supplier in one click, send, receive with lot and
expiry, and the alert is gone."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from pos.extensions import db
from pos.models import Item
from pos.services import clock, stock, suppliers
from tests.e2e.conftest import LiveServer, browser_login
from tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    with live_app.context():
        make_item("CART-36", kind="supply", name="MDPen cartridge", unit="cartridge",
                  reorder_point=20, reorder_quantity=100, lots=[("C-1", 25, 300)])
        supplier = suppliers.create_supplier(name="Dermapen Supply",
                                             email="orders@dermapen.example",
                                             lead_time_days=5, minimum_order_cents=None,
                                             user_id=None)
        db.session.execute(Item.__table__.update().values(supplier_id=supplier.id))
        db.session.commit()
        stock.adjust_stock(sku="CART-36", lot_code="C-1", qty_delta=-10, reason="damaged",
                           note=None, user_id=None)  # 15 left: the low-stock alert
    return live_app


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_alert_to_reorder_to_orders_sent_and_received_and_the_alert_clears(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "manager")
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("tr.alert-low_stock")).to_contain_text("MDPen cartridge")

    page.get_by_role("link", name="Reorder list", exact=True).click()
    expect(page.locator('tr[data-sku="CART-36"] .suggested')).to_contain_text("100")
    draft = page.get_by_role("button", name="Draft purchase orders (one per supplier)")
    box = draft.bounding_box()
    assert box is not None and box["y"] + box["height"] <= size[1]
    draft.click()
    expect(page.locator("p.flash")).to_contain_text("Drafted 1 purchase order")

    page.locator("#orders a", has_text="PO").first.click()
    expect(page.locator("#po-status")).to_have_text("draft")
    page.get_by_role("button", name="Send to supplier").click()
    expect(page.locator("#po-status")).to_have_text("sent")

    page.get_by_role("link", name="Receive", exact=True).click()
    page.get_by_label("MDPen cartridge (CART-36): quantity received").fill("100")
    page.get_by_label("MDPen cartridge (CART-36): lot").fill("C-77")
    receive = page.get_by_role("button", name="Receive")
    receive.click()
    # A supply without its expiry is refused, beside the field, and nothing is received.
    expect(page.locator(".error-summary")).to_contain_text("expiry date")
    with clinic.context():
        expiry = (clock.today() + timedelta(days=400)).isoformat()
    page.get_by_label("MDPen cartridge (CART-36): expires on").fill(expiry)
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#po-status")).to_have_text("received")
    expect(page.locator('#order-lines tr[data-sku="CART-36"] .received')).to_have_text("100")

    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("tr.alert-low_stock")).to_have_count(0)
    page.goto(f"{clinic.url}/stock/items/CART-36")
    expect(page.locator("#on-hand")).to_have_text("115")
    expect(page).to_have_url(re.compile(r"/stock/items/CART-36$"))
