"""The sale page refunds unused sessions of a started series, to the client's account
credit or for less; the client page shows the credit and its history."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from pos.extensions import db
from pos.models import DrawerEntry, PackagePurchase, Sale
from pos.services import catalog
from tests.fixtures_payments import make_client

SERIES_PRICE = 79500  # a service: not taxed; 265.00 a session


@pytest.fixture
def series_sale(app, api):  # type: ignore[no-untyped-def]
    catalog.create_package(catalog.NewPackage(
        code="FACE-3", name="Face microneedling series of 3", area="face", sessions=3,
        price_cents=SERIES_PRICE, min_days_between=28, max_days_between=42, supplies=()),
        None)
    client_id = make_client()
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "cash",
        "lines": [{"package_code": "FACE-3", "quantity": 1}]}).json
    with db.engine.begin() as conn:  # one session performed
        conn.execute(update(PackagePurchase).values(sessions_used=1))
    return {"sale_id": sale["id"], "line_id": sale["lines"][0]["id"], "client_id": client_id}


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def post_refund(client, sale, **fields):  # type: ignore[no-untyped-def]
    path = f"/sales/{sale['sale_id']}"
    data = {"csrf_token": csrf(client, path), "reason": "moving away",
            f"qty-{sale['line_id']}": "0", **fields}
    return client.post(f"{path}/refunds", data=data)


def drawer_entries() -> int:
    return db.session.scalar(select(func.count(DrawerEntry.id)))


def test_the_refund_form_offers_the_unused_sessions_of_a_started_series(
        series_sale, client, login_as):
    login_as("manager")
    page = client.get(f"/sales/{series_sale['sale_id']}").get_data(as_text=True)
    assert "Sessions to refund" in page
    assert f'id="sessions-{series_sale["line_id"]}"' in page
    assert "(2 unused)" in page
    assert "To the client&#39;s account credit" in page or "To the client's account credit" in page


def test_a_manager_refunds_two_sessions_to_credit_from_the_page(series_sale, client, login_as):
    login_as("manager")
    before = drawer_entries()
    response = post_refund(client, series_sale, refund_to="credit",
                           **{f"sessions-{series_sale['line_id']}": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/sales/{series_sale['sale_id']}").get_data(as_text=True)
    assert "Refunded $530.00 to the client&#39;s account credit" in page \
        or "Refunded $530.00 to the client's account credit" in page
    assert "(to account credit)" in page
    assert drawer_entries() == before  # no cash left the drawer
    client_page = client.get(f"/clients/{series_sale['client_id']}").get_data(as_text=True)
    assert re.search(r'id="credit-cents">\$530\.00<', client_page)
    assert f'#{series_sale["sale_id"]}</a>' in client_page
    assert "Refund of sale" in client_page


def test_a_manager_gives_back_less_in_cash_from_the_page(series_sale, client, login_as):
    login_as("manager")
    before = drawer_entries()
    response = post_refund(client, series_sale, amount="200.00",
                           **{f"sessions-{series_sale['line_id']}": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Refunded $200.00" in client.get(
        f"/sales/{series_sale['sale_id']}").get_data(as_text=True)
    assert drawer_entries() == before + 1
    db.session.expire_all()
    assert db.session.scalars(select(PackagePurchase)).one().sessions_left == 0


def test_three_sessions_with_one_used_is_refused_on_the_page_with_the_numbers(
        series_sale, client, login_as):
    login_as("manager")
    response = post_refund(client, series_sale, **{f"sessions-{series_sale['line_id']}": "3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="refund-error"' in page
    assert "Only 2 of the 3 sessions" in page
    assert db.session.get(Sale, series_sale["sale_id"]).status == "paid"


def test_a_client_without_credit_sees_none(app, client, login_as):
    login_as("front_desk")
    client_id = make_client()
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert re.search(r'id="credit-cents">\$0\.00<', page)
    assert "No account credit yet" in page
