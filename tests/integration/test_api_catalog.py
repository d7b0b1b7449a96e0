"""The catalog and stock endpoints of API.md, exactly as the contract words them."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pos.domain.errors import ValidationFailed
from pos.extensions import db
from pos.models import IdempotencyRecord, Item, Package, StockMovement
from pos.services import catalog, clock
from tests.factories import make_item

ITEM_FIELDS = {"sku", "name", "kind", "unit", "price_cents", "on_hand", "held", "available",
               "reorder_point", "reorder_quantity", "status"}


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


NEW_ITEM = {"sku": "PEEL-1", "name": "Enzyme peel", "kind": "retail", "unit": "jar",
            "price_cents": 4200, "cost_cents": 1300, "reorder_point": 3,
            "reorder_quantity": 12, "taxable": True}


def test_items_list_every_item_with_its_stock_and_a_status(app, api):
    make_item("CART-36", kind="supply", reorder_point=20, lots=[("C-1", 60, 300)])
    make_item("GF-MASK", kind="supply", reorder_point=10, lots=[("G-1", 10, 300)])
    make_item("MIST-RET", kind="retail", reorder_point=6)
    response = api("front_desk").get("/api/v1/items")
    assert response.status_code == 200
    items = {row["sku"]: row for row in response.get_json()}
    assert set(items) == {"CART-36", "GF-MASK", "MIST-RET"}
    for row in items.values():
        assert set(row) >= ITEM_FIELDS
        assert row["available"] == row["on_hand"] - row["held"]
    assert (items["CART-36"]["on_hand"], items["CART-36"]["status"]) == (60, "ok")
    assert (items["GF-MASK"]["on_hand"], items["GF-MASK"]["status"]) == (10, "low")
    assert (items["MIST-RET"]["on_hand"], items["MIST-RET"]["status"]) == (0, "out")
    assert items["CART-36"]["kind"] == "supply" and items["MIST-RET"]["price_cents"] == 6500


def test_items_can_be_searched_and_filtered_by_kind(app, api):
    make_item("CART-36", kind="supply", name="Needle cartridge")
    make_item("MIST-RET", kind="retail", name="Copper mist")
    client = api("front_desk")
    assert [r["sku"] for r in client.get("/api/v1/items?q=needle").get_json()] == ["CART-36"]
    assert [r["sku"] for r in client.get("/api/v1/items?kind=retail").get_json()] == ["MIST-RET"]


def test_an_item_shows_its_lots_soonest_expiry_first(app, api):
    make_item("LIDO-23", kind="supply", lots=[("L-LATE", 5, 300), ("L-SOON", 2, 20),
                                              ("L-MID", 3, 100)])
    response = api("front_desk").get("/api/v1/items/LIDO-23")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= ITEM_FIELDS
    assert body["on_hand"] == 10
    assert [(lot["lot"], lot["expires_on"], lot["on_hand"]) for lot in body["lots"]] == [
        ("L-SOON", in_days(20), 2), ("L-MID", in_days(100), 3), ("L-LATE", in_days(300), 5)]


def test_an_unknown_item_is_404_not_found(app, api):
    response = api("front_desk").get("/api/v1/items/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_manager_creates_an_item_and_a_duplicate_sku_is_409(app, api):
    client = api("manager")
    response = client.post("/api/v1/items", json=NEW_ITEM)
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in NEW_ITEM} == NEW_ITEM
    assert (body["on_hand"], body["status"]) == (0, "out")
    again = client.post("/api/v1/items", json={**NEW_ITEM, "name": "Another peel"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"
    assert count(Item) == 1


def test_a_barcode_already_on_another_item_is_409_not_a_crash(app, api):
    client = api("manager")
    assert client.post("/api/v1/items", json={**NEW_ITEM, "barcode": "0123456789"}).status_code \
        == 201
    response = client.post("/api/v1/items", json={**NEW_ITEM, "sku": "PEEL-2",
                                                   "barcode": "0123456789"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "barcode_taken"
    assert "barcode" in response.get_json()["error"]["message"]
    assert count(Item) == 1


def test_receiving_returns_the_movement_and_the_new_on_hand(app, api):
    make_item("CART-36", kind="supply", lots=[("C-1", 5, 300)])
    response = api("manager").post("/api/v1/stock/receipts", json={
        "sku": "CART-36", "quantity": 10, "lot": "C-2", "expires_on": in_days(400),
        "unit_cost_cents": 450})
    assert response.status_code == 201
    body = response.get_json()
    assert body["on_hand"] == 15
    movement = db.session.get(StockMovement, body["movement_id"])
    assert (movement.qty_delta, movement.reason, movement.lot.code, movement.lot.unit_cost_cents) \
        == (10, "receipt", "C-2", 450)


def test_receiving_an_already_expired_lot_is_422_lot_expired(app, api):
    make_item("LIDO-23", kind="supply")
    response = api("manager").post("/api/v1/stock/receipts", json={
        "sku": "LIDO-23", "quantity": 5, "lot": "L-OLD", "expires_on": in_days(-1)})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "lot_expired"
    assert error["details"]["lot"] == "L-OLD"
    assert count(StockMovement) == 0


def test_adjustments_return_201_and_below_zero_is_409_insufficient_stock(app, api):
    make_item("GF-MASK", kind="supply", lots=[("G-1", 3, 300)])
    client = api("manager")
    response = client.post("/api/v1/stock/adjustments", json={
        "sku": "GF-MASK", "lot": "G-1", "qty_delta": -1, "reason": "damaged",
        "note": "torn pouch"})
    assert response.status_code == 201
    assert response.get_json()["on_hand"] == 2
    refused = client.post("/api/v1/stock/adjustments", json={
        "sku": "GF-MASK", "lot": "G-1", "qty_delta": -3, "reason": "count"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["sku"] == "GF-MASK"
    assert api("manager").get("/api/v1/items/GF-MASK").get_json()["on_hand"] == 2


def test_an_adjustment_reason_outside_the_list_is_422(app, api):
    make_item("GF-MASK", kind="supply", lots=[("G-1", 3, 300)])
    response = api("manager").post("/api/v1/stock/adjustments", json={
        "sku": "GF-MASK", "lot": "G-1", "qty_delta": -1, "reason": "stolen"})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["details"]["fields"]


def test_movements_are_the_ledger_newest_first_with_the_user(app, api, users):
    make_item("HA-CLIN", kind="supply", lots=[("H-1", 20, 300)])
    client = api("manager")
    client.post("/api/v1/stock/adjustments", json={"sku": "HA-CLIN", "lot": "H-1",
                                                   "qty_delta": -2, "reason": "damaged"})
    client.post("/api/v1/stock/receipts", json={"sku": "HA-CLIN", "quantity": 5, "lot": "H-2",
                                                "expires_on": in_days(200)})
    response = client.get("/api/v1/items/HA-CLIN/movements")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 50, 3)
    rows = body["items"]
    assert [(r["qty_delta"], r["reason"], r["lot"], r["user"]) for r in rows] == [
        (5, "receipt", "H-2", "manager@test.example"),
        (-2, "damaged", "H-1", "manager@test.example"),
        (20, "receipt", "H-1", None),
    ]
    assert rows[0]["id"] > rows[1]["id"] > rows[2]["id"]
    assert {"id", "at", "qty_delta", "reason", "lot", "reference", "user"} <= set(rows[0])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$", rows[0]["at"])


def test_packages_list_their_supplies_per_session(app, api):
    make_item("CART-36", kind="supply")
    make_item("GF-MASK", kind="supply")
    catalog.create_package(catalog.NewPackage("FACE-3", "Face series of 3", "face", 3, 79500, 28,
                                              42, (("CART-36", 1), ("GF-MASK", 1))), None)
    catalog.create_package(catalog.NewPackage("FACE-1", "Face single", "face", 1, 30000, 28, None,
                                              (("CART-36", 1),)), None)
    response = api("front_desk").get("/api/v1/packages")
    assert response.status_code == 200
    packages = {p["code"]: p for p in response.get_json()}
    assert packages["FACE-3"] == {
        "code": "FACE-3", "name": "Face series of 3", "area": "face", "sessions": 3,
        "price_cents": 79500, "min_days_between": 28, "max_days_between": 42, "active": True,
        "supplies_per_session": [{"sku": "CART-36", "quantity": 1},
                                 {"sku": "GF-MASK", "quantity": 1}],
        "expected_treatments": None}
    assert packages["FACE-1"]["max_days_between"] is None


def test_a_supply_listed_twice_in_a_package_is_refused_with_its_sku_and_nothing_changes(app):
    make_item("CART-36", kind="supply")
    make_item("GF-MASK", kind="supply")
    catalog.create_package(catalog.NewPackage("FACE-1", "Face single", "face", 1, 30000, 28,
                                              None, (("CART-36", 1),)), None)
    with pytest.raises(ValidationFailed) as refused:
        catalog.set_package_supplies("FACE-1", (("GF-MASK", 1), ("CART-36", 1), ("CART-36", 2)),
                                     None)
    assert refused.value.status == 422
    assert "CART-36" in refused.value.message
    db.session.rollback()
    package = db.session.scalar(select(Package).where(Package.code == "FACE-1"))
    assert [(line.item.sku, line.quantity) for line in package.supplies] == [("CART-36", 1)]


# Idempotency-Key

def test_the_same_idempotency_key_and_body_replays_the_first_response_and_creates_nothing(
        app, api):
    make_item("CART-36", kind="supply")
    client = api("manager")
    body = {"sku": "CART-36", "quantity": 10, "lot": "C-9", "expires_on": in_days(300)}
    first = client.post("/api/v1/stock/receipts", json=body,
                        headers={"Idempotency-Key": "receipt-abc"})
    second = client.post("/api/v1/stock/receipts", json=body,
                         headers={"Idempotency-Key": "receipt-abc"})
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json() == {"movement_id": first.get_json()[
        "movement_id"], "on_hand": 10}
    assert count(StockMovement) == 1
    assert client.get("/api/v1/items/CART-36").get_json()["on_hand"] == 10


def test_an_idempotency_key_reused_with_another_body_is_422(app, api):
    make_item("CART-36", kind="retail")  # retail: received without a lot
    client = api("manager")
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/stock/receipts", json={"sku": "CART-36", "quantity": 10},
                       headers=headers).status_code == 201
    response = client.post("/api/v1/stock/receipts", json={"sku": "CART-36", "quantity": 11},
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(StockMovement) == 1


def test_idempotent_item_creation_replays_201_without_a_409(app, api):
    client = api("manager")
    headers = {"Idempotency-Key": "create-peel"}
    first = client.post("/api/v1/items", json=NEW_ITEM, headers=headers)
    second = client.post("/api/v1/items", json=NEW_ITEM, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert count(Item) == 1


def test_a_refused_request_does_not_burn_its_idempotency_key(app, api):
    make_item("GF-MASK", kind="supply", lots=[("G-1", 1, 300)])
    client = api("manager")
    headers = {"Idempotency-Key": "adj-1"}
    body = {"sku": "GF-MASK", "lot": "G-1", "qty_delta": -2, "reason": "count"}
    assert client.post("/api/v1/stock/adjustments", json=body, headers=headers).status_code \
        == 409
    client.post("/api/v1/stock/receipts", json={"sku": "GF-MASK", "quantity": 1, "lot": "G-1",
                                                "expires_on": in_days(300)})
    retried = client.post("/api/v1/stock/adjustments", json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.get_json()["on_hand"] == 0
    assert count(IdempotencyRecord) == 1


# OpenAPI

def _rule_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", rule)


def _api_routes(app) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            routes.setdefault(_rule_to_openapi(rule.rule), set()).update(methods)
    return routes


def test_rule_conversion_turns_flask_converters_into_openapi_parameters():
    assert _rule_to_openapi("/api/v1/items/<sku>/movements") == "/api/v1/items/{sku}/movements"
    assert _rule_to_openapi("/api/v1/sales/<int:sale_id>/refunds") == \
        "/api/v1/sales/{sale_id}/refunds"


def test_openapi_is_3_1_and_documents_exactly_the_api_routes_of_the_app(sqlite_app):
    response = sqlite_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    documented = {path: {m for m in ops if m in {"get", "post", "put", "patch", "delete"}}
                  for path, ops in doc["paths"].items()}
    assert documented == _api_routes(sqlite_app)


def test_every_documented_operation_is_well_formed(sqlite_app):
    doc = sqlite_app.test_client().get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation["responses"], where
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|default", status), where
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{where} path parameters {declared} != {names}"
            if method == "post":
                assert any(s.startswith("2") for s in operation["responses"]), where
            for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"',
                                  json.dumps(operation)):
                assert ref in schemas, f"{where} refers to a missing schema {ref}"


@pytest.mark.parametrize(("path", "code"), [("/api/v1/items", 200), ("/api/v1/items/CART-36", 200),
                                            ("/api/v1/packages", 200)])
def test_documented_responses_match_what_the_server_sends(app, api, path, code):
    make_item("CART-36", kind="supply", lots=[("C-1", 1, 300)])
    doc = app.test_client().get("/api/openapi.json").get_json()
    template = _rule_to_openapi(path.replace("CART-36", "<sku>"))
    response = api("front_desk").get(path)
    assert response.status_code == code
    schema = doc["paths"][template]["get"]["responses"][str(code)]["content"][
        "application/json"]["schema"]
    body = response.get_json()
    item_schema = schema["items"] if schema.get("type") == "array" else schema
    rows = body if isinstance(body, list) else [body]
    for row in rows:
        assert set(item_schema["required"]) <= set(row)
        assert set(row) <= set(item_schema["properties"])
