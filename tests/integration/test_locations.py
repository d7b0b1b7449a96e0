"""Locations and transfers (issue 16, part 5): the list, a transfer's two ledger rows,
`?location=` on the stock endpoints, and the refusals."""
from __future__ import annotations

from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, LotStock, StockMovement
from tests.factories import make_item


def _ledger(item_id: int, location_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(StockMovement.qty_delta), 0)).where(
        StockMovement.item_id == item_id)
    if location_id is not None:
        query = query.where(StockMovement.location_id == location_id)
    return db.session.scalar(query)


def _cached(item_id: int, location_id: int) -> tuple[int, int]:
    item = db.session.scalar(select(ItemStock.on_hand).where(
        ItemStock.item_id == item_id, ItemStock.location_id == location_id)) or 0
    lot = db.session.scalar(select(func.sum(LotStock.on_hand)).where(
        LotStock.item_id == item_id, LotStock.location_id == location_id)) or 0
    return item, lot


def _two_locations(api) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    admin = api("admin")
    first = admin.get("/api/v1/locations").get_json()[0]["id"]
    response = admin.post("/api/v1/locations", {"name": "Harbour Street"})
    assert response.status_code == 201
    assert response.get_json()["name"] == "Harbour Street"
    return first, response.get_json()["id"]


def test_admin_lists_and_adds_locations_and_a_duplicate_name_is_409(app, api):
    admin = api("admin")
    assert [loc["name"] for loc in admin.get("/api/v1/locations").get_json()] == ["Main clinic"]
    first, second = _two_locations(api)
    assert [(loc["id"], loc["name"]) for loc in admin.get("/api/v1/locations").get_json()] \
        == [(first, "Main clinic"), (second, "Harbour Street")]
    again = admin.post("/api/v1/locations", {"name": "  harbour   street "})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "location_exists"
    assert admin.post("/api/v1/locations", {"name": ""}).status_code == 422
    assert api("manager").get("/api/v1/locations").status_code == 403
    assert api("manager").post("/api/v1/locations", {"name": "X"}).status_code == 403


def test_a_transfer_of_5_leaves_both_ledgers_summing_right_and_the_total_unchanged(app, api):
    item = make_item("CART", kind="supply", lots=[("C-1", 12, 300)])
    first, second = _two_locations(api)
    manager = api("manager")
    response = manager.post("/api/v1/stock/transfers", {
        "sku": "CART", "lot": "C-1", "quantity": 5, "from_location": first,
        "to_location": second})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["from_on_hand"] == 7
    assert response.get_json()["to_on_hand"] == 5
    assert _ledger(item.id, first) == 7 and _cached(item.id, first) == (7, 7)
    assert _ledger(item.id, second) == 5 and _cached(item.id, second) == (5, 5)
    assert _ledger(item.id) == 12  # the chain's total
    rows = db.session.execute(select(StockMovement.location_id, StockMovement.qty_delta,
                                     StockMovement.reason, StockMovement.reference)
                              .where(StockMovement.reason.like("transfer%"))
                              .order_by(StockMovement.id)).all()
    assert [tuple(r) for r in rows] == [
        (first, -5, "transfer_out", f"transfer_to:{second}"),
        (second, 5, "transfer_in", f"transfer_from:{first}")]
    # Each location's stock endpoints show their own figures; the default is the first.
    assert manager.get("/api/v1/items/CART").get_json()["on_hand"] == 7
    here = manager.get(f"/api/v1/items/CART?location={second}").get_json()
    assert here["on_hand"] == 5
    assert [(lot["lot"], lot["on_hand"]) for lot in here["lots"]] == [("C-1", 5)]
    listed = manager.get(f"/api/v1/items?location={second}").get_json()
    assert [(i["sku"], i["on_hand"]) for i in listed] == [("CART", 5)]
    moves = manager.get(f"/api/v1/items/CART/movements?location={second}").get_json()
    assert [(m["qty_delta"], m["reason"]) for m in moves["items"]] == [(5, "transfer_in")]


def test_a_transfer_of_more_than_the_lot_holds_is_409_and_writes_nothing(app, api):
    item = make_item("CART", kind="supply", lots=[("C-1", 4, 300), ("C-2", 10, 400)])
    first, second = _two_locations(api)
    response = api("manager").post("/api/v1/stock/transfers", {
        "sku": "CART", "lot": "C-1", "quantity": 5, "from_location": first,
        "to_location": second})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["available"] == 4
    assert _ledger(item.id, first) == 14 and _ledger(item.id, second) == 0
    assert _cached(item.id, first) == (14, 14)


def test_transfer_refusals_same_place_unknown_location_and_roles(app, api):
    make_item("CART", kind="supply", lots=[("C-1", 4, 300)])
    first, second = _two_locations(api)
    manager = api("manager")
    body = {"sku": "CART", "lot": "C-1", "quantity": 1, "from_location": first,
            "to_location": first}
    same = manager.post("/api/v1/stock/transfers", body)
    assert same.status_code == 422
    assert same.get_json()["error"]["details"]["fields"] == {"to_location": "same as from_location"}
    unknown = manager.post("/api/v1/stock/transfers", {**body, "to_location": second + 100})
    assert unknown.status_code == 404
    no_lot = manager.post("/api/v1/stock/transfers", {**body, "to_location": second,
                                                      "lot": "NOPE"})
    assert no_lot.status_code == 409
    assert api("front_desk").post("/api/v1/stock/transfers",
                                  {**body, "to_location": second}).status_code == 403
    assert manager.get(f"/api/v1/items?location={second + 100}").status_code == 404
    assert manager.get("/api/v1/items?location=abc").status_code == 422


