"""A manual discount on a sale (API.md "Back office"): it needs a manager (their token, or
`approval: {email, pin}` of a manager at the desk), else 403 `approval_required`; a reason
is required; it is stored, audited, on the receipt, and in the report's discount_cents."""
from __future__ import annotations

import pytest

from pos.extensions import db
from pos.models import AuditEntry, Sale
from pos.services import clock, signin, throttle
from tests.factories import PASSWORD, make_item, settings

PIN = "4826"


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 50, 300)])


@pytest.fixture
def manager_pin(users):  # type: ignore[no-untyped-def]
    manager = users.get("manager")
    signin.set_pin(manager.id, PIN, PASSWORD, "127.0.0.1", settings=settings())
    return manager


def sale_body(manual, approval=None, quantity=1):  # type: ignore[no-untyped-def]
    body = {"payment": "cash", "lines": [{"sku": "SERUM", "quantity": quantity}],
            "manual_discount": manual}
    if approval is not None:
        body["approval"] = approval
    return body


def test_front_desk_without_approval_is_403_approval_required(api, shop):
    response = api("front_desk").post("/api/v1/sales", json=sale_body(
        {"amount_cents": 500, "reason": "loyal client"}))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "approval_required"
    assert db.session.query(Sale).count() == 0


def test_a_manager_token_gives_a_manual_discount(api, shop, users):
    response = api("manager").post("/api/v1/sales", json=sale_body(
        {"percent": 10, "reason": "damaged box"}, quantity=2))
    assert response.status_code == 201, response.json
    body = response.json
    # 130.00, 10 % off = 13.00; 117.00 taxed 8 % = 9.36, total 126.36
    assert (body["subtotal_cents"], body["discount_cents"], body["tax_cents"],
            body["total_cents"]) == (13000, 1300, 936, 12636)
    assert body["manual_discount"] == {"amount_cents": 1300, "reason": "damaged box",
                                       "approved_by": users.get("manager").id}
    audit = db.session.query(AuditEntry).filter_by(action="sale.manual_discount").one()
    assert audit.details["amount_cents"] == 1300


def test_approval_with_a_manager_pin_works_and_shows_on_the_receipt(api, shop, manager_pin,
                                                                    login_as, client):
    response = api("front_desk").post("/api/v1/sales", json=sale_body(
        {"amount_cents": 500, "reason": "price match"},
        {"email": "Manager@test.example", "pin": PIN}))
    assert response.status_code == 201, response.json
    assert response.json["discount_cents"] == 500
    assert response.json["manual_discount"]["approved_by"] == manager_pin.id
    sale = db.session.get(Sale, response.json["id"])
    assert (sale.manual_discount_cents, sale.manual_discount_reason) == (500, "price match")
    login_as("front_desk")
    page = client.get(f"/sales/{sale.id}/receipt")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Manual discount" in text and "price match" in text and "-$5.00" in text


def test_a_wrong_pin_is_403_and_counts_in_the_throttle(api, shop, manager_pin):
    desk = api("front_desk")
    response = desk.post("/api/v1/sales", json=sale_body(
        {"amount_cents": 500, "reason": "price match"},
        {"email": "manager@test.example", "pin": "0000"}))
    assert (response.status_code, response.json["error"]["code"]) == (403, "approval_required")
    assert throttle.failures_counted(db.session, "manager@test.example") == 1
    assert db.session.query(Sale).count() == 0


def test_a_non_manager_pin_does_not_approve(api, shop, users):
    desk_user = users.get("front_desk")
    signin.set_pin(desk_user.id, PIN, PASSWORD, "127.0.0.1", settings=settings())
    response = api("front_desk").post("/api/v1/sales", json=sale_body(
        {"amount_cents": 500, "reason": "x"}, {"email": desk_user.email, "pin": PIN}))
    assert (response.status_code, response.json["error"]["code"]) == (403, "approval_required")


