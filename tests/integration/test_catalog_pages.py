"""The catalog back office pages through the Flask test client: items (list, new, edit,
deactivate, barcode, price history on the item's page), bundle contents, packages with
their bill of materials, and the desk catalog that follows them."""
from __future__ import annotations

import re

from sqlalchemy import select

from pos.extensions import db
from pos.models import Item, Package
from pos.services import catalog
from tests.factories import make_item


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def submit(client, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf(client, path)})


ITEM_FORM = {"sku": "PEEL-1", "kind": "retail", "unit": "jar", "name": "Enzyme peel",
             "barcode": "0860001234567", "price": "42.00", "cost": "13.00",
             "reorder_point": "3", "reorder_quantity": "12", "taxable": "y", "active": "y"}


def item(sku: str) -> Item:
    db.session.rollback()
    found = db.session.scalar(select(Item).where(Item.sku == sku))
    assert found is not None
    return found


def test_the_catalog_is_a_managers_menu_entry_and_page(app, client, login_as):
    login_as("front_desk")
    assert ">Catalog<" not in client.get("/stock/").get_data(as_text=True)
    assert client.get("/catalog/").status_code == 403
    login_as("manager")
    page = client.get("/stock/").get_data(as_text=True)
    assert re.search(r'href="/catalog/"\s*>Catalog<', page)


def test_items_list_searches_and_filters_active(app, client, login_as):
    make_item("SERUM", name="Pure HA serum")
    make_item("MIST", name="Copper mist")
    catalog.update_item("MIST", {"active": False, "barcode": "999"}, None)
    login_as("manager")
    page = client.get("/catalog/").get_data(as_text=True)
    assert 'data-sku="SERUM"' in page and 'data-sku="MIST"' not in page
    page = client.get("/catalog/?active=inactive").get_data(as_text=True)
    assert 'data-sku="MIST"' in page and 'data-sku="SERUM"' not in page and "INACTIVE" in page
    page = client.get("/catalog/?active=all&q=999").get_data(as_text=True)
    assert 'data-sku="MIST"' in page and 'data-sku="SERUM"' not in page
    page = client.get("/catalog/?active=all&q=serum").get_data(as_text=True)
    assert 'data-sku="SERUM"' in page and 'data-sku="MIST"' not in page


