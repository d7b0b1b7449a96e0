"""The checkout's cart kept on the server per desk, and parked sales (page and API)."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pos.extensions import db
from pos.models import Client, DeskCart
from pos.services import catalog, clock
from pos.services.transaction import write_transaction
from tests.factories import make_item, signed_in

SERUM_AND_SERIES = [{"sku": "SERUM-1OZ", "quantity": 2}, {"package_code": "FACE-3", "quantity": 1}]


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM-1OZ", name="Pure HA serum 1 oz", price_cents=6500, lots=[("S-1", 5, 200)])
    catalog.create_package(catalog.NewPackage(
        code="FACE-3", name="Face microneedling series of 3", area="face", sessions=3,
        price_cents=79500, min_days_between=28, max_days_between=42, supplies=()), None)
    with write_transaction() as session:
        client = Client(first_name="Ana", last_name="Lopez", email="ana@example.com")
        session.add(client)
        session.flush()
        return {"client_id": client.id}


def csrf(client, path: str = "/checkout") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def send(client, method: str, path: str, body):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, json=body, headers={"X-CSRFToken": csrf(client)})


def page_cart(client) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The cart the checkout page starts from, as its script reads it."""
    page = client.get("/checkout").get_data(as_text=True)
    match = re.search(r"data-cart='([^']*)'", page)
    assert match, "the checkout page carries no cart"
    return json.loads(html.unescape(match.group(1)))


@pytest.fixture
def desk(app, client, users):  # type: ignore[no-untyped-def]
    """The test client signed in as the front desk: one browser, one desk."""
    signed_in(client, users.get("front_desk"))
    return client


@pytest.fixture
def other_desk(app, users):  # type: ignore[no-untyped-def]
    """A second browser (its own cookies, so its own desk), signed in as a manager."""
    second = app.test_client()
    signed_in(second, users.get("manager"))
    return second


def parked_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DeskCart)
                             .where(DeskCart.parked.is_(True)))


# -- the desk's cart -------------------------------------------------------------------------

def test_a_saved_cart_is_what_the_checkout_shows_after_a_refresh(shop, desk):
    saved = send(desk, "PUT", "/desk/cart", {"client_id": shop["client_id"],
                                             "lines": SERUM_AND_SERIES,
                                             "discount_code": "WELCOME10"})
    assert saved.status_code == 200

    cart = page_cart(desk)
    assert cart["client"] == {"id": shop["client_id"], "name": "Ana Lopez"}
    assert [(line["key"], line["name"], line["quantity"]) for line in cart["lines"]] == [
        ("sku:SERUM-1OZ", "Pure HA serum 1 oz", 2),
        ("package:FACE-3", "Face microneedling series of 3", 1)]
    assert cart["discount_code"] == "WELCOME10"


def test_the_desk_is_the_browser_another_one_starts_empty(shop, desk, other_desk):
    first = desk.get("/checkout")
    cookie = re.search(r"desk_cart=([^;]+);", first.headers["Set-Cookie"])
    assert cookie and len(cookie.group(1)) >= 32
    assert "HttpOnly" in first.headers["Set-Cookie"]
    send(desk, "PUT", "/desk/cart", {"lines": SERUM_AND_SERIES})

    assert page_cart(other_desk)["lines"] == []
    assert len(page_cart(desk)["lines"]) == 2
    assert "Set-Cookie" not in desk.get("/checkout").headers  # the key is kept, not renewed


def test_an_emptied_cart_leaves_no_row(shop, desk):
    send(desk, "PUT", "/desk/cart", {"lines": SERUM_AND_SERIES})
    send(desk, "PUT", "/desk/cart", {"lines": []})
    assert db.session.scalar(select(func.count()).select_from(DeskCart)) == 0
    assert page_cart(desk)["lines"] == []


def test_a_cart_for_a_client_that_does_not_exist_is_refused(shop, desk):
    response = send(desk, "PUT", "/desk/cart", {"client_id": 999_999, "lines": []})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_client"


def test_a_malformed_cart_is_a_validation_error_naming_the_field(shop, desk):
    response = send(desk, "PUT", "/desk/cart",
                    {"lines": [{"sku": "SERUM-1OZ", "quantity": 0}], "cash": 1})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert set(response.json["error"]["details"]["fields"]) >= {"lines[0].quantity", "cash"}


def test_saving_the_cart_needs_the_csrf_token(shop, desk):
    response = desk.put("/desk/cart", json={"lines": SERUM_AND_SERIES})
    assert response.status_code == 400
    assert page_cart(desk)["lines"] == []