def test_wrong_pins_are_throttled_like_the_pin_login(api, shop, manager_pin, app):
    desk = api("front_desk")
    limit = app.config.get("LOGIN_MAX_FAILURES", 5)
    codes = [desk.post("/api/v1/sales", json=sale_body(
        {"amount_cents": 500, "reason": "x"},
        {"email": "manager@test.example", "pin": "0000"})).status_code
        for _ in range(limit + 1)]
    assert codes[-1] == 429


@pytest.mark.parametrize("manual", [
    {"amount_cents": 500},                               # no reason
    {"amount_cents": 500, "reason": "  "},               # empty reason
    {"amount_cents": 500, "percent": 5, "reason": "x"},  # both
    {"percent": 101, "reason": "x"},
    {"percent": 12.5, "reason": "x"},
])
def test_a_bad_manual_discount_is_422(api, shop, manual):
    response = api("manager").post("/api/v1/sales", json=sale_body(manual))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"


def test_a_code_and_a_manual_discount_add_up_in_the_report(api, shop):
    manager = api("manager")
    manager.post("/api/v1/discount-codes", json={"code": "TEN", "kind": "percent",
                                                  "value": 10})
    response = manager.post("/api/v1/sales", json={
        **sale_body({"amount_cents": 333, "reason": "goodwill"}, quantity=3),
        "discount_code": "TEN"})
    assert response.status_code == 201, response.json
    # 195.00 - 19.50 (code) - 3.33 (manual) = 172.17; tax 8 % = 13.77 (13.7736)
    assert (response.json["discount_cents"], response.json["tax_cents"],
            response.json["total_cents"]) == (2283, 1377, 18594)
    assert sum(line["discount_cents"] for line in response.json["lines"]) == 2283
    plain = manager.post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert plain.status_code == 201
    month = clock.today().strftime("%Y-%m")
    report = manager.get(f"/api/v1/reports/monthly?month={month}").json
    assert report["totals"]["discount_cents"] == 2283
    assert report["totals"]["gross_cents"] == 19500 + 6500
    assert report["totals"]["tax_cents"] == 1377 + 520


def test_the_desk_quote_prices_a_manual_discount_typed_as_text(shop, client, login_as):
    import re

    login_as("front_desk")
    page = client.get("/checkout").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert 'id="md-email"' in page  # the front desk is asked for a manager's approval

    def quote(manual):  # type: ignore[no-untyped-def]
        return client.post("/desk/quote", headers={"X-CSRFToken": csrf}, json={
            "lines": [{"sku": "SERUM", "quantity": "2"}], "manual_discount": manual})

    by_percent = quote({"percent": "10", "reason": "loyal"})
    assert by_percent.status_code == 200, by_percent.get_json()
    assert (by_percent.get_json()["manual_discount_cents"],
            by_percent.get_json()["total_cents"]) == (1300, 12636)
    by_amount = quote({"amount": "5.00", "reason": "loyal"})
    assert by_amount.get_json()["manual_discount"] == "$5.00"
    bad = quote({"amount": "five", "reason": "loyal"})
    assert bad.status_code == 422
    assert "manual_discount.amount_cents" in bad.get_json()["error"]["details"]["fields"]
    sold = client.post("/desk/sales", headers={"X-CSRFToken": csrf}, json={
        "lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash",
        "manual_discount": {"amount": "5", "reason": "loyal"}})
    assert (sold.status_code, sold.get_json()["error"]["code"]) == (403, "approval_required")


def test_take_cash_instead_keeps_the_approved_manual_discount(api, shop, client, login_as):
    import re

    card = api("manager").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}],
        "manual_discount": {"amount_cents": 700, "reason": "display unit"}})
    assert card.status_code == 201, card.json
    login_as("front_desk")
    page = client.get(f"/sales/{card.json['id']}").get_data(as_text=True)
    token = re.search(r'name="cash-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = client.post(f"/sales/{card.json['id']}/take-cash", data={
        "cash-csrf_token": token, "cash-cash_tendered": "100"})
    assert done.status_code == 302
    cash = db.session.get(Sale, int(done.headers["Location"].rsplit("/", 1)[1]))
    assert (cash.manual_discount_cents, cash.manual_discount_reason,
            cash.total_cents) == (700, "display unit", card.json["total_cents"])
