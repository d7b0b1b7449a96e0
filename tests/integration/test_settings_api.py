"""GET/PATCH /api/v1/settings: the clinic's own settings, kept in the database, changed by
an admin, and read from that one place by the sale's tax and the receipt."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pos.extensions import db
from pos.models import AuditEntry, OutboxMessage
from tests.factories import make_item
from tests.fixtures_payments import make_client

FIRST_VALUES = {"clinic_name": "Glow Microneedling Clinic", "address": "", "phone": "",
                "tax_id": "", "receipt_footer": "", "tax_rate_bp": 800,
                "timezone": "America/New_York", "currency": "usd"}


def test_an_admin_reads_the_first_values_from_the_environment(api):
    response = api("admin").get("/api/v1/settings")
    assert response.status_code == 200
    assert response.json == FIRST_VALUES


@pytest.mark.parametrize("role", ["front_desk", "provider", "manager"])
def test_only_an_admin_reads_or_changes_them(api, role):
    assert api(role).get("/api/v1/settings").status_code == 403
    response = api(role).patch("/api/v1/settings", json={"tax_rate_bp": 0})
    assert response.status_code == 403
    assert api("admin").get("/api/v1/settings").json["tax_rate_bp"] == 800


def test_a_new_tax_rate_and_name_reach_the_next_sale_and_its_receipt(api, users):
    make_item("SERUM", price_cents=6500, taxable=True, lots=[("S-1", 5, 100)])
    response = api("admin").patch("/api/v1/settings", json={
        "clinic_name": "Harbor Skin Studio", "tax_rate_bp": 725,
        "address": "12 Harbor Road\nPortland, ME 04101", "tax_id": "EIN 12-3456789"})
    assert response.status_code == 200, response.json
    assert response.json == {**FIRST_VALUES, "clinic_name": "Harbor Skin Studio",
                             "tax_rate_bp": 725, "address": "12 Harbor Road\nPortland, ME 04101",
                             "tax_id": "EIN 12-3456789"}

    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": make_client(), "payment": "cash",
        "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    # 7.25 % of 65.00 is 4.7125: 4.71, rounded half up once per sale.
    assert (sale["tax_cents"], sale["total_cents"]) == (471, 6971)
    receipt = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "receipt"))
    assert receipt.subject == f"Harbor Skin Studio receipt #{sale['receipt_number']}"
    assert receipt.body.startswith("Harbor Skin Studio\n")

    (entry,) = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "clinic_settings.update")).all()
    assert entry.user_id == users.get("admin").id


def test_a_cleared_field_is_empty_and_an_absent_one_unchanged(api):
    admin = api("admin")
    admin.patch("/api/v1/settings", json={"phone": "+1 207 555 0100", "tax_id": "T-1"})
    response = admin.patch("/api/v1/settings", json={"phone": ""})
    assert (response.json["phone"], response.json["tax_id"]) == ("", "T-1")


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"timezone": "Mars/Olympus"}, "invalid_timezone", "timezone"),
    ({"tax_rate_bp": 10_001}, "validation_error", "tax_rate_bp"),
    ({"tax_rate_bp": "800"}, "validation_error", "tax_rate_bp"),
    ({"clinic_name": ""}, "validation_error", "clinic_name"),
    ({"clinic_name": "Glow\x00"}, "validation_error", "clinic_name"),
    ({"phone": "555\n0100"}, "validation_error", "phone"),
    ({"clinic_name": "<b>Glow</b>"}, "validation_error", "clinic_name"),
    ({"currency": "eur"}, "validation_error", "currency"),
    ({"receipt_footer": "x" * 501}, "validation_error", "receipt_footer"),
])
def test_a_bad_setting_is_a_422_naming_it_and_nothing_changes(api, body, code, field):
    response = api("admin").patch("/api/v1/settings", json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["details"]["fields"]
    assert api("admin").get("/api/v1/settings").json == FIRST_VALUES
