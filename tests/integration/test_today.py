"""A provider's "Today's clients": sold to or treated today, and series due (issue 11)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from pos.extensions import db
from pos.models import PackagePurchase, Sale, SaleLine
from pos.services import clock
from tests.fixtures_clinical import make_client, make_series_purchase, treatment_body

TREATMENTS = "/api/v1/treatments"


def _sold_long_ago(purchase: PackagePurchase) -> None:
    long_ago = clock.now() - timedelta(days=60)
    sale_id = db.session.get(SaleLine, purchase.sale_line_id).sale_id
    db.session.execute(update(Sale).where(Sale.id == sale_id).values(created_at=long_ago))
    db.session.commit()


def test_todays_clients_and_the_series_due_each_link_to_the_client(app, api, client,
                                                                   login_as, clinic_stock):
    provider = api("provider")
    due = make_client("Dana", "Due")
    due_purchase = make_series_purchase(due, "FACE-3")
    _sold_long_ago(due_purchase)
    assert provider.post(TREATMENTS, json=treatment_body(
        due.id, due_purchase.id,
        performed_at=(clock.now() - timedelta(days=30)).isoformat())).status_code == 201
    resting = make_client("Rita", "Resting")
    resting_purchase = make_series_purchase(resting, "FACE-3")
    _sold_long_ago(resting_purchase)
    assert provider.post(TREATMENTS, json=treatment_body(
        resting.id, resting_purchase.id,
        performed_at=(clock.now() - timedelta(days=10)).isoformat())).status_code == 201
    treated = make_client("Tess", "Treated")
    treated_purchase = make_series_purchase(treated, "FACE-3")
    _sold_long_ago(treated_purchase)
    assert provider.post(TREATMENTS, json=treatment_body(
        treated.id, treated_purchase.id)).status_code == 201
    buyer = make_client("Bea", "Buyer")
    make_series_purchase(buyer, "FACE-3")  # sold now, not treated yet

    login_as("provider")
    page = client.get("/today").get_data(as_text=True)
    seen = page[page.index('id="seen-today"'):page.index('id="due-today"')]
    due_part = page[page.index('id="due-today"'):]
    assert re.findall(r'href="/clients/(\d+)">([^<]+)</a>', seen) == [
        (str(buyer.id), "Bea Buyer"), (str(treated.id), "Tess Treated")]
    assert re.findall(r'href="/clients/(\d+)">([^<]+)</a>', due_part) == [
        (str(due.id), "Dana Due")]
    due_since = (clock.today() - timedelta(days=2)).isoformat()
    assert f"due since {due_since}" in due_part

    body = provider.get("/api/v1/today").get_json()
    assert body["date"] == clock.today().isoformat()
    assert [(c["name"], c["sold_today"], c["treated_today"]) for c in body["seen"]] == [
        ("Bea Buyer", True, False), ("Tess Treated", False, True)]
    assert [(c["client_id"], c["due_since"]) for c in body["due"]] == [(due.id, due_since)]


def test_the_today_page_is_for_providers(app, client, login_as, api):
    login_as("front_desk")
    assert client.get("/today").status_code == 403
    assert api("front_desk").get("/api/v1/today").status_code == 403