def test_selling_clears_the_desk_cart(shop, desk):
    send(desk, "PUT", "/desk/cart", {"lines": [{"sku": "SERUM-1OZ", "quantity": 1}]})
    sold = send(desk, "POST", "/desk/sales", {"lines": [{"sku": "SERUM-1OZ", "quantity": 1}],
                                              "payment": "cash", "cash_tendered": "100"})
    assert sold.status_code == 201
    assert page_cart(desk)["lines"] == []


def test_a_link_from_the_client_page_chooses_the_client_and_keeps_the_lines(shop, desk):
    send(desk, "PUT", "/desk/cart", {"lines": [{"sku": "SERUM-1OZ", "quantity": 1}]})
    page = desk.get(f"/checkout?client_id={shop['client_id']}").get_data(as_text=True)
    cart = json.loads(html.unescape(re.search(r"data-cart='([^']*)'", page).group(1)))
    assert cart["client"]["name"] == "Ana Lopez" and cart["save"] is True
    assert len(cart["lines"]) == 1


# -- parking and resuming at the desk --------------------------------------------------------

def test_a_parked_sale_leaves_the_desk_and_resumes_on_another_desk(shop, desk, other_desk):
    send(desk, "PUT", "/desk/cart", {"client_id": shop["client_id"], "lines": SERUM_AND_SERIES})
    parked = send(desk, "POST", "/desk/cart/park", {"client_id": shop["client_id"],
                                                    "lines": SERUM_AND_SERIES})
    assert parked.status_code == 201 and parked.json["label"] == "Ana Lopez"
    assert page_cart(desk)["lines"] == []  # this desk starts the next sale

    listed = other_desk.get("/desk/parked").get_data(as_text=True)
    assert "Ana Lopez" in listed and "2 × Pure HA serum 1 oz" in listed

    token = csrf(other_desk, "/desk/parked")
    resumed = other_desk.post(f"/desk/parked/{parked.json['id']}/resume",
                              data={"csrf_token": token})
    assert resumed.status_code == 302 and resumed.headers["Location"].endswith("/checkout")
    cart = page_cart(other_desk)
    assert cart["client"]["name"] == "Ana Lopez"
    assert [line["quantity"] for line in cart["lines"]] == [2, 1]
    assert parked_count() == 0
    assert "Ana Lopez" not in other_desk.get("/desk/parked").get_data(as_text=True)

    again = desk.post(f"/desk/parked/{parked.json['id']}/resume",
                      data={"csrf_token": csrf(desk, "/desk/parked")})
    assert again.status_code == 404
    assert "may have been resumed" in again.get_data(as_text=True)


def test_a_walk_in_is_parked_under_a_typed_label_and_needs_one(shop, desk):
    lines = [{"sku": "SERUM-1OZ", "quantity": 1}]
    refused = send(desk, "POST", "/desk/cart/park", {"lines": lines})
    assert refused.status_code == 422
    assert refused.json["error"]["details"]["fields"] == {
        "label": "is required when no client is chosen"}
    parked = send(desk, "POST", "/desk/cart/park", {"lines": lines, "label": "Blue coat"})
    assert parked.status_code == 201 and parked.json["label"] == "Blue coat"
    assert "Blue coat" in desk.get("/desk/parked").get_data(as_text=True)


def test_a_sale_is_not_resumed_over_a_cart_being_built(shop, desk, other_desk):
    parked = send(desk, "POST", "/desk/cart/park", {"lines": SERUM_AND_SERIES[:1],
                                                    "label": "Walk-in"})
    send(other_desk, "PUT", "/desk/cart", {"lines": [{"package_code": "FACE-3", "quantity": 1}]})
    refused = other_desk.post(f"/desk/parked/{parked.json['id']}/resume",
                              data={"csrf_token": csrf(other_desk, "/desk/parked")})
    assert refused.status_code == 409
    assert "building another sale" in refused.get_data(as_text=True)
    assert parked_count() == 1
    assert page_cart(other_desk)["lines"][0]["key"] == "package:FACE-3"


def test_a_parked_sale_can_be_discarded_from_the_list(shop, desk):
    parked = send(desk, "POST", "/desk/cart/park", {"lines": SERUM_AND_SERIES[:1],
                                                    "label": "Walk-in"})
    response = desk.post(f"/desk/parked/{parked.json['id']}/discard",
                         data={"csrf_token": csrf(desk, "/desk/parked")},
                         follow_redirects=True)
    assert "Parked sale discarded." in response.get_data(as_text=True)
    assert parked_count() == 0


# -- the API twin ----------------------------------------------------------------------------

