"""The catalog back office of API.md "Second wave" / "Back office": changing items (barcode,
active, price history), bundle contents, creating and changing packages, and what the
desk can sell afterwards."""
from __future__ import annotations

from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Item, ItemPriceChange, Package
from pos.services import catalog
from tests.factories import make_item


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_json()["error"]["code"]


def fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return set(response.get_json()["error"]["details"].get("fields", {}))


def supplies_package(code: str = "FACE-1", supplies=(("CART-36", 1),), **kw):  # type: ignore[no-untyped-def]
    return catalog.create_package(catalog.NewPackage(
        code, kw.get("name", "Face single"), "face", kw.get("sessions", 1),
        kw.get("price_cents", 30000), 28, None, supplies), None)


# -- items ---------------------------------------------------------------------------------

def test_a_manager_changes_an_item_and_every_price_or_cost_change_is_kept(app, api, users):
    make_item("SERUM", price_cents=6500, cost_cents=1900)
    manager = api("manager")
    response = manager.patch("/api/v1/items/SERUM", json={
        "name": "Pure HA serum 1 oz", "price_cents": 6900, "reorder_point": 4,
        "reorder_quantity": 30, "taxable": False})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["price_cents"], body["cost_cents"], body["reorder_point"],
            body["reorder_quantity"], body["taxable"], body["active"], body["barcode"]) == \
        ("Pure HA serum 1 oz", 6900, 1900, 4, 30, False, True, None)
    manager.patch("/api/v1/items/SERUM", json={"cost_cents": 2100})
    manager.patch("/api/v1/items/SERUM", json={"price_cents": 6900})  # unchanged: no row
    history = manager.get("/api/v1/items/SERUM").get_json()["price_history"]
    assert [(h["field"], h["old_cents"], h["new_cents"], h["changed_by"]) for h in history] == [
        ("cost_cents", 1900, 2100, "manager@test.example"),
        ("price_cents", 6500, 6900, "manager@test.example"),
    ]
    assert all(h["changed_at"].endswith("+00:00") for h in history)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ItemPriceChange)) == 2


def test_a_front_desk_user_cannot_change_an_item_whatever_the_body(app, api):
    make_item("SERUM")
    response = api("front_desk").patch("/api/v1/items/SERUM", json={"price_cents": -1})
    assert (response.status_code, error_code(response)) == (403, "forbidden")


def test_barcodes_are_unique_409_barcode_taken_and_findable(app, api):
    make_item("SERUM")
    make_item("MIST")
    manager = api("manager")
    assert manager.patch("/api/v1/items/SERUM", json={"barcode": "0860001234567"}).json[
        "barcode"] == "0860001234567"
    taken = manager.patch("/api/v1/items/MIST", json={"barcode": "0860001234567"})
    assert (taken.status_code, error_code(taken)) == (409, "barcode_taken")
    assert "SERUM" in taken.get_json()["error"]["message"]
    # Another item's sku cannot be a barcode: the checkout would find that item instead.
    shadow = manager.patch("/api/v1/items/MIST", json={"barcode": "SERUM"})
    assert (shadow.status_code, error_code(shadow)) == (409, "barcode_taken")
    created = manager.post("/api/v1/items", json={
        "sku": "PEEL", "name": "Peel", "kind": "retail", "unit": "jar", "price_cents": 100,
        "reorder_point": 0, "reorder_quantity": 0, "barcode": "0860001234567"})
    assert (created.status_code, error_code(created)) == (409, "barcode_taken")

    desk = api("front_desk")
    found = desk.get("/api/v1/items?barcode=0860001234567").get_json()
    assert [i["sku"] for i in found] == ["SERUM"]
    assert desk.get("/api/v1/items?barcode=nothing-here").get_json() == []
    # null clears it, and the barcode is free again
    assert manager.patch("/api/v1/items/SERUM", json={"barcode": None}).json["barcode"] is None
    assert manager.patch("/api/v1/items/MIST", json={"barcode": "0860001234567"}).status_code \
        == 200


def test_post_items_accepts_a_barcode_of_free_text(app, api):
    response = api("manager").post("/api/v1/items", json={
        "sku": "PEEL", "name": "Peel", "kind": "retail", "unit": "jar", "price_cents": 100,
        "reorder_point": 0, "reorder_quantity": 0, "barcode": "EAN 4006381 333931"})
    assert response.status_code == 201
    assert response.get_json()["barcode"] == "EAN 4006381 333931"


