"""The purchasing pages through the Flask test client: suppliers, an item's supplier, the
reorder page's button, an order sent and received with lots, the count sheet, a lot's
expiry corrected, and a supply refused without its lot on the receive page."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from pos.extensions import db
from pos.models import Alert, Item, OutboxMessage, PurchaseOrder, StockMovement
from pos.services import clock, purchasing, suppliers
from tests.factories import make_item, receive


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def submit(client, path: str, data: dict[str, str], form_page: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf(client, form_page or path)})


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def a_supplier(name: str = "Dermapen Supply") -> int:
    return suppliers.create_supplier(name=name, email="orders@dermapen.example",
                                     lead_time_days=5, minimum_order_cents=None,
                                     user_id=None).id


def test_a_manager_adds_a_supplier_on_its_page(app, client, login_as):
    login_as("front_desk")
    assert client.get("/purchasing/suppliers").status_code == 403
    login_as("manager")
    assert re.search(r'href="/purchasing/orders"\s*>Purchasing<',
                     client.get("/stock/").get_data(as_text=True))
    response = submit(client, "/purchasing/suppliers", {
        "name": "Dermapen Supply", "email": "orders@dermapen.example", "lead_time_days": "5",
        "minimum_order": "200.00"})
    assert response.status_code == 302
    page = client.get("/purchasing/suppliers").get_data(as_text=True)
    assert "orders@dermapen.example" in page and "$200.00" in page
    bad = submit(client, "/purchasing/suppliers", {"name": "X", "email": "nope",
                                                   "lead_time_days": "1"})
    assert bad.status_code == 422 and "Not an email address." in bad.get_data(as_text=True)


def test_the_item_edit_page_chooses_the_supplier(app, client, login_as):
    make_item("CART-36", kind="supply")
    sid = a_supplier()
    login_as("manager")
    page = client.get("/catalog/items/CART-36/edit").get_data(as_text=True)
    assert "Dermapen Supply" in page and 'name="supplier"' in page
    response = submit(client, "/catalog/items/CART-36/edit", {
        "name": "Cartridge", "price": "0.00", "cost": "2.50", "reorder_point": "20",
        "reorder_quantity": "100", "active": "y", "supplier": str(sid)})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(Item.supplier_id).where(Item.sku == "CART-36")) == sid


def test_reorder_button_drafts_then_send_print_and_receive_with_lots(app, client, login_as):
    sid = a_supplier()
    make_item("CART-36", kind="supply", name="MDPen cartridge", reorder_point=20,
              reorder_quantity=100, lots=[("C-1", 10, 300)])
    db.session.execute(Item.__table__.update().values(supplier_id=sid))
    db.session.commit()
    login_as("manager")
    response = submit(client, "/purchasing/orders/from-reorder", {}, "/alerts/reorder")
    assert response.status_code == 302
    db.session.rollback()
    order = db.session.scalars(select(PurchaseOrder)).one()
    page = client.get("/purchasing/orders").get_data(as_text=True)
    assert f'data-order="{order.id}"' in page and "draft" in page
    path = f"/purchasing/orders/{order.id}"
    assert submit(client, f"{path}/send", {}, path).status_code == 302
    assert "sent" in client.get(path).get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.recipients).where(
        OutboxMessage.topic == "purchase_order")).all() == ["orders@dermapen.example"]
    printed = client.get(f"{path}/print").get_data(as_text=True)
    assert "MDPen cartridge" in printed and "100 bottle" in printed

    no_lot = submit(client, f"{path}/receive", {"qty_0": "60", "lot_0": "", "expires_0": ""})
    assert no_lot.status_code == 422
    assert "enter its lot number and expiry date" in no_lot.get_data(as_text=True)
    done = submit(client, f"{path}/receive", {"qty_0": "60", "lot_0": "C-9",
                                              "expires_0": in_days(400)})
    assert done.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "partially received" in page
    over = submit(client, f"{path}/receive", {"qty_0": "41", "lot_0": "C-9",
                                              "expires_0": in_days(400)})
    assert over.status_code == 422 and "At most 40" in over.get_data(as_text=True)
    item_page = client.get("/stock/items/CART-36").get_data(as_text=True)
    assert 'id="on-hand">70<' in item_page and 'id="on-order">40<' in item_page


def test_the_count_sheet_takes_the_number_counted(app, client, login_as):
    make_item("CART-36", kind="supply", lots=[("C-1", 10, 300)])
    login_as("manager")
    page = client.get("/purchasing/counts").get_data(as_text=True)
    assert 'data-lot="C-1"' in page
    sheet = client.get("/purchasing/counts/sheet").get_data(as_text=True)
    assert "C-1" in sheet and "Counted" in sheet
    far = submit(client, "/purchasing/counts", {"counted_0": "2", "note": ""})
    assert far.status_code == 422 and "needs a note" in far.get_data(as_text=True)
    assert submit(client, "/purchasing/counts", {"counted_0": "7", "note": ""}) \
        .status_code == 302
    db.session.rollback()
    assert [m.qty_delta for m in db.session.scalars(
        select(StockMovement).where(StockMovement.reason == "count"))] == [-3]


def test_a_lots_expiry_is_corrected_from_the_item_page(app, client, login_as):
    make_item("SERUM", kind="retail")
    receive("SERUM", 8, "G-100", None)
    login_as("manager")
    assert "/purchasing/lots/SERUM/G-100/expiry" in \
        client.get("/stock/items/SERUM").get_data(as_text=True)
    response = submit(client, "/purchasing/lots/SERUM/G-100/expiry",
                      {"expires_on": in_days(5), "reason": "label read again"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalars(select(Alert.kind)).all() == ["expiring_lot"]
    assert in_days(5) in client.get("/stock/items/SERUM").get_data(as_text=True)


def test_the_receive_page_refuses_a_supply_without_lot_and_expiry(app, client, login_as):
    make_item("CART-36", kind="supply")
    login_as("manager")
    response = submit(client, "/stock/items/CART-36/receive", {"quantity": "5", "lot": ""})
    assert response.status_code == 422
    assert "enter its lot number and expiry date" in response.get_data(as_text=True)
    assert submit(client, "/stock/items/CART-36/receive", {
        "quantity": "5", "lot": "C-1", "expires_on": in_days(300)}).status_code == 302


def test_a_draft_is_edited_and_cancelled_on_its_pages(app, client, login_as):
    sid = a_supplier()
    make_item("CART-36", kind="supply")
    order = purchasing.create_order(sid, [purchasing.OrderLineIn("CART-36", 10, 250)], None)
    login_as("manager")
    path = f"/purchasing/orders/{order.id}"
    assert submit(client, f"{path}/edit", {"qty_0": "25", "cost_0": "3.00"}).status_code == 302
    assert "25 bottle" in client.get(path).get_data(as_text=True)
    assert submit(client, f"{path}/cancel", {}, path).status_code == 302
    assert "cancelled" in client.get(path).get_data(as_text=True)


def test_an_order_below_the_suppliers_minimum_says_so(app, client, login_as):
    sid = suppliers.create_supplier(name="Glow Labs", email="o@glow.example", lead_time_days=2,
                                    minimum_order_cents=50000, user_id=None).id
    make_item("CART-36", kind="supply")
    order = purchasing.create_order(sid, [purchasing.OrderLineIn("CART-36", 10, 250)], None)
    login_as("manager")
    page = client.get(f"/purchasing/orders/{order.id}").get_data(as_text=True)
    assert 'id="below-minimum"' in page and "minimum order of $500.00" in page
