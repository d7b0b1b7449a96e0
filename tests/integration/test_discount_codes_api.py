"""Discount codes (API.md "Back office"): create (whole percent or cents), duplicates,
the paginated list, deactivation; codes out of dates or used up are refused at checkout
with the existing `discount_invalid` and its reason."""
from __future__ import annotations

from datetime import timedelta

import pytest

from pos.extensions import db
from pos.models import AuditEntry, DiscountCode
from pos.services import clock
from tests.factories import make_item


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 20, 300)])


def sell(api, code: str):  # type: ignore[no-untyped-def]
    return api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "discount_code": code, "lines": [{"sku": "SERUM", "quantity": 1}]})


def test_a_percent_code_is_created_and_prices_a_sale(api, shop):
    response = api("manager").post("/api/v1/discount-codes", json={
        "code": "spring10", "kind": "percent", "value": 10})
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["code"], body["kind"], body["value"], body["active"], body["times_used"]) == \
        ("SPRING10", "percent", 10, True, 0)
    # Kept in basis points, as pos.domain.pricing reads it.
    assert db.session.get(DiscountCode, body["id"]).value == 1000
    sale = sell(api, "spring10")
    assert sale.status_code == 201, sale.json
    # 65.00 - 6.50 = 58.50, tax 8 % = 4.68
    assert (sale.json["discount_cents"], sale.json["tax_cents"], sale.json["total_cents"]) == \
        (650, 468, 6318)
    assert db.session.query(AuditEntry).filter_by(action="discount_code.create").count() == 1


def test_a_fixed_code_is_in_cents(api, shop):
    response = api("manager").post("/api/v1/discount-codes", json={
        "code": "TENOFF", "kind": "fixed", "value": 1000, "max_uses": 3})
    assert (response.status_code, response.json["value"], response.json["max_uses"]) == \
        (201, 1000, 3)
    assert sell(api, "TENOFF").json["discount_cents"] == 1000


def test_a_duplicate_code_is_409_whatever_its_case(api):
    manager = api("manager")
    assert manager.post("/api/v1/discount-codes", json={
        "code": "VIP", "kind": "fixed", "value": 500}).status_code == 201
    again = manager.post("/api/v1/discount-codes", json={
        "code": "vip", "kind": "percent", "value": 5})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "duplicate_discount_code"