def test_a_manager_creates_an_item_with_a_barcode(app, client, login_as):
    login_as("manager")
    response = submit(client, "/catalog/items/new", ITEM_FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/stock/items/PEEL-1")
    created = item("PEEL-1")
    assert (created.name, created.price_cents, created.cost_cents, created.barcode,
            created.taxable, created.active, created.reorder_point) == \
        ("Enzyme peel", 4200, 1300, "0860001234567", True, True, 3)
    page = client.get("/stock/items/PEEL-1").get_data(as_text=True)
    assert 'id="barcode">0860001234567<' in page


def test_the_new_item_form_shows_each_problem_and_a_taken_barcode(app, client, login_as):
    make_item("SERUM")
    catalog.update_item("SERUM", {"barcode": "0860001234567"}, None)
    login_as("manager")
    response = submit(client, "/catalog/items/new", ITEM_FORM)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and "already belongs to item SERUM" in page
    assert re.search(r'id="barcode"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="barcode"',
                     page)
    response = submit(client, "/catalog/items/new", {**ITEM_FORM, "sku": "bad sku",
                                                      "price": "-3", "barcode": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "no spaces" in page and "cannot be negative" in page
    db.session.rollback()
    assert db.session.scalar(select(Item).where(Item.sku == "PEEL-1")) is None


def test_editing_an_item_keeps_its_price_history_shown_on_its_page(app, client, login_as,
                                                                   users):
    make_item("SERUM", name="Serum", price_cents=6500, cost_cents=1900)
    login_as("manager")
    form = client.get("/catalog/items/SERUM/edit").get_data(as_text=True)
    assert 'value="65.00"' in form and 'value="19.00"' in form
    response = submit(client, "/catalog/items/SERUM/edit", {
        "name": "Pure HA serum", "barcode": "123", "price": "69.00", "cost": "21.50",
        "reorder_point": "4", "reorder_quantity": "20", "taxable": "y", "active": "y"})
    assert response.status_code == 302
    changed = item("SERUM")
    assert (changed.name, changed.price_cents, changed.cost_cents, changed.barcode) == \
        ("Pure HA serum", 6900, 2150, "123")
    page = client.get("/stock/items/SERUM").get_data(as_text=True)
    history = page[page.index('id="price-history"'):]
    history = history[:history.index("</table>")]
    assert "$65.00" in history and "$69.00" in history
    assert "$19.00" in history and "$21.50" in history
    assert history.count("manager@test.example") == 2
    assert 'id="edit-item"' in page


def test_deactivating_an_item_takes_it_off_the_desk_catalog(app, client, login_as):
    make_item("SERUM", lots=[("S-1", 5, 200)])
    login_as("manager")
    catalog_json = client.get("/desk/catalog.json").get_json()
    assert "SERUM" in [p.get("sku") for p in catalog_json]
    response = submit(client, "/catalog/items/SERUM/edit", {
        "name": "Serum", "barcode": "", "price": "65.00", "cost": "19.00",
        "reorder_point": "2", "reorder_quantity": "10", "taxable": "y"})  # active unticked
    assert response.status_code == 302
    assert item("SERUM").active is False
    assert "SERUM" not in [p.get("sku") for p in client.get("/desk/catalog.json").get_json()]
    assert 'id="item-inactive"' in client.get("/stock/items/SERUM").get_data(as_text=True)
    token = csrf(client, "/checkout")
    quote = client.post("/desk/quote", json={"lines": [{"sku": "SERUM", "quantity": 1}]},
                        headers={"X-CSRFToken": token})
    assert quote.status_code == 422
    assert quote.get_json()["error"]["code"] == "unknown_item"


def test_the_desk_catalog_carries_each_items_barcode(app, client, login_as):
    make_item("SERUM", lots=[("S-1", 5, 200)])
    catalog.update_item("SERUM", {"barcode": "0860001234567"}, None)
    login_as("front_desk")
    [serum] = [p for p in client.get("/desk/catalog.json").get_json() if p.get("sku") == "SERUM"]
    assert serum["barcode"] == "0860001234567"
    # The desk's sale by barcode: the scanned code is resolved to the item.
    token = csrf(client, "/checkout")
    quote = client.post("/desk/quote", json={"lines": [{"sku": "0860001234567", "quantity": 1}]},
                        headers={"X-CSRFToken": token})
    assert quote.status_code == 200
    assert quote.get_json()["lines"][0]["key"] == "sku:SERUM"


def test_bundle_contents_page(app, client, login_as):
    make_item("BUNDLE-FV", kind="bundle", price_cents=0, name="First-visit bundle")
    serum = make_item("SERUM-1OZ", name="Pure HA serum 1 oz")
    mist = make_item("MIST-RET", name="Copper + HA Mist")
    login_as("manager")
    assert client.get("/catalog/items/SERUM-1OZ/contents").status_code == 404
    response = submit(client, "/catalog/items/BUNDLE-FV/contents",
                      {f"qty_{serum.id}": "1", f"qty_{mist.id}": "1"})
    assert response.status_code == 302
    page = client.get("/stock/items/BUNDLE-FV").get_data(as_text=True)
    contents = page[page.index('id="bundle-contents"'):]
    assert "1 × Pure HA serum 1 oz (SERUM-1OZ)" in contents
    assert "1 × Copper + HA Mist (MIST-RET)" in contents
    response = submit(client, "/catalog/items/BUNDLE-FV/contents",
                      {f"qty_{serum.id}": "-1", f"qty_{mist.id}": "1"})
    assert response.status_code == 422


def test_a_manager_creates_and_edits_a_package_with_its_bill_of_materials(app, client,
                                                                          login_as):
    cart = make_item("CART-36", kind="supply", price_cents=0)
    mask = make_item("GF-MASK", kind="supply", price_cents=0)
    login_as("manager")
    response = submit(client, "/catalog/packages/new", {
        "code": "SCALP-4", "name": "Scalp series of 4", "area": "scalp", "sessions": "4",
        "price": "1100.00", "min_days_between": "28", "max_days_between": "42", "active": "y",
        f"qty_{cart.id}": "1", f"qty_{mask.id}": "0"})
    assert response.status_code == 302
    page = client.get("/catalog/packages").get_data(as_text=True)
    assert 'data-code="SCALP-4"' in page and "1 × CART-36" in page and "$1,100.00" in page
    edit = client.get("/catalog/packages/SCALP-4/edit").get_data(as_text=True)
    assert 'value="1100.00"' in edit
    response = submit(client, "/catalog/packages/SCALP-4/edit", {
        "name": "Scalp series of 4", "area": "scalp", "sessions": "4", "price": "1150.00",
        "min_days_between": "28", "max_days_between": "", f"qty_{cart.id}": "2",
        f"qty_{mask.id}": "1"})  # active unticked: deactivated
    assert response.status_code == 302
    db.session.rollback()
    package = db.session.scalar(select(Package).where(Package.code == "SCALP-4"))
    assert (package.price_cents, package.max_days_between, package.active) == \
        (115000, None, False)
    assert sorted((s.item.sku, s.quantity) for s in package.supplies) == [("CART-36", 2),
                                                                          ("GF-MASK", 1)]
    assert "package:SCALP-4" not in [p["key"] for p in client.get("/desk/catalog.json").json]
    response = submit(client, "/catalog/packages/SCALP-4/edit", {
        "name": "Scalp series of 4", "area": "scalp", "sessions": "4", "price": "1150.00",
        "min_days_between": "50", "max_days_between": "40", f"qty_{cart.id}": "2",
        f"qty_{mask.id}": "1"})
    assert response.status_code == 422
    assert "cannot be shorter" in response.get_data(as_text=True)
