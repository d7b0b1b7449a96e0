"""Alerts and the reorder list follow on_hand, not available (second-wave amendment):
a card checkout's hold raises nothing until the sale is paid and the units leave."""
from __future__ import annotations

import re

from sqlalchemy import select

from pos.extensions import db
from pos.models import Alert
from pos.notify.outbox import deliver_pending
from pos.services import alerts
from tests.factories import make_item, settings
from tests.fixtures_payments import stock_of


def alert_rows() -> list[tuple[str, int, int, int]]:
    db.session.expire_all()
    return [(a.kind, a.on_hand, a.available, a.reorder_point)
            for a in db.session.scalars(select(Alert).order_by(Alert.id))]


def reorder_skus() -> list[str]:
    db.session.rollback()
    return [row.sku for row in alerts.reorder_list(db.session, settings().reorder_cover_days)]


def approve_demo_payment(client, session_id: str) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/demo-pay/{session_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    response = client.post(f"/demo-pay/{session_id}",
                           data={"decision": "approve", "csrf_token": token.group(1)})
    assert response.status_code == 302


def test_a_hold_of_5_of_6_raises_no_alert_until_the_sale_is_paid_then_does(
        mail_app, smtp_server, api, client, login_as):
    make_item("SERUM", name="HA Serum 1 oz", reorder_point=3, lots=[("L-1", 6, 200)])
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 5}]}).json
    assert sale["status"] == "awaiting_payment"
    assert stock_of("SERUM") == (6, 5)

    assert alert_rows() == []
    deliver_pending()
    assert smtp_server.subjects() == []  # no alert mail for a hold
    assert reorder_skus() == []  # the reorder list ignores holds
    # Selling still goes by what is free: the item reports low.
    [item] = [i for i in api("front_desk").get("/api/v1/items").json if i["sku"] == "SERUM"]
    assert (item["on_hand"], item["held"], item["available"], item["status"]) == \
        (6, 5, 1, "low")

    login_as("front_desk")
    approve_demo_payment(client, sale["checkout_session_id"])
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (1, 0)
    assert alert_rows() == [("low_stock", 1, 1, 3)]
    deliver_pending()
    assert smtp_server.subjects() == [
        "Low stock: HA Serum 1 oz (SERUM) - 1 available, reorder point 3"]
    assert reorder_skus() == ["SERUM"]


def test_a_hold_that_expires_raises_nothing_at_all(mail_app, smtp_server, api):
    make_item("SERUM", reorder_point=3, lots=[("L-1", 6, 200)])
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 6}]}).json
    voided = api("manager").post(f"/api/v1/sales/{sale['id']}/void")
    assert voided.status_code == 200 and stock_of("SERUM") == (6, 0)
    assert alert_rows() == []
    deliver_pending()
    assert smtp_server.subjects() == []
