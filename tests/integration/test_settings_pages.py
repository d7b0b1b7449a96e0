"""The admin's settings page over the clinic's settings (API twin: /api/v1/settings)."""
from __future__ import annotations

import re

from sqlalchemy import select

from pos.extensions import db
from pos.models import AuditEntry
from pos.services.clinic import clinic_settings
from tests.integration.test_desk_pages import post_json, shop, token  # noqa: F401


def settings_form(client, **changes):  # type: ignore[no-untyped-def]
    current = clinic_settings(db.session)
    return {"csrf_token": token(client, "/admin/settings"), "clinic_name": current.clinic_name,
            "address": current.address, "phone": current.phone, "tax_id": current.tax_id,
            "receipt_footer": current.receipt_footer,
            "tax_rate": f"{current.tax_rate_bp / 100:.2f}", "timezone": current.timezone,
            **changes}


def test_the_admin_changes_name_and_address_and_the_receipt_shows_them(
        shop, app, client, login_as):  # noqa: F811
    login_as("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'id="currency"' in page and app.config["CURRENCY"] in page
    assert 'name="currency"' not in page  # shown, not set
    assert '<option selected value="America/New_York">' in page or \
        re.search(r'<option[^>]*selected[^>]*value="America/New_York"', page)
    response = client.post("/admin/settings", data=settings_form(
        client, clinic_name="Radiant Skin Studio", address="12 Elm Street\nSpringfield",
        phone="555-0142", tax_id="EIN 12-3456789", receipt_footer="See you soon!",
        tax_rate="8.25", timezone="America/Chicago"))
    assert response.status_code == 302
    stored = clinic_settings(db.session)
    assert (stored.clinic_name, stored.tax_rate_bp, stored.timezone) == \
        ("Radiant Skin Studio", 825, "America/Chicago")
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "clinic_settings.update"))
    assert "address" in entry.details["fields"]
    login_as("front_desk")
    sale_id = post_json(client, "/desk/sales", {
        "client_id": shop["client_id"], "lines": [{"sku": "SERUM-1OZ", "quantity": 1}],
        "payment": "cash"}).get_json()["id"]
    receipt = client.get(f"/sales/{sale_id}/receipt").get_data(as_text=True)
    assert '<h1 class="clinic">Radiant Skin Studio</h1>' in receipt
    assert "12 Elm Street\nSpringfield" in receipt
    assert "555-0142" in receipt and "Tax id: EIN 12-3456789" in receipt
    assert "See you soon!" in receipt
    assert re.search(r'id="receipt-tax">\$5\.36<', receipt)  # 8.25 % of $65.00


def test_a_bad_time_zone_or_rate_is_shown_and_nothing_changes(app, client, login_as):
    login_as("admin")
    before = clinic_settings(db.session)
    for changes, shown in (({"timezone": "Mars/Olympus"}, "Not a valid choice"),
                           ({"tax_rate": "101"}, "Between 0 and 100"),
                           ({"tax_rate": "8.125"}, "At most two decimals"),
                           ({"clinic_name": ""}, "The clinic needs a name")):
        response = client.post("/admin/settings", data=settings_form(client, **changes))
        assert response.status_code == 422, changes
        assert shown in response.get_data(as_text=True), changes
    db.session.expire_all()
    assert clinic_settings(db.session).version == before.version


def test_only_the_admin_has_the_settings_page_and_menu(app, client, login_as):
    for role in ("manager", "front_desk", "provider"):
        login_as(role)
        assert client.get("/admin/settings").status_code == 403, role
        nav = client.get("/checkout").get_data(as_text=True).split("</nav>")[0]
        for label in ("Users", "Audit", "Settings"):
            assert f">{label}</a>" not in nav, (role, label)
    login_as("admin")
    nav = client.get("/checkout").get_data(as_text=True).split("</nav>")[0]
    for label in ("Users", "Audit", "Settings"):
        assert f">{label}</a>" in nav, label
    assert client.get("/admin/settings").status_code == 200
