"""The cash drawer API: open, current, close with over/short and note, reopen, paid in/out;
cash sales and refunds land in the open drawer, and closing never stops the desk."""
from __future__ import annotations

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from pos import update_settings
from pos.extensions import db
from pos.models import Drawer, DrawerEntry, Sale
from tests.factories import make_item

SERUM = 7020  # 65.00 + 8 % tax


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 20, 300)])


def sell_cash(api, quantity: int = 1) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "SERUM", "quantity": quantity}]})
    assert response.status_code == 201, response.json
    return response.json


def current(api) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = api("front_desk").get("/api/v1/drawers/current")
    assert response.status_code == 200, response.json
    return response.json


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json["error"]["code"]


def test_a_drawer_opens_with_its_float_and_a_second_one_is_refused(api, shop):
    desk = api("front_desk")
    response = desk.post("/api/v1/drawers", json={"opening_float_cents": 15000})
    assert response.status_code == 201
    opened = response.json
    assert (opened["status"], opened["opening_float_cents"], opened["expected_cents"]) == \
        ("open", 15000, 15000)
    assert opened["opened_at"]
    again = desk.post("/api/v1/drawers", json={"opening_float_cents": 0})
    assert (again.status_code, error_code(again)) == (409, "drawer_already_open")
    assert again.json["error"]["details"]["drawer_id"] == opened["id"]
    assert db.session.scalar(select(func.count(Drawer.id))) == 1


def test_no_open_drawer_is_a_404(api, shop):
    response = api("front_desk").get("/api/v1/drawers/current")
    assert (response.status_code, error_code(response)) == (404, "no_open_drawer")


def test_a_cash_sale_and_a_cash_refund_are_in_expected_cents(api, shop):
    api("front_desk").post("/api/v1/drawers", json={"opening_float_cents": 10000})
    sale = sell_cash(api, 2)
    sell_cash(api, 1)
    api("front_desk").post("/api/v1/sales", json={  # unpaid card: not cash in the drawer
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}]})
    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "changed mind"})
    assert refund.status_code == 201
    drawer = current(api)
    assert (drawer["cash_sales_cents"], drawer["cash_refunds_cents"]) == (3 * SERUM, SERUM)
    assert drawer["expected_cents"] == 10000 + 3 * SERUM - SERUM


def test_paid_in_and_paid_out_are_in_expected_cents(api, shop):
    desk = api("front_desk")
    drawer_id = desk.post("/api/v1/drawers", json={"opening_float_cents": 5000}).json["id"]
    paid_in = desk.post(f"/api/v1/drawers/{drawer_id}/movements", json={
        "kind": "paid_in", "amount_cents": 2000, "note": "change from the bank"})
    assert paid_in.status_code == 201
    assert paid_in.json["paid_in_cents"] == 2000
    desk.post(f"/api/v1/drawers/{drawer_id}/movements", json={
        "kind": "paid_out", "amount_cents": 750, "note": "courier tip"})
    drawer = current(api)
    assert (drawer["paid_in_cents"], drawer["paid_out_cents"]) == (2000, 750)
    assert drawer["expected_cents"] == 5000 + 2000 - 750
    for body in ({"kind": "paid_out", "amount_cents": 0, "note": "x"},
                 {"kind": "bribe", "amount_cents": 100, "note": "x"},
                 {"kind": "paid_in", "amount_cents": 100}):
        refused = desk.post(f"/api/v1/drawers/{drawer_id}/movements", json=body)
        assert (refused.status_code, error_code(refused)) == (422, "validation_error"), body
    assert current(api)["expected_cents"] == 6250


def test_closing_within_the_tolerance_needs_no_note_and_keeps_over_short(api, shop):
    desk = api("front_desk")
    drawer_id = desk.post("/api/v1/drawers", json={"opening_float_cents": 10000}).json["id"]
    sell_cash(api)
    response = desk.post(f"/api/v1/drawers/{drawer_id}/close",
                         json={"counted_cents": 10000 + SERUM - 500})
    assert response.status_code == 200, response.json
    closed = response.json
    assert (closed["status"], closed["expected_cents"], closed["counted_cents"],
            closed["over_short_cents"]) == ("closed", 10000 + SERUM, 10000 + SERUM - 500, -500)
    again = desk.post(f"/api/v1/drawers/{drawer_id}/close", json={"counted_cents": 1})
    assert (again.status_code, error_code(again)) == (409, "drawer_closed")
    assert desk.get(f"/api/v1/drawers/{drawer_id}").json["over_short_cents"] == -500


def test_over_or_short_past_the_tolerance_needs_a_note(api, app, shop):
    desk = api("front_desk")
    drawer_id = desk.post("/api/v1/drawers", json={"opening_float_cents": 10000}).json["id"]
    short = desk.post(f"/api/v1/drawers/{drawer_id}/close", json={"counted_cents": 9499})
    assert (short.status_code, error_code(short)) == (422, "note_required")
    assert short.json["error"]["details"]["over_short_cents"] == -501
    over = desk.post(f"/api/v1/drawers/{drawer_id}/close",
                     json={"counted_cents": 10501, "note": "   "})
    assert (over.status_code, error_code(over)) == (422, "note_required")
    assert current(api)["status"] == "open"

    update_settings(app, DRAWER_TOLERANCE_CENTS=1000)
    within = desk.post(f"/api/v1/drawers/{drawer_id}/close", json={"counted_cents": 10999})
    assert within.status_code == 200 and within.json["over_short_cents"] == 999