def test_item_changes_are_validated_422_naming_each_field(app, api):
    make_item("SERUM")
    manager = api("manager")
    for body, field in (({"price_cents": -1}, "price_cents"),
                        ({"price_cents": "65.00"}, "price_cents"),
                        ({"price_cents": None}, "price_cents"),
                        ({"barcode": "x" * 65}, "barcode"),
                        ({"name": ""}, "name"),
                        ({"active": "no"}, "active"),
                        ({"kind": "supply"}, "kind"),
                        ({"reorder_point": 10_000_000}, "reorder_point")):
        response = manager.patch("/api/v1/items/SERUM", json=body)
        assert (response.status_code, error_code(response)) == (422, "validation_error"), body
        assert field in fields(response), body
    assert manager.patch("/api/v1/items/NOPE", json={"name": "x"}).status_code == 404
    db.session.rollback()
    item = db.session.scalar(select(Item).where(Item.sku == "SERUM"))
    assert (item.price_cents, item.name) == (6500, "Serum")


def test_a_deactivated_item_is_refused_at_checkout_as_unknown_item(app, api):
    make_item("SERUM", lots=[("S-1", 5, 200)])
    manager = api("manager")
    assert manager.patch("/api/v1/items/SERUM", json={"active": False}).json["active"] is False
    desk = api("front_desk")
    sale = desk.post("/api/v1/sales", json={"payment": "cash",
                                           "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert (sale.status_code, error_code(sale)) == (422, "unknown_item")
    assert sale.get_json()["error"]["details"]["sku"] == "SERUM"
    # Gone from the list of what is for sale, still listed for a manager who asks.
    assert desk.get("/api/v1/items").get_json() == []
    assert [i["sku"] for i in desk.get("/api/v1/items?active=false").get_json()] == ["SERUM"]
    assert [i["active"] for i in desk.get("/api/v1/items?active=any").get_json()] == [False]
    manager.patch("/api/v1/items/SERUM", json={"active": True})
    sold = desk.post("/api/v1/sales", json={"payment": "cash",
                                           "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert sold.status_code == 201


def test_the_bundle_contents_are_editable_and_only_a_bundles(app, api):
    make_item("BUNDLE-FV", kind="bundle", price_cents=0)
    make_item("SERUM")
    make_item("MIST")
    manager = api("manager")
    response = manager.put("/api/v1/items/BUNDLE-FV/contents", json={
        "contents": [{"sku": "SERUM", "quantity": 1}, {"sku": "MIST", "quantity": 1}]})
    assert response.status_code == 200
    assert response.get_json()["contents"] == [{"sku": "SERUM", "quantity": 1},
                                               {"sku": "MIST", "quantity": 1}]
    manager.put("/api/v1/items/BUNDLE-FV/contents",
                json={"contents": [{"sku": "SERUM", "quantity": 2}]})
    assert api("front_desk").get("/api/v1/items/BUNDLE-FV").get_json()["contents"] == [
        {"sku": "SERUM", "quantity": 2}]
    for body, status, code in (
            ({"contents": [{"sku": "SERUM", "quantity": 1}, {"sku": "SERUM", "quantity": 1}]},
             422, "validation_error"),
            ({"contents": [{"sku": "NOPE", "quantity": 1}]}, 422, "unknown_item"),
            ({"contents": [{"sku": "BUNDLE-FV", "quantity": 1}]}, 422, "validation_error"),
            ({"contents": [{"sku": "SERUM", "quantity": 0}]}, 422, "validation_error")):
        refused = manager.put("/api/v1/items/BUNDLE-FV/contents", json=body)
        assert (refused.status_code, error_code(refused)) == (status, code), body
    not_bundle = manager.put("/api/v1/items/SERUM/contents", json={"contents": []})
    assert (not_bundle.status_code, error_code(not_bundle)) == (422, "validation_error")
    # The bundle is still not for sale: it leaves stock only through a treatment.
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "BUNDLE-FV", "quantity": 1}]})
    assert (sale.status_code, error_code(sale)) == (422, "not_for_sale")


def test_movements_are_paginated(app, api):
    make_item("CART-36", kind="supply", lots=[("C-1", 5, 300), ("C-2", 5, 300),
                                              ("C-3", 5, 300)])
    manager = api("manager")
    first = manager.get("/api/v1/items/CART-36/movements?per_page=2").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    assert [m["lot"] for m in first["items"]] == ["C-3", "C-2"]
    second = manager.get("/api/v1/items/CART-36/movements?per_page=2&page=2").get_json()
    assert [m["lot"] for m in second["items"]] == ["C-1"]
    bad = manager.get("/api/v1/items/CART-36/movements?per_page=500")
    assert (bad.status_code, error_code(bad)) == (422, "validation_error")


# -- packages ------------------------------------------------------------------------------