def test_the_api_parks_lists_and_resumes_a_sale(shop, api):
    desk = api("front_desk")
    created = desk.post("/api/v1/parked-sales", json={"client_id": shop["client_id"],
                                                      "lines": SERUM_AND_SERIES,
                                                      "discount_code": "WELCOME10"})
    assert created.status_code == 201
    assert created.json["label"] == "Ana Lopez"
    assert created.json["client_name"] == "Ana Lopez"
    assert created.json["parked_by"] == desk_user_name(api)
    walk_in = desk.post("/api/v1/parked-sales", json={"label": "Walk-in, red scarf",
                                                      "lines": SERUM_AND_SERIES[:1]})
    assert walk_in.status_code == 201

    listed = desk.get("/api/v1/parked-sales?per_page=1")
    assert listed.json["total"] == 2 and listed.json["per_page"] == 1
    assert [p["label"] for p in listed.json["items"]] == ["Walk-in, red scarf"]
    assert [p["label"] for p in desk.get("/api/v1/parked-sales?page=2&per_page=1")
            .json["items"]] == ["Ana Lopez"]

    resumed = desk.post(f"/api/v1/parked-sales/{created.json['id']}/resume")
    assert resumed.status_code == 200
    assert resumed.json == {"client_id": shop["client_id"], "label": "Ana Lopez",
                            "lines": SERUM_AND_SERIES, "discount_code": "WELCOME10"}
    assert [p["id"] for p in desk.get("/api/v1/parked-sales").json["items"]] == [
        walk_in.json["id"]]
    again = desk.post(f"/api/v1/parked-sales/{created.json['id']}/resume")
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"

    # The resumed cart is a sale body as it stands.
    sold = desk.post("/api/v1/sales", json={**{k: v for k, v in resumed.json.items()
                                               if k != "label"}, "discount_code": None,
                                            "payment": "cash"})
    assert sold.status_code == 201 and sold.json["status"] == "paid"


def desk_user_name(api) -> str:  # type: ignore[no-untyped-def]
    return api.users.get("front_desk").name


def test_the_api_deletes_a_parked_sale(shop, api):
    desk = api("front_desk")
    created = desk.post("/api/v1/parked-sales", json={"label": "Walk-in",
                                                      "lines": SERUM_AND_SERIES[:1]})
    assert desk.delete(f"/api/v1/parked-sales/{created.json['id']}").status_code == 204
    assert desk.get("/api/v1/parked-sales").json["total"] == 0
    gone = desk.delete(f"/api/v1/parked-sales/{created.json['id']}")
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": 1}]}, "validation_error", "label"),
    ({"label": "x", "lines": []}, "validation_error", "lines"),
    ({"label": "x", "lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_item", None),
    ({"label": "<b>x</b>", "lines": [{"sku": "SERUM-1OZ", "quantity": 1}]},
     "validation_error", "label"),
    ({"client_id": 999_999, "lines": [{"sku": "SERUM-1OZ", "quantity": 1}]},
     "unknown_client", None),
])
def test_the_api_refuses_a_parked_sale_it_could_not_sell(shop, api, body, code, field):
    response = api("front_desk").post("/api/v1/parked-sales", json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    if field:
        assert field in response.json["error"]["details"]["fields"]
    assert parked_count() == 0


def test_the_api_list_bounds_its_pages(shop, api):
    response = api("front_desk").get("/api/v1/parked-sales?per_page=201")
    assert response.status_code == 422
    assert "per_page" in response.json["error"]["details"]["fields"]


def test_the_parked_sales_are_in_the_openapi_document(app, client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/v1/parked-sales"]) == {"get", "post"}
    assert "post" in paths["/api/v1/parked-sales/{parked_id}/resume"]
    assert "delete" in paths["/api/v1/parked-sales/{parked_id}"]


# -- the purge -------------------------------------------------------------------------------

def test_the_worker_purges_carts_untouched_for_a_week(shop, app, api, desk):
    api("front_desk").post("/api/v1/parked-sales", json={"label": "Old",
                                                         "lines": SERUM_AND_SERIES[:1]})
    with write_transaction() as session:
        session.execute(update(DeskCart).values(
            updated_at=clock.now() - timedelta(days=7, minutes=1)))
    api("front_desk").post("/api/v1/parked-sales", json={"label": "Recent",
                                                         "lines": SERUM_AND_SERIES[:1]})
    send(desk, "PUT", "/desk/cart", {"lines": SERUM_AND_SERIES[:1]})

    result = app.test_cli_runner().invoke(args=["pos", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "carts_purged=1" in result.output
    assert [row.label for row in db.session.scalars(
        select(DeskCart).where(DeskCart.parked.is_(True)))] == ["Recent"]
    assert len(page_cart(desk)["lines"]) == 1