@pytest.mark.parametrize("body, field", [
    ({"code": "P0", "kind": "percent", "value": 101}, "value"),
    ({"code": "P1", "kind": "percent", "value": 0}, "value"),
    ({"code": "P2", "kind": "half", "value": 5}, "kind"),
    ({"code": "P3", "kind": "fixed", "value": 5, "starts_on": "2026-05-02",
      "ends_on": "2026-05-01"}, "ends_on"),
    ({"code": "has space", "kind": "fixed", "value": 5}, "code"),
])
def test_bad_codes_are_422_naming_the_field(api, body, field):
    response = api("manager").post("/api/v1/discount-codes", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in str(response.json["error"]["details"]["fields"])


def test_front_desk_may_not_create_or_list_codes(api):
    desk = api("front_desk")
    assert desk.post("/api/v1/discount-codes", json={}).status_code == 403
    assert desk.get("/api/v1/discount-codes").status_code == 403


def test_the_list_is_paginated_newest_first(api):
    manager = api("manager")
    for n in range(3):
        manager.post("/api/v1/discount-codes", json={"code": f"C{n}", "kind": "fixed",
                                                       "value": 100 + n})
    page = manager.get("/api/v1/discount-codes?per_page=2&page=1").json
    assert (page["total"], page["page"], page["per_page"]) == (3, 1, 2)
    assert [c["code"] for c in page["items"]] == ["C2", "C1"]
    assert [c["code"] for c in manager.get(
        "/api/v1/discount-codes?per_page=2&page=2").json["items"]] == ["C0"]


def test_a_deactivated_code_is_refused_at_checkout(api, shop):
    manager = api("manager")
    code_id = manager.post("/api/v1/discount-codes", json={
        "code": "OLD", "kind": "percent", "value": 20}).json["id"]
    off = manager.patch(f"/api/v1/discount-codes/{code_id}", json={"active": False})
    assert (off.status_code, off.json["active"]) == (200, False)
    refused = sell(api, "OLD")
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "discount_invalid"
    assert refused.json["error"]["details"]["reason"] == "inactive"
    assert manager.patch("/api/v1/discount-codes/999999",
                         json={"active": False}).status_code == 404
    assert manager.patch(f"/api/v1/discount-codes/{code_id}",
                         json={"active": "no"}).status_code == 422


def test_codes_outside_their_dates_or_used_up_are_refused(api, shop):
    manager = api("manager")
    today = clock.today()
    manager.post("/api/v1/discount-codes", json={
        "code": "LATER", "kind": "fixed", "value": 100,
        "starts_on": (today + timedelta(days=1)).isoformat()})
    manager.post("/api/v1/discount-codes", json={
        "code": "GONE", "kind": "fixed", "value": 100,
        "ends_on": (today - timedelta(days=1)).isoformat()})
    manager.post("/api/v1/discount-codes", json={
        "code": "ONCE", "kind": "fixed", "value": 100, "max_uses": 1})
    for code, reason in (("LATER", "not_started"), ("GONE", "expired")):
        response = sell(api, code)
        assert (response.status_code, response.json["error"]["code"],
                response.json["error"]["details"]["reason"]) == \
            (422, "discount_invalid", reason)
    assert sell(api, "ONCE").status_code == 201
    used_up = sell(api, "ONCE")
    assert used_up.json["error"]["details"]["reason"] == "usage_limit_reached"
    listed = {c["code"]: c for c in manager.get("/api/v1/discount-codes").json["items"]}
    assert listed["ONCE"]["times_used"] == 1


# -- the Discount codes page (manager) ---------------------------------------------------

def _csrf(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_page_lists_creates_and_deactivates_codes(client, login_as):
    login_as("manager")
    page = client.get("/backoffice/discount-codes")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ">Discounts</a>" in html and "No discount codes yet." in html
    token = _csrf(html)
    made = client.post("/backoffice/discount-codes", data={
        "csrf_token": token, "code": "summer15", "kind": "percent", "value": "15",
        "starts_on": "", "ends_on": "", "max_uses": "5"}, follow_redirects=True)
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and "Discount code SUMMER15 created." in html
    assert "15 %" in html and "0 of 5" in html
    made = client.post("/backoffice/discount-codes", data={
        "csrf_token": token, "code": "FIVE", "kind": "fixed", "value": "5.00"},
        follow_redirects=True)
    assert "$5.00" in made.get_data(as_text=True)
    assert db.session.query(DiscountCode).filter_by(code="FIVE").one().value == 500
    bad = client.post("/backoffice/discount-codes", data={
        "csrf_token": token, "code": "BIG", "kind": "percent", "value": "150"})
    assert bad.status_code == 422
    assert "A percent is a whole number from 1 to 100." in bad.get_data(as_text=True)
    dup = client.post("/backoffice/discount-codes", data={
        "csrf_token": token, "code": "five", "kind": "fixed", "value": "1"})
    assert dup.status_code == 409 and "already exists" in dup.get_data(as_text=True)
    code = db.session.query(DiscountCode).filter_by(code="SUMMER15").one()
    off = client.post(f"/backoffice/discount-codes/{code.id}/active", data={
        "active-csrf_token": token, "active-active": "0"}, follow_redirects=True)
    assert "Discount code SUMMER15 deactivated." in off.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DiscountCode, code.id).active is False


def test_the_front_desk_does_not_see_the_discount_codes_page(client, login_as):
    login_as("front_desk")
    assert client.get("/backoffice/discount-codes").status_code == 403
    assert ">Discounts</a>" not in client.get("/stock/").get_data(as_text=True)