NEW_PACKAGE = {"code": "SCALP-4", "name": "Scalp series of 4", "area": "scalp", "sessions": 4,
               "price_cents": 110000, "min_days_between": 28, "max_days_between": 42,
               "supplies_per_session": [{"sku": "CART-36", "quantity": 1},
                                        {"sku": "HA-CLIN", "quantity": 3}]}


def test_a_manager_creates_a_package_listed_as_get_packages_lists_it(app, api):
    make_item("CART-36", kind="supply")
    make_item("HA-CLIN", kind="supply")
    response = api("manager").post("/api/v1/packages", json=NEW_PACKAGE)
    assert response.status_code == 201
    assert response.get_json() == {**NEW_PACKAGE, "active": True, "expected_treatments": None}
    listed = api("front_desk").get("/api/v1/packages").get_json()
    assert listed == [{**NEW_PACKAGE, "active": True, "expected_treatments": None}]
    again = api("manager").post("/api/v1/packages", json=NEW_PACKAGE)
    assert (again.status_code, error_code(again)) == (409, "conflict")


def test_package_input_is_validated(app, api):
    make_item("CART-36", kind="supply")
    make_item("HA-CLIN", kind="supply")
    manager = api("manager")
    for change, status, code, field in (
            ({"sessions": 0}, 422, "validation_error", "sessions"),
            ({"area": "knee"}, 422, "validation_error", "area"),
            ({"price_cents": -5}, 422, "validation_error", "price_cents"),
            ({"max_days_between": 10}, 422, "validation_error", "max_days_between"),
            ({"code": "bad code!"}, 422, "validation_error", "code"),
            ({"supplies_per_session": [{"sku": "CART-36", "quantity": 1},
                                       {"sku": "CART-36", "quantity": 2}]},
             422, "validation_error", "supplies_per_session"),
            ({"supplies_per_session": [{"sku": "NOPE", "quantity": 1}]}, 422, "unknown_item",
             None)):
        response = manager.post("/api/v1/packages", json={**NEW_PACKAGE, **change})
        assert (response.status_code, error_code(response)) == (status, code), change
        if field:
            assert field in fields(response), change
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Package)) == 0


def test_patching_a_package_changes_future_treatments_bill_and_can_deactivate_it(app, api):
    make_item("CART-36", kind="supply")
    make_item("GF-MASK", kind="supply")
    supplies_package("FACE-1", price_cents=30000)
    manager = api("manager")
    response = manager.patch("/api/v1/packages/FACE-1", json={
        "code": "FACE-1", "price_cents": 32000, "name": "Face, one session",
        "supplies_per_session": [{"sku": "GF-MASK", "quantity": 1},
                                 {"sku": "CART-36", "quantity": 2}]})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["price_cents"], body["name"], body["supplies_per_session"]) == (
        32000, "Face, one session", [{"sku": "GF-MASK", "quantity": 1},
                                     {"sku": "CART-36", "quantity": 2}])
    db.session.rollback()
    package = db.session.scalar(select(Package).where(Package.code == "FACE-1"))
    # What a treatment reads when it is recorded (pos/services/treatments.py).
    assert [(s.item.sku, s.quantity) for s in package.supplies] == [("GF-MASK", 1),
                                                                    ("CART-36", 2)]
    renamed = manager.patch("/api/v1/packages/FACE-1", json={"code": "FACE-9"})
    assert (renamed.status_code, error_code(renamed)) == (422, "validation_error")
    assert manager.patch("/api/v1/packages/NOPE", json={"name": "x"}).status_code == 404
    spacing = manager.patch("/api/v1/packages/FACE-1", json={"min_days_between": 50,
                                                            "max_days_between": 40})
    assert (spacing.status_code, error_code(spacing)) == (422, "validation_error")

    assert manager.patch("/api/v1/packages/FACE-1", json={"active": False}).json["active"] \
        is False
    desk = api("front_desk")
    assert desk.get("/api/v1/packages").get_json() == []
    assert [p["code"] for p in desk.get("/api/v1/packages?active=any").get_json()] == ["FACE-1"]
    sale = desk.post("/api/v1/sales", json={"payment": "cash",
                                           "lines": [{"package_code": "FACE-1", "quantity": 1}]})
    assert (sale.status_code, error_code(sale)) == (422, "unknown_item")


def test_a_package_created_inactive_is_not_for_sale(app, api):
    make_item("CART-36", kind="supply")
    make_item("HA-CLIN", kind="supply")
    created = api("manager").post("/api/v1/packages", json={**NEW_PACKAGE, "active": False})
    assert created.get_json()["active"] is False
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"package_code": "SCALP-4", "quantity": 1}]})
    assert (sale.status_code, error_code(sale)) == (422, "unknown_item")
