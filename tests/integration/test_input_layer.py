"""The typed input layer (issue 10, item 1): the six roads that reached a 5xx now answer
422 naming the field, on SQLite and PostgreSQL; the largest price is stored exactly; the
role is checked before the body; the OpenAPI document states the server's limits."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from pos.domain.limits import MAX_AMOUNT_CENTS, MAX_ID, MAX_QUANTITY
from pos.extensions import db
from pos.models import Client, Item, Sale, SaleLine, Treatment
from tests.factories import make_item
from tests.fixtures_clinical import all_clear, make_series_purchase, treatment_body
from tests.fixtures_clinical import make_client as make_clinical_client

INT32_MAX = 2_147_483_647
JANE = {"first_name": "Jane", "last_name": "Smith"}


def fields_of(response, status: int = 422, code: str = "validation_error"):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error["details"].get("fields", {})


def raw_post(api, role: str, path: str, text: str):  # type: ignore[no-untyped-def]
    client = api(role)
    return client.client.post(path, data=text.encode("utf-8", "surrogatepass"), headers={
        **client.headers, "Content-Type": "application/json"})


def count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# -- road 1: deeply nested JSON -------------------------------------------------------------

@pytest.mark.parametrize("depth", [33, 5_000, 200_000])
def test_deeply_nested_json_is_a_422_not_a_recursion_error(app, api, depth):
    body = '{"lines": ' + "[" * depth + "]" * depth + ', "payment": "cash"}'
    fields = fields_of(raw_post(api, "front_desk", "/api/v1/sales", body))
    assert fields == {"body": "nests deeper than 32 levels"}
    assert count(Sale) == 0


def test_json_nested_within_the_limit_is_read_and_judged_by_its_fields(app, api):
    body = '{"lines": ' + "[" * 31 + "]" * 31 + ', "payment": "cash"}'
    fields = fields_of(raw_post(api, "front_desk", "/api/v1/sales", body))
    assert "lines[0]" in fields and "body" not in fields


# -- road 2: NUL byte in text ---------------------------------------------------------------

@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/clients", {**JANE, "first_name": "Ja\x00ne"}, "first_name"),
    ("/api/v1/clients", {**JANE, "phone": "555\x00"}, "phone"),
    ("/api/v1/items", {"sku": "PEEL-1", "name": "Peel\x00", "kind": "retail", "unit": "jar",
                       "price_cents": 100, "reorder_point": 1, "reorder_quantity": 1}, "name"),
    ("/api/v1/sales", {"lines": [{"sku": "SER\x00UM", "quantity": 1}], "payment": "cash"},
     "lines[0].sku"),
    ("/api/v1/sales", {"lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash",
                       "discount_code": "\x00"}, "discount_code"),
])
def test_a_nul_byte_in_text_is_a_422_naming_the_field(app, api, path, body, field):
    before = (count(Client), count(Item), count(Sale))
    fields = fields_of(api("admin").post(path, json=body))
    assert fields == {field: "must not contain control characters"}
    assert (count(Client), count(Item), count(Sale)) == before


def test_a_nul_byte_in_a_query_or_a_path_is_refused_not_sent_to_the_database(app, api):
    desk = api("manager")
    assert fields_of(desk.get("/api/v1/clients?q=sm%00ith")) == {
        "q": "must not contain control characters"}
    assert fields_of(desk.get("/api/v1/items?q=%00")) == {
        "q": "must not contain control characters"}
    for path in ("/api/v1/items/SER%00UM", "/api/v1/items/SER%00UM/movements",
                 "/api/v1/lots/L%00T/treatments"):
        response = desk.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


# -- road 3: lone surrogates ----------------------------------------------------------------

@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\ud83d"])
def test_a_lone_surrogate_is_a_422_naming_the_field(app, api, escape):
    body = '{"first_name": "Ja' + escape + '", "last_name": "Smith"}'
    fields = fields_of(raw_post(api, "front_desk", "/api/v1/clients", body))
    assert fields == {"first_name": "must be valid text (UTF-8)"}
    assert count(Client) == 0


def test_bytes_that_are_not_utf8_are_a_422(app, api):
    client = api("front_desk")
    response = client.client.post("/api/v1/clients", data=b'{"first_name": "\xff"}',
                                  headers={**client.headers,
                                           "Content-Type": "application/json"})
    assert fields_of(response) == {"body": "not a JSON object"}


# -- road 4: dates that overflow ------------------------------------------------------------

@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_a_receipt_expiry_outside_1900_2199_is_a_422(app, api, day):
    make_item("CART", kind="supply")
    fields = fields_of(api("manager").post("/api/v1/stock/receipts", json={
        "sku": "CART", "quantity": 1, "lot": "C-9", "expires_on": day}))
    assert fields == {"expires_on": "must be a date YYYY-MM-DD between 1900-01-01 and "
                                    "2199-12-31"}


def test_the_edges_of_the_date_range_are_read_as_dates(app, api):
    make_item("CART", kind="supply")
    late = api("manager").post("/api/v1/stock/receipts", json={
        "sku": "CART", "quantity": 1, "lot": "C-2", "expires_on": "2199-12-31"})
    assert late.status_code == 201, late.get_json()
    # 1900-01-01 is a date, so the business rule answers, not the validation.
    early = api("manager").post("/api/v1/stock/receipts", json={
        "sku": "CART", "quantity": 1, "lot": "C-1", "expires_on": "1900-01-01"})
    assert early.get_json()["error"]["code"] == "lot_expired"


def test_a_botox_date_of_9999_12_31_is_refused_not_overflowed(app, api, clinic_stock):
    client = make_clinical_client()
    purchase = make_series_purchase(client, "FACE-3")
    body = treatment_body(client.id, purchase.id,
                          screening=all_clear(last_botox_on="9999-12-31"))
    response = api("provider").post("/api/v1/treatments", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["invalid"] == ["last_botox_on"]
    body = treatment_body(client.id, purchase.id, performed_at="9999-12-31T23:59:59+14:00")
    fields = fields_of(api("provider").post("/api/v1/treatments", json=body))
    assert list(fields) == ["performed_at"]
    assert count(Treatment) == 0


# -- road 5: amounts beyond the limit, and the old INTEGER overflow -------------------------

@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/items", {"sku": "PEEL-1", "name": "Peel", "kind": "retail", "unit": "jar",
                       "price_cents": MAX_AMOUNT_CENTS + 1, "reorder_point": 1,
                       "reorder_quantity": 1}, "price_cents"),
    ("/api/v1/sales", {"lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash",
                       "cash_tendered_cents": MAX_AMOUNT_CENTS + 1}, "cash_tendered_cents"),
    ("/api/v1/sales", {"lines": [{"sku": "SERUM", "quantity": MAX_QUANTITY + 1}],
                       "payment": "cash"}, "lines[0].quantity"),
    ("/api/v1/sales", {"lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash",
                       "client_id": MAX_ID + 1}, "client_id"),
])
def test_an_amount_quantity_or_id_over_its_limit_is_a_422_naming_it(app, api, path, body,
                                                                    field):
    fields = fields_of(api("admin").post(path, json=body))
    assert list(fields) == [field]


def test_the_largest_old_integer_price_is_stored_and_sold_exactly(app, api):
    manager = api("manager")
    created = manager.post("/api/v1/items", json={
        "sku": "GOLD-1", "name": "Gold serum", "kind": "retail", "unit": "jar",
        "price_cents": INT32_MAX, "cost_cents": INT32_MAX + 1, "reorder_point": 0,
        "reorder_quantity": 0})
    assert created.status_code == 201, created.get_json()
    item = manager.get("/api/v1/items/GOLD-1").get_json()
    assert (item["price_cents"], item["cost_cents"]) == (INT32_MAX, INT32_MAX + 1)
    assert manager.post("/api/v1/stock/receipts", json={
        "sku": "GOLD-1", "quantity": 10, "lot": "G-1"}).status_code == 201
    sold = manager.post("/api/v1/sales", json={
        "lines": [{"sku": "GOLD-1", "quantity": 4}], "payment": "cash",
        "cash_tendered_cents": 4 * INT32_MAX})
    assert sold.status_code == 201, sold.get_json()
    sale = manager.get(f"/api/v1/sales/{sold.get_json()['id']}").get_json()
    assert (sale["subtotal_cents"], sale["total_cents"], sale["lines"][0]["total_cents"]) \
        == (4 * INT32_MAX, 4 * INT32_MAX, 4 * INT32_MAX)
    assert sale["change_cents"] == 0


def test_selling_enough_to_pass_the_limit_is_422_amount_too_large(app, api):
    manager = api("manager")
    manager.post("/api/v1/items", json={
        "sku": "GOLD-1", "name": "Gold serum", "kind": "retail", "unit": "jar",
        "price_cents": INT32_MAX, "reorder_point": 0, "reorder_quantity": 0})
    manager.post("/api/v1/stock/receipts", json={"sku": "GOLD-1", "quantity": 10,
                                                 "lot": "G-1"})
    response = manager.post("/api/v1/sales", json={
        "lines": [{"sku": "GOLD-1", "quantity": 5}], "payment": "cash"})
    fields_of(response, code="amount_too_large")
    details = response.get_json()["error"]["details"]
    assert details == {"subtotal_cents": 5 * INT32_MAX, "max_cents": MAX_AMOUNT_CENTS}
    assert (count(Sale), count(SaleLine)) == (0, 0)


def test_a_total_that_only_tax_pushes_over_the_limit_is_amount_too_large(app, api):
    # 10,000,000,000 cents exactly, taxed at the test rate: the subtotal fits, the total not.
    make_item("BIG", price_cents=MAX_AMOUNT_CENTS, taxable=True, lots=[("B-1", 2, None)])
    response = api("front_desk").post("/api/v1/sales", json={
        "lines": [{"sku": "BIG", "quantity": 1}], "payment": "cash"})
    assert fields_of(response, code="amount_too_large") == {}
    assert "total_cents" in response.get_json()["error"]["details"]
    assert count(Sale) == 0


# -- the shape of the contract --------------------------------------------------------------

def test_the_role_is_checked_before_the_body_is_read(app, api):
    for body in ("{", '{"lines": ' + "[" * 1000 + "]" * 1000 + "}", '{"x": "\\u0000"}'):
        response = raw_post(api, "front_desk", "/api/v1/items", body)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("body", "field", "problem"), [
    ({"lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash", "tip": 5}, "tip",
     "is not a known field"),
    ({"lines": [{"sku": "SERUM", "quantity": 1, "price_cents": 1}], "payment": "cash"},
     "lines[0].price_cents", "is not a known field"),
    ({"lines": [{"sku": "SERUM", "package_code": "FACE-3", "quantity": 1}],
      "payment": "cash"}, "lines[0]", "needs exactly one of sku and package_code"),
    ({"lines": [{"sku": "SERUM", "quantity": True}], "payment": "cash"},
     "lines[0].quantity", "must be a whole number"),
    ({"lines": [{"sku": "SERUM", "quantity": "1"}], "payment": "cash"},
     "lines[0].quantity", "must be a whole number"),
    ({"lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cheque"}, "payment",
     "must be one of cash, card, terminal"),
    ({"lines": [], "payment": "cash"}, "lines", "must not be empty"),
    ({"payment": "cash"}, "lines", "is required"),
])
def test_a_strict_sale_body_names_each_bad_field(app, api, body, field, problem):
    fields = fields_of(api("front_desk").post("/api/v1/sales", json=body))
    assert fields == {field: problem}


def _resolve(doc, schema):  # type: ignore[no-untyped-def]
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_the_openapi_document_states_the_limits_the_server_enforces(app, client):
    doc = client.get("/api/openapi.json").get_json()
    sale = _resolve(doc, doc["paths"]["/api/v1/sales"]["post"]["requestBody"]["content"][
        "application/json"]["schema"])
    assert sale["additionalProperties"] is False
    # `payment` (one tender) or `payments` (several), exactly one (issue 14).
    assert set(sale["required"]) == {"lines"}
    assert sale["oneOf"] == [{"required": ["payment"]}, {"required": ["payments"]}]
    assert sale["properties"]["lines"]["minItems"] == 1
    line = _resolve(doc, sale["properties"]["lines"]["items"])
    assert line["additionalProperties"] is False
    assert (line["properties"]["quantity"]["minimum"],
            line["properties"]["quantity"]["maximum"]) == (1, MAX_QUANTITY)
    tendered = sale["properties"]["cash_tendered_cents"]["anyOf"][0]
    assert (tendered["minimum"], tendered["maximum"]) == (0, MAX_AMOUNT_CENTS)
    client_id = sale["properties"]["client_id"]["anyOf"][0]
    assert client_id["maximum"] == MAX_ID
    discount = sale["properties"]["discount_code"]["anyOf"][0]
    assert discount["maxLength"] == 40 and discount["pattern"]
    # Every JSON body of the API is a closed object, and every text field has a length
    # (the CSV imports' text/csv bodies are held to a maxLength).
    bodies = [op["requestBody"]["content"]["application/json"]["schema"]
              for ops in doc["paths"].values() for op in ops.values()
              if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert all(op["requestBody"]["content"]["text/csv"]["schema"]["maxLength"]
               for ops in doc["paths"].values() for op in ops.values()
               if "text/csv" in op.get("requestBody", {}).get("content", {}))
    assert len(bodies) >= 7
    for name, schema in doc["components"]["schemas"].items():
        if name == "Error":
            continue
        assert schema["additionalProperties"] is False, name
        for prop, spec in schema["properties"].items():
            for branch in spec.get("anyOf", [spec]):
                if branch.get("type") == "string" and not {"format", "enum"} & set(branch):
                    assert "maxLength" in branch or "pattern" in branch, (name, prop)
    clients_get = doc["paths"]["/api/v1/clients"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("maxLength") for p in clients_get
            if p["in"] == "query"} == {"q": 200, "page": None, "per_page": None}
    assert re.search(r"2\[01\]", json.dumps(doc["paths"]["/api/v1/reports/monthly"]))


# -- the desk speaks the same model ---------------------------------------------------------

def desk_post(client, path: str, body):  # type: ignore[no-untyped-def]
    page = client.get("/checkout").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post(path, json=body, headers={"X-CSRFToken": csrf})


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [{"sku": "SERUM", "quantity": MAX_QUANTITY + 1}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SERUM", "quantity": 1}], "coupon": "X"}, "coupon"),
    ({"lines": [{"sku": "SE\x00RUM", "quantity": 1}]}, "lines[0].sku"),
    ({"lines": [{"sku": "SERUM", "quantity": 1}], "client_id": str(MAX_ID + 1)}, "client_id"),
])
def test_the_desk_cart_is_held_to_the_same_model(app, client, login_as, body, field):
    make_item("SERUM", lots=[("S-1", 5, None)])
    login_as("front_desk")
    assert list(fields_of(desk_post(client, "/desk/quote", body))) == [field]


def test_the_desk_refuses_a_sale_over_the_limit_as_amount_too_large(app, client, login_as):
    make_item("BIG", price_cents=MAX_AMOUNT_CENTS // 2 + 1, taxable=False,
              lots=[("B-1", 5, None)])
    login_as("front_desk")
    response = desk_post(client, "/desk/sales", {
        "lines": [{"sku": "BIG", "quantity": "2"}], "payment": "cash"})
    fields_of(response, code="amount_too_large")
    assert count(Sale) == 0


# -- pages: query strings and path parts ----------------------------------------------------

def test_a_page_refuses_a_nul_in_the_query_and_does_not_match_one_in_the_path(
        app, client, login_as):
    make_item("CART", kind="supply", lots=[("C-1", 5, 300)])
    login_as("admin")
    response = client.get("/stock/?q=%00")
    assert response.status_code == 422
    assert "q must not contain control characters" in response.get_data(as_text=True)
    for url in ("/stock/items/CA%00RT", "/stock/items/CA%00RT/receive",
                "/packages/CA%00RT/supplies"):
        assert client.get(url).status_code == 404, url
    assert client.get("/stock/items/CART").status_code == 200


def test_a_drawer_page_number_or_id_out_of_range_is_no_error(app, client, login_as):
    login_as("front_desk")
    response = client.get("/drawers?page=99999999999999999999999")
    assert response.status_code == 200
    assert "No drawer yet." in response.get_data(as_text=True)
    assert client.get("/drawers/99999999999999/report").status_code == 404
    assert client.get("/drawers/2147483647/report").status_code == 404
