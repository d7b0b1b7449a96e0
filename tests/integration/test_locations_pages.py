"""Locations through the pages and the desk's location: the admin page, the transfer
form, the stock pages per location, the sign-in choice kept on the staff session, and
the sales, drawers and receipts that follow it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Drawer, ItemStock, Sale, StaffSession
from pos.services import locations, transfers
from tests.factories import PASSWORD, make_item
from tests.integration.test_desk_pages import post_json
from tests.integration.test_purchasing_pages import csrf, submit
from tests.integration.test_sessions import Clock


def _second() -> tuple[int, int]:
    first = locations.list_locations(db.session)[0].id
    return first, locations.create_location("Harbour Street", None).id


def _on_hand(sku_item_id: int, location_id: int) -> int:
    return db.session.scalar(select(ItemStock.on_hand).where(
        ItemStock.item_id == sku_item_id, ItemStock.location_id == location_id)) or 0


def test_an_admin_adds_a_location_on_its_page_and_a_duplicate_is_refused(app, client, login_as):
    login_as("manager")
    assert client.get("/admin/locations").status_code == 403
    login_as("admin")
    page = client.get("/admin/locations").get_data(as_text=True)
    assert "Main clinic" in page and "Home locations" not in page
    response = submit(client, "/admin/locations", {"name": "Harbour Street"})
    assert response.status_code == 302
    page = client.get("/admin/locations").get_data(as_text=True)
    assert "Location Harbour Street added." in page and "Home locations" in page
    again = submit(client, "/admin/locations", {"name": "Harbour Street"})
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "There is already a location named" in text and 'role="alert"' in text


def test_a_manager_transfers_on_the_form_and_the_stock_page_shows_each_location(
        app, client, login_as):
    item = make_item("CART", kind="supply", lots=[("C-1", 12, 300)])
    first, second = _second()
    login_as("manager")
    response = submit(client, "/stock/transfers", {
        "sku": "CART", "lot": "C-1", "quantity": "5", "from_location": str(first),
        "to_location": str(second), "note": ""})
    assert response.status_code == 302
    assert (_on_hand(item.id, first), _on_hand(item.id, second)) == (7, 5)
    page = client.get("/stock/transfers").get_data(as_text=True)
    assert "Transferred 5 of lot C-1 from Main clinic (now 7) to Harbour Street (now 5)." in page
    too_many = submit(client, "/stock/transfers", {
        "sku": "CART", "lot": "C-1", "quantity": "8", "from_location": str(first),
        "to_location": str(second), "note": ""})
    assert too_many.status_code == 409
    assert "Not enough stock of CART: 8 needed, 7 available." in too_many.get_data(as_text=True)
    same = submit(client, "/stock/transfers", {
        "sku": "CART", "lot": "C-1", "quantity": "1", "from_location": str(first),
        "to_location": str(first), "note": ""})
    assert same.status_code == 422
    overview = client.get(f"/stock/?location={second}").get_data(as_text=True)
    assert 'id="stock-location">Harbour Street' in overview
    assert 'class="num on-hand">5<' in overview
    assert 'class="num on-hand">7<' in client.get("/stock/").get_data(as_text=True)
    detail = client.get(f"/stock/items/CART?location={second}").get_data(as_text=True)
    assert 'id="on-hand">5<' in detail and "transfer_in" in detail
    assert client.get("/stock/?location=9999").status_code == 404


def test_one_location_pages_show_no_location_choice(app, client, login_as):
    make_item("CART", kind="supply", lots=[("C-1", 3, 300)])
    login_as("manager")
    overview = client.get("/stock/").get_data(as_text=True)
    assert "location-choice" not in overview and "work-location" not in overview
    client.post("/logout", data={"csrf_token": csrf(client, "/stock/")})
    assert 'name="location"' not in client.get("/login").get_data(as_text=True)


def test_signing_in_at_a_location_keeps_it_for_sales_drawers_and_stock(app, client, users):
    item = make_item("SERUM", lots=[("S-1", 10, None)])
    first, second = _second()
    transfers.transfer_stock(sku="SERUM", lot_code="S-1", quantity=4, from_location_id=first,
                             to_location_id=second, user_id=None)
    desk = users.get("front_desk")
    login_page = client.get("/login").get_data(as_text=True)
    assert "Harbour Street" in login_page and "My home location" in login_page
    response = client.post("/login", data={
        "email": desk.email, "password": PASSWORD, "location": str(second),
        "csrf_token": csrf(client, "/login")})
    assert response.status_code == 302
    assert db.session.scalar(select(StaffSession.location_id).where(
        StaffSession.user_id == desk.id, StaffSession.ended_at.is_(None))) == second
    page = client.get("/stock/").get_data(as_text=True)
    assert 'id="work-location">at Harbour Street' in page
    assert 'class="num on-hand">4<' in page
    sold = post_json(client, "/desk/sales", {
        "lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash"})
    assert sold.status_code in (200, 201), sold.get_data(as_text=True)
    db.session.expire_all()
    assert (_on_hand(item.id, first), _on_hand(item.id, second)) == (6, 3)
    sale_location = db.session.scalar(select(Sale.location_id).order_by(Sale.id.desc()))
    assert sale_location == second
    assert db.session.scalar(select(Drawer.location_id).where(Drawer.status == "open")) == second


def test_api_sales_drawers_and_home_location(app, api, users):
    item = make_item("SERUM", lots=[("S-1", 10, None)])
    first, second = _second()
    transfers.transfer_stock(sku="SERUM", lot_code="S-1", quantity=4, from_location_id=first,
                             to_location_id=second, user_id=None)
    desk = api("front_desk")
    assert desk.post(f"/api/v1/drawers?location={second}",
                     {"opening_float_cents": 5000}).status_code == 201
    # One open drawer per location: the first location may open its own.
    assert desk.post("/api/v1/drawers", {"opening_float_cents": 1000}).status_code == 201
    sold = desk.post(f"/api/v1/sales?location={second}",
                     {"payment": "cash", "lines": [{"sku": "SERUM", "quantity": 2}]})
    assert sold.status_code == 201, sold.get_json()
    here = desk.get(f"/api/v1/drawers/current?location={second}").get_json()
    assert (here["opening_float_cents"], here["cash_sales_cents"]) == (5000, sold.get_json()[
        "total_cents"])
    assert desk.get("/api/v1/drawers/current").get_json()["cash_sales_cents"] == 0
    # An admin sets the user's home location: their token then works there by default.
    front = users.get("front_desk")
    patched = api("admin").patch(f"/api/v1/users/{front.id}", {"home_location_id": second})
    assert patched.status_code == 200 and patched.get_json()["home_location_id"] == second
    assert desk.get("/api/v1/items/SERUM").get_json()["on_hand"] == 2
    assert desk.post("/api/v1/sales", {"payment": "cash", "lines": [
        {"sku": "SERUM", "quantity": 1}]}).status_code == 201
    db.session.expire_all()
    assert (_on_hand(item.id, first), _on_hand(item.id, second)) == (6, 1)
    assert api("admin").patch(f"/api/v1/users/{front.id}",
                              {"home_location_id": 99999}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Sale)
                             .where(Sale.location_id == second)) == 2


@pytest.fixture
def moving_clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch)


def test_a_pin_unlock_goes_on_at_the_desks_location(app, client, users, moving_clock):
    from tests.integration.test_sessions import set_pin_on_page, signed_in_as, unlock
    _first, second = _second()
    desk = users.get("front_desk")
    client.post("/login", data={"email": desk.email, "password": PASSWORD,
                                "location": str(second), "csrf_token": csrf(client, "/login")})
    set_pin_on_page(client)
    moving_clock.forward(minutes=31)
    assert signed_in_as(client) is None
    assert unlock(client, desk.id, "2468").status_code == 302
    assert 'id="work-location">at Harbour Street' in client.get("/stock/").get_data(as_text=True)