def test_a_noted_count_closes_and_keeps_the_note(api, shop):
    desk = api("front_desk")
    drawer_id = desk.post("/api/v1/drawers", json={"opening_float_cents": 0}).json["id"]
    response = desk.post(f"/api/v1/drawers/{drawer_id}/close",
                         json={"counted_cents": 2000, "note": "found a 20 from yesterday"})
    assert response.status_code == 200
    assert (response.json["over_short_cents"], response.json["note"]) == \
        (2000, "found a 20 from yesterday")


def test_only_a_manager_reopens_a_closed_drawer(api, shop):
    desk = api("front_desk")
    drawer_id = desk.post("/api/v1/drawers", json={"opening_float_cents": 0}).json["id"]
    desk.post(f"/api/v1/drawers/{drawer_id}/close", json={"counted_cents": 0})
    refused = desk.post(f"/api/v1/drawers/{drawer_id}/reopen")
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")
    reopened = api("manager").post(f"/api/v1/drawers/{drawer_id}/reopen")
    assert reopened.status_code == 200
    assert (reopened.json["status"], reopened.json["counted_cents"]) == ("open", None)
    assert current(api)["id"] == drawer_id
    again = api("manager").post(f"/api/v1/drawers/{drawer_id}/reopen")
    assert (again.status_code, error_code(again)) == (409, "drawer_not_closed")


def test_a_drawer_is_not_reopened_while_another_one_is_open(api, shop):
    desk = api("front_desk")
    first = desk.post("/api/v1/drawers", json={"opening_float_cents": 0}).json["id"]
    desk.post(f"/api/v1/drawers/{first}/close", json={"counted_cents": 0})
    sell_cash(api)  # opens the next drawer
    refused = api("manager").post(f"/api/v1/drawers/{first}/reopen")
    assert (refused.status_code, error_code(refused)) == (409, "drawer_already_open")


def test_a_cash_sale_with_no_open_drawer_opens_one_with_a_zero_float(api, shop):
    sale = sell_cash(api)
    drawer = current(api)
    assert (drawer["opening_float_cents"], drawer["cash_sales_cents"]) == (0, SERUM)
    entry = db.session.scalar(select(DrawerEntry))
    assert (entry.sale_id, entry.kind, entry.amount_cents) == (sale["id"], "cash_sale", SERUM)


def test_the_drawer_closed_at_noon_then_a_cash_sale_at_12_05_lands_in_a_new_drawer(api, shop):
    desk = api("front_desk")
    with freeze_time("2026-12-01 14:00:00"):  # 09:00 in New York
        morning = desk.post("/api/v1/drawers", json={"opening_float_cents": 10000}).json
        sell_cash(api)
    with freeze_time("2026-12-01 17:00:00"):  # noon
        closed = desk.post(f"/api/v1/drawers/{morning['id']}/close",
                           json={"counted_cents": 10000 + SERUM})
        assert closed.status_code == 200 and closed.json["over_short_cents"] == 0
    with freeze_time("2026-12-01 17:05:00"):  # 12:05
        sale = sell_cash(api, 2)
        assert sale["status"] == "paid"
    afternoon = current(api)
    assert afternoon["id"] != morning["id"]
    assert (afternoon["opening_float_cents"], afternoon["cash_sales_cents"]) == (0, 2 * SERUM)
    assert afternoon["opened_at"].startswith("2026-12-01T17:05")
    kept = desk.get(f"/api/v1/drawers/{morning['id']}").json
    assert (kept["status"], kept["cash_sales_cents"]) == ("closed", SERUM)
    listed = desk.get("/api/v1/drawers?per_page=1").json
    assert (listed["total"], listed["page"], listed["per_page"]) == (2, 1, 1)
    assert [d["id"] for d in listed["items"]] == [afternoon["id"]]


def test_a_cash_refund_with_no_open_drawer_opens_one(api, shop):
    sale = sell_cash(api)
    drawer_id = current(api)["id"]
    api("front_desk").post(f"/api/v1/drawers/{drawer_id}/close", json={"counted_cents": SERUM})
    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": False,
        "reason": "damaged"})
    assert refund.status_code == 201
    drawer = current(api)
    assert drawer["id"] != drawer_id
    assert (drawer["cash_refunds_cents"], drawer["expected_cents"]) == (SERUM, -SERUM)


def test_bad_drawer_input_is_a_422_never_a_500(api, shop):
    desk = api("front_desk")
    for body in ({"opening_float_cents": -1}, {"opening_float_cents": "10"},
                 {"opening_float_cents": 10_000_000_001}, {}, {"opening_float_cents": 1, "x": 1}):
        response = desk.post("/api/v1/drawers", json=body)
        assert (response.status_code, error_code(response)) == (422, "validation_error"), body
    assert desk.get("/api/v1/drawers?per_page=201").status_code == 422
    assert desk.get("/api/v1/drawers/99999999999").status_code == 404
    missing = desk.post("/api/v1/drawers/2147483647/close", json={"counted_cents": 0})
    assert missing.status_code == 404
    assert db.session.scalar(select(func.count(Sale.id))) == 0
