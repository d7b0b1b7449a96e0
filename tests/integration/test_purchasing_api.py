"""Suppliers, purchase orders, counts and lots (API.md "Purchasing, counts, locations")."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pos.extensions import db
from pos.models import Alert, AuditEntry, OutboxMessage, StockMovement
from pos.services import clock
from tests.factories import make_item, receive


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def supplier(api, name: str = "Dermapen Supply", **extra) -> int:  # type: ignore[no-untyped-def]
    response = api("manager").post("/api/v1/suppliers", {
        "name": name, "email": f"{name.split()[0].lower()}@supplier.example",
        "lead_time_days": 5, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def set_supplier(api, sku: str, supplier_id: int | None) -> dict:  # type: ignore[no-untyped-def]
    response = api("manager").patch(f"/api/v1/items/{sku}", {"supplier_id": supplier_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def order(api, supplier_id: int, sku: str = "CART-36", quantity: int = 100) -> int:  # type: ignore[no-untyped-def]
    response = api("manager").post("/api/v1/purchase-orders", {
        "supplier_id": supplier_id,
        "lines": [{"sku": sku, "quantity": quantity, "unit_cost_cents": 250}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def item(api, sku: str) -> dict:  # type: ignore[no-untyped-def]
    return api("manager").get(f"/api/v1/items/{sku}").get_json()


# -- 1. suppliers ----------------------------------------------------------------------------

def test_a_manager_adds_a_supplier_and_gives_an_item_its_supplier(app, api):
    make_item("CART-36", kind="supply")
    sid = supplier(api, minimum_order_cents=20000)
    listed = api("manager").get("/api/v1/suppliers").get_json()
    assert listed == [{"id": sid, "name": "Dermapen Supply", "email": "dermapen@supplier.example",
                       "lead_time_days": 5, "minimum_order_cents": 20000}]
    assert set_supplier(api, "CART-36", sid)["supplier_id"] == sid
    assert item(api, "CART-36")["supplier_id"] == sid
    assert set_supplier(api, "CART-36", None)["supplier_id"] is None


def test_suppliers_are_for_managers_and_checked(app, api):
    make_item("CART-36", kind="supply")
    assert api("front_desk").post("/api/v1/suppliers", {"name": "X"}).status_code == 403
    assert api("front_desk").get("/api/v1/suppliers").status_code == 403
    bad = api("manager").post("/api/v1/suppliers", {"name": "X", "email": "not-an-email",
                                                     "lead_time_days": 3})
    assert bad.status_code == 422 and "email" in bad.get_json()["error"]["details"]["fields"]
    supplier(api, "Acme Dermal")
    again = api("manager").post("/api/v1/suppliers", {
        "name": "acme dermal", "email": "a@b.example", "lead_time_days": 1})
    assert again.status_code == 409
    missing = api("manager").patch("/api/v1/items/CART-36", {"supplier_id": 999})
    assert missing.status_code == 404


# -- 2. purchase orders ----------------------------------------------------------------------

def test_from_reorder_drafts_one_order_per_supplier_and_the_list_then_shows_them_on_order(
        app, api, client, login_as):
    make_item("CART-36", kind="supply", reorder_point=20, reorder_quantity=100,
              lots=[("C-1", 10, 300)])
    make_item("MASK", kind="supply", reorder_point=10, reorder_quantity=30,
              lots=[("M-1", 2, 300)])
    make_item("SERUM", kind="retail", reorder_point=5, reorder_quantity=12)
    make_item("MIST", kind="retail", reorder_point=5, reorder_quantity=6)  # no supplier
    a, b = supplier(api, "Dermapen Supply"), supplier(api, "Glow Labs")
    set_supplier(api, "CART-36", a)
    set_supplier(api, "MASK", a)
    set_supplier(api, "SERUM", b)

    response = api("manager").post("/api/v1/purchase-orders/from-reorder")
    assert response.status_code == 201
    body = response.get_json()
    assert body["skipped"] == ["MIST"]
    by_supplier = {o["supplier_id"]: o for o in body["orders"]}
    assert set(by_supplier) == {a, b}
    assert all(o["status"] == "draft" for o in body["orders"])
    assert sorted((line["sku"], line["quantity"], line["received"])
                  for line in by_supplier[a]["lines"]) == [("CART-36", 100, 0), ("MASK", 30, 0)]
    assert [(line["sku"], line["quantity"]) for line in by_supplier[b]["lines"]] == \
        [("SERUM", 12)]
    assert item(api, "CART-36")["on_order"] == 100

    # The reorder list subtracts what is on order: nothing more to suggest, and it says so.
    login_as("manager")
    html = client.get("/alerts/reorder").get_data(as_text=True)
    assert 'data-sku="CART-36"' in html and "100 on order" in html
    again = api("manager").post("/api/v1/purchase-orders/from-reorder").get_json()
    assert again["orders"] == [] and again["skipped"] == ["MIST"]


def test_receiving_60_of_100_is_partial_with_40_on_order_and_41_more_is_refused(app, api):
    make_item("CART-36", kind="supply", reorder_point=20)
    sid = supplier(api)
    po = order(api, sid)
    manager = api("manager")
    first = manager.post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 60, "lot": "C-9", "expires_on": in_days(400)}]})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "partially_received"
    assert first.get_json()["lines"] == [{"sku": "CART-36", "quantity": 100, "received": 60,
                                          "unit_cost_cents": 250}]
    stocked = item(api, "CART-36")
    assert (stocked["on_hand"], stocked["on_order"]) == (60, 40)
    assert stocked["lots"][0]["lot"] == "C-9"
    over = manager.post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 41, "lot": "C-9", "expires_on": in_days(400)}]})
    assert over.status_code == 422
    assert over.get_json()["error"]["code"] == "receipt_exceeds_order"
    assert item(api, "CART-36")["on_hand"] == 60
    rest = manager.post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 40, "lot": "C-10", "expires_on": in_days(500)}]})
    assert rest.get_json()["status"] == "received"
    got = manager.get(f"/api/v1/purchase-orders/{po}").get_json()
    assert (got["status"], got["lines"][0]["received"]) == ("received", 100)
    assert (item(api, "CART-36")["on_hand"], item(api, "CART-36")["on_order"]) == (100, 0)
    db.session.rollback()
    refs = db.session.scalars(select(StockMovement.reference)
                              .where(StockMovement.reason == "receipt")).all()
    assert refs == [f"purchase_order:{po}"] * 2
    closed = manager.post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 1, "lot": "C-10", "expires_on": in_days(500)}]})
    assert closed.status_code == 409


def test_a_supply_received_on_an_order_without_lot_is_refused(app, api):
    make_item("CART-36", kind="supply")
    po = order(api, supplier(api))
    response = api("manager").post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 5}]})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "lot_required"
    assert api("manager").get(f"/api/v1/purchase-orders/{po}").get_json()["status"] == "draft"


def test_sending_emails_the_supplier_once(app, api):
    make_item("CART-36", kind="supply", name="MDPen cartridge 36")
    po = order(api, supplier(api))
    sent = api("manager").post(f"/api/v1/purchase-orders/{po}/send")
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent"
    again = api("manager").post(f"/api/v1/purchase-orders/{po}/send")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_sent"
    db.session.rollback()
    mails = db.session.scalars(select(OutboxMessage)
                               .where(OutboxMessage.topic == "purchase_order")).all()
    assert len(mails) == 1
    assert mails[0].recipients == "dermapen@supplier.example"
    assert f"Purchase order {po}" in mails[0].subject
    assert "CART-36  MDPen cartridge 36: 100" in mails[0].body


def test_cancel_takes_it_off_order_and_a_draft_can_be_edited(app, api):
    make_item("CART-36", kind="supply")
    make_item("MASK", kind="supply")
    po = order(api, supplier(api))
    edited = api("manager").patch(f"/api/v1/purchase-orders/{po}", {"lines": [
        {"sku": "MASK", "quantity": 7, "unit_cost_cents": 90}]})
    assert edited.status_code == 200
    assert edited.get_json()["lines"] == [{"sku": "MASK", "quantity": 7, "received": 0,
                                           "unit_cost_cents": 90}]
    assert item(api, "MASK")["on_order"] == 7 and item(api, "CART-36")["on_order"] == 0
    cancelled = api("manager").post(f"/api/v1/purchase-orders/{po}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    assert item(api, "MASK")["on_order"] == 0
    assert api("manager").post(f"/api/v1/purchase-orders/{po}/cancel").status_code == 409
    listed = api("manager").get("/api/v1/purchase-orders?status=cancelled").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == po
    assert api("front_desk").get("/api/v1/purchase-orders").status_code == 403


def test_the_low_stock_mail_says_what_is_already_on_order(app, api):
    make_item("CART-36", kind="supply", reorder_point=20, lots=[("C-1", 25, 300)])
    order(api, supplier(api), quantity=100)
    api("manager").post("/api/v1/stock/adjustments", {
        "sku": "CART-36", "lot": "C-1", "qty_delta": -10, "reason": "damaged"})
    db.session.rollback()
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "alert")).one()
    assert "Already on order: 100 bottle on open purchase orders" in mail.body


# -- 3. counts -------------------------------------------------------------------------------

def test_a_count_of_7_where_10_were_on_hand_writes_one_minus_3_count_movement(app, api):
    make_item("CART-36", kind="supply", lots=[("C-1", 10, 300)])
    response = api("manager").post("/api/v1/stock/counts", {"lines": [
        {"sku": "CART-36", "lot": "C-1", "counted": 7}]})
    assert response.status_code == 201, response.get_json()
    line = response.get_json()["lines"][0]
    assert (line["on_hand_before"], line["counted"], line["difference"]) == (10, 7, -3)
    db.session.rollback()
    counts = db.session.scalars(select(StockMovement)
                                .where(StockMovement.reason == "count")).all()
    assert [m.qty_delta for m in counts] == [-3]
    assert item(api, "CART-36")["on_hand"] == 7


def test_a_count_far_off_needs_a_note(app, api):
    make_item("CART-36", kind="supply", lots=[("C-1", 20, 300), ("C-2", 100, 400)])
    manager = api("manager")
    # 6 off from 20 is 30 %: more than 5 units and 20 %.
    refused = manager.post("/api/v1/stock/counts", {"lines": [
        {"sku": "CART-36", "lot": "C-1", "counted": 14}]})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "note_required"
    # 6 off from 100 is 6 %: no note needed; 5 off from 20 is only 5 units.
    fine = manager.post("/api/v1/stock/counts", {"lines": [
        {"sku": "CART-36", "lot": "C-2", "counted": 94},
        {"sku": "CART-36", "lot": "C-1", "counted": 15}]})
    assert fine.status_code == 201
    noted = manager.post("/api/v1/stock/counts", {"lines": [
        {"sku": "CART-36", "lot": "C-1", "counted": 40}], "note": "found a box"})
    assert noted.status_code == 201
    assert item(api, "CART-36")["on_hand"] == 134
    assert api("front_desk").post("/api/v1/stock/counts", {"lines": []}).status_code == 403


# -- 4. lots ---------------------------------------------------------------------------------

def test_a_supply_received_without_lot_and_expiry_is_refused(app, api):
    make_item("CART-36", kind="supply")
    make_item("SERUM", kind="retail")
    manager = api("manager")
    no_lot = manager.post("/api/v1/stock/receipts", {"sku": "CART-36", "quantity": 5})
    assert no_lot.status_code == 422 and no_lot.get_json()["error"]["code"] == "lot_required"
    no_expiry = manager.post("/api/v1/stock/receipts",
                             {"sku": "CART-36", "quantity": 5, "lot": "C-1"})
    assert no_expiry.get_json()["error"]["code"] == "lot_required"
    ok = manager.post("/api/v1/stock/receipts", {"sku": "CART-36", "quantity": 5,
                                                 "lot": "C-1", "expires_on": in_days(300)})
    assert ok.status_code == 201
    retail = manager.post("/api/v1/stock/receipts", {"sku": "SERUM", "quantity": 5})
    assert retail.status_code == 201


def test_a_manager_corrects_a_lots_expiry_audited_and_alerts_are_re_evaluated(app, api):
    make_item("SERUM", kind="retail")
    receive("SERUM", 8, "G-100", None)
    manager = api("manager")
    corrected = manager.patch("/api/v1/lots/G-100", {
        "sku": "SERUM", "expires_on": in_days(10), "reason": "label read again"})
    assert corrected.status_code == 200, corrected.get_json()
    assert corrected.get_json()["expires_on"] == in_days(10)
    assert item(api, "SERUM")["lots"][0]["expires_on"] == in_days(10)
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry)
                               .where(AuditEntry.action == "lot.correct_expiry")).one()
    assert entry.details["reason"] == "label read again" and entry.details["old"] is None
    # Expiring within the warning window now: an expiring_lot alert is raised at once.
    alerts = db.session.scalars(select(Alert).where(Alert.kind == "expiring_lot")).all()
    assert len(alerts) == 1 and alerts[0].acknowledged_at is None
    # Corrected again, far out: the alert about the wrong date is closed.
    manager.patch("/api/v1/lots/G-100", {"sku": "SERUM", "expires_on": in_days(700),
                                         "reason": "typo"})
    db.session.rollback()
    assert db.session.scalars(select(Alert)).one().acknowledged_at is not None
    missing = manager.patch("/api/v1/lots/NOPE", {"sku": "SERUM", "expires_on": in_days(9),
                                                  "reason": "x"})
    assert missing.status_code == 404
    assert api("front_desk").patch("/api/v1/lots/G-100", {}).status_code == 403


def test_receiving_an_order_back_above_the_point_closes_the_items_stock_alert(app, api):
    make_item("CART-36", kind="supply", reorder_point=20, lots=[("C-1", 25, 300)])
    api("manager").post("/api/v1/stock/adjustments", {
        "sku": "CART-36", "lot": "C-1", "qty_delta": -10, "reason": "damaged"})
    open_alerts = api("manager").get("/api/v1/alerts?open=1").get_json()
    assert [a["kind"] for a in open_alerts["items"]] == ["low_stock"]
    po = order(api, supplier(api), quantity=10)
    api("manager").post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 5, "lot": "C-2", "expires_on": in_days(300)}]})
    assert api("manager").get("/api/v1/alerts?open=1").get_json()["total"] == 1  # 20: still low
    api("manager").post(f"/api/v1/purchase-orders/{po}/receipts", {"lines": [
        {"sku": "CART-36", "quantity": 5, "lot": "C-2", "expires_on": in_days(300)}]})
    assert api("manager").get("/api/v1/alerts?open=1").get_json()["total"] == 0