def test_receipts_adjustments_and_counts_go_to_the_location_asked(app, api):
    item = make_item("SERUM", lots=[("S-1", 3, None)])
    first, second = _two_locations(api)
    manager = api("manager")
    received = manager.post(f"/api/v1/stock/receipts?location={second}",
                            {"sku": "SERUM", "quantity": 6, "lot": "S-1"})
    assert received.status_code == 201 and received.get_json()["on_hand"] == 6
    adjusted = manager.post(f"/api/v1/stock/adjustments?location={second}",
                            {"sku": "SERUM", "lot": "S-1", "qty_delta": -1, "reason": "damaged"})
    assert adjusted.status_code == 201 and adjusted.get_json()["on_hand"] == 5
    counted = manager.post(f"/api/v1/stock/counts?location={second}",
                           {"lines": [{"sku": "SERUM", "lot": "S-1", "counted": 4}]})
    assert counted.status_code == 201, counted.get_json()
    assert counted.get_json()["lines"][0]["on_hand_before"] == 5
    assert _cached(item.id, second) == (4, 4)
    assert _cached(item.id, first) == (3, 3)


def test_the_monthly_report_gains_by_location_summing_to_the_totals(app, api, client, login_as):
    from pos.services import clock
    make_item("SERUM", price_cents=5000, lots=[("S-1", 10, None)])
    first, second = _two_locations(api)
    manager = api("manager")
    assert manager.post("/api/v1/stock/transfers", {
        "sku": "SERUM", "lot": "S-1", "quantity": 4, "from_location": first,
        "to_location": second}).status_code == 201
    assert manager.post("/api/v1/sales", {"payment": "cash", "lines": [
        {"sku": "SERUM", "quantity": 2}]}).status_code == 201
    sale = manager.post(f"/api/v1/sales?location={second}", {"payment": "cash", "lines": [
        {"sku": "SERUM", "quantity": 3}]}).get_json()
    refunded = manager.post(f"/api/v1/sales/{sale['id']}/refunds", {
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "changed mind"})
    assert refunded.status_code == 201, refunded.get_json()
    month = clock.today().strftime("%Y-%m")
    report = manager.get(f"/api/v1/reports/monthly?month={month}").get_json()
    rows = {r["name"]: r for r in report["by_location"]}
    assert list(rows) == ["Main clinic", "Harbour Street"]
    assert (rows["Main clinic"]["sales_cents"], rows["Main clinic"]["refund_cents"]) \
        == (10000, 0)
    assert (rows["Harbour Street"]["sales_cents"], rows["Harbour Street"]["refund_cents"],
            rows["Harbour Street"]["net_cents"]) == (15000, 5000, 10000)
    for key in ("gross_cents", "refund_cents", "net_cents", "sales_count"):
        assert sum(r[key] for r in report["by_location"]) == report["totals"][key]
    assert report["net_cents"] == 20000  # the existing keys keep their figures
    login_as("manager")
    page = client.get(f"/reports/monthly?month={month}").get_data(as_text=True)
    assert "By location" in page and "Harbour Street" in page
    csv = client.get(f"/reports/monthly.csv?month={month}").get_data(as_text=True)
    assert "By location" in csv and "Harbour Street" in csv


def test_with_several_locations_low_stock_is_per_item_and_location_and_says_where(
        app, api, client, login_as):
    from pos import update_settings
    from pos.models import Alert, OutboxMessage
    update_settings(app, ALERT_EMAIL_TO="orders@clinic.test")
    make_item("SERUM", name="HA Serum 1 oz", reorder_point=3, lots=[("L-1", 10, 200)])
    first, second = _two_locations(api)
    manager = api("manager")
    # 5 go to the second location: 5 stay at the first, above the point; no alert anywhere.
    assert manager.post("/api/v1/stock/transfers", {
        "sku": "SERUM", "lot": "L-1", "quantity": 5, "from_location": first,
        "to_location": second}).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0
    # The second location falls to its point while the chain holds 8: its own alert.
    assert manager.post(f"/api/v1/stock/adjustments?location={second}", {
        "sku": "SERUM", "lot": "L-1", "qty_delta": -2, "reason": "damaged"}).status_code == 201
    db.session.expire_all()
    [alert] = db.session.scalars(select(Alert)).all()
    assert (alert.kind, alert.on_hand, alert.location_id) == ("low_stock", 3, second)
    [mail] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == "alert")).all()
    assert mail.subject == ("Low stock at Harbour Street: HA Serum 1 oz (SERUM) - 3 available, "
                            "reorder point 3")
    listed = manager.get("/api/v1/alerts").get_json()["items"]
    assert [(a["sku"], a["location_id"]) for a in listed] == [("SERUM", second)]
    login_as("manager")
    page = client.get("/alerts/").get_data(as_text=True)
    assert '<span class="alert-location">at Harbour Street</span>' in page


def test_a_purchase_order_is_received_at_the_location_asked(app, api):
    from tests.integration.test_purchasing_api import in_days, order, supplier
    item = make_item("CART-36", kind="supply", reorder_point=20)
    first, second = _two_locations(api)
    po = order(api, supplier(api))
    received = api("manager").post(f"/api/v1/purchase-orders/{po}/receipts?location={second}", {
        "lines": [{"sku": "CART-36", "quantity": 60, "lot": "C-9", "expires_on": in_days(400)}]})
    assert received.status_code == 201, received.get_json()
    assert _cached(item.id, second) == (60, 60)
    assert _cached(item.id, first) == (0, 0)
