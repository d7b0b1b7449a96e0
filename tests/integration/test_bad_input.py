"""Bad input, through the API and the forms: a clear 4xx naming the field, nothing written,
markup shown as text. And random JSON at every POST endpoint: never a 5xx."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pos.domain.errors import ValidationFailed
from pos.extensions import db
from pos.models import AuditEntry, Item, Lot, StockMovement
from pos.services import catalog, clock, stock
from tests.factories import make_item

SCRIPT = "<script>alert(1)</script>"
TEN_KB = "x" * 10_240


def written() -> tuple[int, int, int, int]:
    """How many items, lots, ledger rows and audit entries exist."""
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (Item, Lot, StockMovement, AuditEntry))  # type: ignore[return-value]


@pytest.fixture
def cartridges(app):  # type: ignore[no-untyped-def]
    return make_item("CART-36", kind="supply", lots=[("C-1", 5, 300)])


def assert_refused(response, field: str, status: int = 422, code: str = "validation_error"):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert field in error["message"]
    if code == "validation_error":
        assert field in error["details"]["fields"]
    return error


# Through the API

@pytest.mark.parametrize("quantity", [-1, 0, 1.5, "2", True, 10**12, None, [3], {"n": 1}])
def test_a_receipt_quantity_that_is_not_a_positive_whole_number_is_refused(app, api, cartridges,
                                                                           quantity):
    client = api("manager")
    before = written()
    response = client.post("/api/v1/stock/receipts",
                                   json={"sku": "CART-36", "quantity": quantity, "lot": "C-2"})
    assert_refused(response, "quantity")
    assert written() == before


@pytest.mark.parametrize("qty_delta", [0, 1.5, -1.5, "2", True, 10**12, -(10**12)])
def test_an_adjustment_that_is_not_a_nonzero_whole_number_is_refused(app, api, cartridges,
                                                                     qty_delta):
    client = api("manager")
    before = written()
    response = client.post("/api/v1/stock/adjustments", json={
        "sku": "CART-36", "lot": "C-1", "qty_delta": qty_delta, "reason": "count"})
    assert_refused(response, "qty_delta")
    assert written() == before


@pytest.mark.parametrize("price", [12.999, 12.5, "12.99", -1, 10**10 + 1, 10**12, False])
def test_a_price_that_is_not_whole_cents_in_range_is_refused(app, api, price):
    client = api("manager")
    before = written()
    response = client.post("/api/v1/items", json={
        "sku": "PEEL-1", "name": "Peel", "kind": "retail", "unit": "jar", "price_cents": price,
        "reorder_point": 1, "reorder_quantity": 1})
    assert_refused(response, "price_cents")
    assert written() == before


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("name", TEN_KB, "at most 120 characters"),
    ("name", SCRIPT, "HTML"),
    ("name", "Serum <img src=x onerror=alert(1)>", "HTML"),
    ("name", "Peel\ud800", "valid text"),
    ("name", "Peel\x00", "control characters"),
    ("unit", "<b>jar</b>", "HTML"),
    ("sku", "PEEL 1", "not allowed"),
    ("sku", "<PEEL>", "HTML"),
    ("kind", "service", "one of supply, retail, bundle"),
])
def test_item_text_that_is_too_long_or_holds_markup_is_refused_naming_the_field(
        app, api, field, value, problem):
    client = api("manager")
    before = written()
    body = {"sku": "PEEL-1", "name": "Peel", "kind": "retail", "unit": "jar",
            "price_cents": 100, "reorder_point": 1, "reorder_quantity": 1, field: value}
    error = assert_refused(client.post("/api/v1/items", json=body), field)
    assert problem in error["details"]["fields"][field]
    assert written() == before


def test_a_name_with_a_less_than_sign_that_is_not_markup_is_fine(app, api):
    response = api("manager").post("/api/v1/items", json={
        "sku": "PEEL-1", "name": "Peel for skin < 30 -> gentle", "kind": "retail",
        "unit": "jar", "price_cents": 100, "reorder_point": 1, "reorder_quantity": 1})
    assert response.status_code == 201


@pytest.mark.parametrize(("field", "value"), [("lot", SCRIPT), ("lot", TEN_KB),
                                              ("lot", "C\ud800"), ("sku", "CART\udfff"),
                                              ("sku", TEN_KB), ("expires_on", "2026-02-30"),
                                              ("expires_on", "next week"), ("expires_on", 20270101),
                                              ("unit_cost_cents", 12.999),
                                              ("unit_cost_cents", "4.50")])
def test_a_receipt_with_a_bad_field_is_refused_naming_it(app, api, cartridges, field, value):
    client = api("manager")
    before = written()
    body = {"sku": "CART-36", "quantity": 10, "lot": "C-2",
            "expires_on": (clock.today() + timedelta(days=300)).isoformat(), field: value}
    assert_refused(client.post("/api/v1/stock/receipts", json=body), field)
    assert written() == before


@pytest.mark.parametrize("path", ["/api/v1/stock/receipts", "/api/v1/stock/adjustments"])
def test_an_unknown_sku_is_422_unknown_item(app, api, cartridges, path):
    client = api("manager")
    before = written()
    body = {"sku": "NOPE-1", "lot": "C-1",
            **({"quantity": 1} if path.endswith("receipts") else
               {"qty_delta": 1, "reason": "found"})}
    response = client.post(path, json=body)
    error = assert_refused(response, "NOPE-1", code="unknown_item")
    assert error["details"]["sku"] == "NOPE-1"
    assert written() == before


@pytest.mark.parametrize("data", ["", "not json", "[1, 2]", '"text"', "null", "{", "1e999"])
def test_a_body_that_is_not_a_json_object_is_refused(app, api, cartridges, data):
    client = api("manager")
    before = written()
    response = client.client.post("/api/v1/stock/receipts", data=data, headers={
        **client.headers, "Content-Type": "application/json"})
    assert_refused(response, "body")
    assert written() == before


def test_an_expired_receipt_without_a_lot_number_says_so_plainly(app, api, cartridges):
    response = api("manager").post("/api/v1/stock/receipts", json={
        "sku": "CART-36", "quantity": 1,
        "expires_on": (clock.today() - timedelta(days=3)).isoformat()})
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert message.startswith("This stock expired on") and "None" not in message


def test_stock_beyond_what_the_database_can_count_is_refused_not_crashed(app, cartridges):
    before = written()
    with pytest.raises(ValidationFailed) as error:
        stock.adjust_stock(sku="CART-36", lot_code="C-1", qty_delta=2**31 - 3, reason="found",
                           note=None, user_id=None)
    assert "on hand" in error.value.message
    assert written() == before


def test_an_id_too_large_for_the_database_is_404_on_every_route(app, api, client, login_as):
    login_as("admin")
    checked = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", str(2**31), rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "x", url)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if rule.rule.startswith("/api/"):
                response = api("admin").client.open(url, method=method, json={},
                                                    headers=api("admin").headers)
            else:
                response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)
            checked.append(url)
    assert checked


# Through the forms

def csrf_token(client, url: str) -> str:  # type: ignore[no-untyped-def]
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def field_errors(html: str) -> dict[str, str]:
    """{input name: its error text} for each field shown with an error."""
    out = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', html, re.S):
        name = re.search(r'name="([^"]+)"', block).group(1)
        out[name] = " ".join(re.findall(r'<p class="error"[^>]*>([^<]*)</p>', block))
    return out


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"quantity": "-1"}, "quantity", "between 1 and"),
    ({"quantity": "0"}, "quantity", "between 1 and"),
    ({"quantity": "1.5"}, "quantity", "integer"),
    ({"quantity": "ten"}, "quantity", "integer"),
    ({"quantity": str(10**12)}, "quantity", "between 1 and"),
    ({"quantity": "1", "unit_cost": "12.999"}, "unit_cost", "more than two decimals"),
    ({"quantity": "1", "unit_cost": "-4"}, "unit_cost", "negative"),
    ({"quantity": "1", "unit_cost": "1e3"}, "unit_cost", "not an amount"),
    ({"quantity": "1", "lot": SCRIPT}, "lot", "HTML"),
    ({"quantity": "1", "lot": TEN_KB}, "lot", "60 characters"),
    ({"quantity": "1", "expires_on": "2026-02-30"}, "expires_on", "date"),
    ({"quantity": "1", "unit_cost": "100000000.01"}, "unit_cost", "largest amount"),
    ({"quantity": "1", "lot": "C-1", "expires_on": "2099-01-01"}, "expires_on",
     "already recorded with expiry"),
])
def test_the_receive_form_shows_the_error_next_to_the_field_and_writes_nothing(
        app, client, login_as, cartridges, form, field, message):
    login_as("manager")
    url = "/stock/items/CART-36/receive"
    before = written()
    response = client.post(url, data={**form, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert list(errors) == [field]
    assert message in errors[field]
    assert written() == before


def test_spaces_around_a_lot_number_in_the_form_are_the_same_lot(app, client, login_as,
                                                                 cartridges):
    login_as("manager")
    url = "/stock/items/CART-36/receive"
    expires = cartridges_lot_expiry()
    response = client.post(url, data={"quantity": "2", "lot": "  C-1 ", "expires_on": expires,
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    lots = stock.item_lots(db.session, db.session.scalar(select(Item)))
    assert [(r.lot.code, r.on_hand) for r in lots] == [("C-1", 7)]


def cartridges_lot_expiry() -> str:
    return db.session.scalar(select(Lot.expires_on).where(Lot.code == "C-1")).isoformat()


@pytest.mark.parametrize(("qty_delta", "message"), [("0", "must change"), ("1.5", "integer"),
                                                    (str(-(10**12)), "between")])
def test_the_adjust_form_shows_the_error_next_to_the_change(app, client, login_as, cartridges,
                                                            qty_delta, message):
    login_as("manager")
    url = "/stock/items/CART-36/adjust"
    before = written()
    response = client.post(url, data={"lot": "C-1", "qty_delta": qty_delta, "reason": "count",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert list(errors) == ["qty_delta"] and message in errors["qty_delta"]
    assert written() == before


def test_an_adjustment_below_zero_in_the_form_is_shown_next_to_the_change(app, client, login_as,
                                                                         cartridges):
    login_as("manager")
    url = "/stock/items/CART-36/adjust"
    before = written()
    response = client.post(url, data={"lot": "C-1", "qty_delta": "-6", "reason": "count",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 409
    assert "Not enough stock of CART-36" in field_errors(response.get_data(as_text=True))[
        "qty_delta"]
    assert written() == before


# Markup that is already in the data renders as text

def test_markup_in_names_and_lots_renders_inert_on_the_stock_pages(app, client, login_as):
    # Data from before the API refused markup, or typed straight into the database.
    catalog.create_item(catalog.NewItem("EVIL-1", SCRIPT + "<img src=x onerror=alert(2)>",
                                        "retail", "<b>jar</b>", 100, 0, 1, 1, True), None)
    stock.receive_stock(sku="EVIL-1", quantity=2, lot_code="<i>L</i>", expires_on=None,
                        unit_cost_cents=None, user_id=None)
    login_as("manager")
    for url in ("/stock/", "/stock/items/EVIL-1", "/stock/items/EVIL-1/receive",
                "/stock/items/EVIL-1/adjust", f"/stock/?q={SCRIPT}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
        assert "<img src=x" not in html and "<b>jar" not in html and "<i>L" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


# Random JSON at every POST endpoint

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _post_rules(app) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/") and "POST" in (rule.methods or ()))


def _documented_keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    doc = app.test_client().get("/api/openapi.json").get_json()
    keys: set[str] = set()

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in doc["paths"].values():
        for operation in operations.values():
            walk(operation.get("requestBody", {}))
    # The bodies are the input models, referred to from the components.
    walk({name: schema for name, schema in doc["components"]["schemas"].items()
          if name != "Error"})
    return sorted(keys)


def test_random_json_at_every_post_endpoint_never_gets_a_5xx(app, api, cartridges):
    rules = _post_rules(app)
    assert "/api/v1/stock/receipts" in rules and "/api/v1/items" in rules
    keys = _documented_keys(app)
    assert {"sku", "quantity", "qty_delta"} <= set(keys)
    client = api("admin")
    bodies = json_values | st.dictionaries(st.sampled_from(keys) | st.text(max_size=8),
                                           json_values, max_size=6)

    @settings(max_examples=250, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(rule=st.sampled_from(rules), body=bodies,
           number=st.sampled_from(["1", "0", "2147483648", "99999999999999999999"]))
    def post_anything(rule: str, body, number: str) -> None:  # type: ignore[no-untyped-def]
        url = re.sub(r"<int:\w+>", number, rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "CART-36", url)
        response = client.post(url, json=body)
        assert response.status_code < 500, (url, body, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert "error" in response.get_json()

    post_anything()


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_the_stock_forms_render_and_validate_without_deprecated_wtforms_calls(app, client,
                                                                              login_as,
                                                                              cartridges):
    login_as("manager")
    for url in ("/stock/items/CART-36/receive", "/stock/items/CART-36/adjust"):
        assert client.get(url).status_code == 200
        assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 422
    html = client.get("/stock/items/CART-36/adjust").get_data(as_text=True)
    assert '<option value="C-1">C-1 (5 on hand)</option>' in html
    assert '<option value="damaged">Damaged</option>' in html
