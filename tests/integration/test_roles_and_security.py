"""Who may do what, for EVERY route of the app, and the web's security basics.

The role matrix reads each view's `minimum_role` (set by pos.web.access.role_required for
pages and pos.web.api.requires for the API), so routes added later are covered without
touching this file.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from pos.domain.roles import Role, parse_roles, roles_allow
from pos.extensions import csrf
from pos.web.api import PUBLIC_ENDPOINTS
from tests.factories import PASSWORD, make_item, signed_in

SINGLE_ROLES = [r.value for r in Role]
# A provider who is also the manager, and a front-desk person who is also the admin: one
# combination that holds clinical rights and one that does not.
COMBINED_ROLES = ["provider+manager", "front_desk+admin"]
ROLES = [*SINGLE_ROLES, *COMBINED_ROLES]
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Ids that name nothing: the matrix must not deactivate its own users or revoke its tokens.
ABSENT_IDS = {"user_id": "999999", "token_id": "999999"}

# Every route of the app and who may use it (None: public, or any signed-in user). A new
# route fails the matrix until it is written here, next to the others, for review.
ROUTE_ROLES: dict[str, str | None] = {
    "GET /": None,
    "GET /api/v1/gift-cards/<code>": "front_desk",
    "GET /desk/gift-cards": "front_desk",
    "POST /desk/gift-cards": "front_desk",
    "GET /api/v1/suppliers": "manager",
    "POST /api/v1/suppliers": "manager",
    "PATCH /api/v1/suppliers/<int:supplier_id>": "manager",
    "GET /api/v1/purchase-orders": "manager",
    "POST /api/v1/purchase-orders": "manager",
    "POST /api/v1/purchase-orders/from-reorder": "manager",
    "GET /api/v1/purchase-orders/<int:order_id>": "manager",
    "PATCH /api/v1/purchase-orders/<int:order_id>": "manager",
    "POST /api/v1/purchase-orders/<int:order_id>/send": "manager",
    "POST /api/v1/purchase-orders/<int:order_id>/receipts": "manager",
    "POST /api/v1/purchase-orders/<int:order_id>/cancel": "manager",
    "POST /api/v1/stock/counts": "manager",
    "GET /api/v1/locations": "admin",
    "POST /api/v1/locations": "admin",
    "POST /api/v1/stock/transfers": "manager",
    "GET /admin/locations": "admin",
    "POST /admin/locations": "admin",
    "POST /admin/locations/home": "admin",
    "GET /stock/transfers": "manager",
    "POST /stock/transfers": "manager",
    "PATCH /api/v1/lots/<lot>": "manager",
    "GET /purchasing/suppliers": "manager",
    "POST /purchasing/suppliers": "manager",
    "GET /purchasing/suppliers/<int:supplier_id>/edit": "manager",
    "POST /purchasing/suppliers/<int:supplier_id>/edit": "manager",
    "GET /purchasing/orders": "manager",
    "POST /purchasing/orders/new": "manager",
    "POST /purchasing/orders/from-reorder": "manager",
    "GET /purchasing/orders/<int:order_id>": "manager",
    "GET /purchasing/orders/<int:order_id>/print": "manager",
    "GET /purchasing/orders/<int:order_id>/edit": "manager",
    "POST /purchasing/orders/<int:order_id>/edit": "manager",
    "POST /purchasing/orders/<int:order_id>/send": "manager",
    "POST /purchasing/orders/<int:order_id>/cancel": "manager",
    "GET /purchasing/orders/<int:order_id>/receive": "manager",
    "POST /purchasing/orders/<int:order_id>/receive": "manager",
    "GET /purchasing/counts": "manager",
    "POST /purchasing/counts": "manager",
    "GET /purchasing/counts/sheet": "manager",
    "GET /purchasing/lots/<sku>/<lot>/expiry": "manager",
    "POST /purchasing/lots/<sku>/<lot>/expiry": "manager",
    "GET /admin/audit": "admin",
    "POST /admin/tokens/<int:token_id>/revoke": "admin",
    "GET /admin/users": "admin",
    "POST /admin/users": "admin",
    "GET /admin/users/<int:user_id>": "admin",
    "POST /admin/users/<int:user_id>/deactivate": "admin",
    "POST /admin/users/<int:user_id>/password-reset": "admin",
    "POST /admin/users/<int:user_id>/reactivate": "admin",
    "POST /admin/users/<int:user_id>/roles": "admin",
    "POST /admin/users/<int:user_id>/tokens": "admin",
    "GET /admin/settings": "admin",
    "POST /admin/settings": "admin",
    "GET /alerts/": "manager",
    "POST /alerts/<int:alert_id>/acknowledge": "manager",
    "GET /alerts/reorder": "manager",
    "GET /alerts/reorder.csv": "manager",
    "POST /alerts/reorder/expected-treatments": "manager",
    "GET /backoffice/discount-codes": "manager",
    "POST /backoffice/discount-codes": "manager",
    "POST /backoffice/discount-codes/<int:code_id>/active": "manager",
    "GET /backoffice/import": "manager",
    "POST /backoffice/import": "manager",
    "GET /api/openapi.json": None,
    "GET /api/v1/alerts": "manager",
    "POST /api/v1/alerts/<int:alert_id>/acknowledge": "manager",
    "GET /api/v1/audit": "admin",
    "GET /api/v1/clients": "front_desk",
    "POST /api/v1/clients": "front_desk",
    "GET /api/v1/clients/<int:client_id>": "front_desk",
    "PATCH /api/v1/clients/<int:client_id>": "front_desk",
    "GET /api/v1/clients/<int:client_id>/credit": "front_desk",
    "POST /api/v1/clients/<int:client_id>/merge": "manager",
    "GET /api/v1/discount-codes": "manager",
    "POST /api/v1/discount-codes": "manager",
    "PATCH /api/v1/discount-codes/<int:code_id>": "manager",
    "POST /api/v1/imports/clients": "manager",
    "POST /api/v1/imports/items": "manager",
    "GET /api/v1/drawers": "front_desk",
    "POST /api/v1/drawers": "front_desk",
    "GET /api/v1/drawers/<int:drawer_id>": "front_desk",
    "POST /api/v1/drawers/<int:drawer_id>/close": "front_desk",
    "POST /api/v1/drawers/<int:drawer_id>/movements": "front_desk",
    "POST /api/v1/drawers/<int:drawer_id>/reopen": "manager",
    "GET /api/v1/drawers/current": "front_desk",
    "GET /api/v1/items": "front_desk",
    "POST /api/v1/items": "manager",
    "GET /api/v1/items/<sku>": "front_desk",
    "GET /api/v1/items/<sku>/movements": "manager",
    "PATCH /api/v1/items/<sku>": "manager",
    "PUT /api/v1/items/<sku>/contents": "manager",
    "POST /api/v1/packages": "manager",
    "PATCH /api/v1/packages/<code>": "manager",
    "PUT /api/v1/packages/<code>/expected-treatments": "manager",
    "GET /api/v1/reorder": "manager",
    "GET /api/v1/lots/<lot>/treatments": "manager",
    "POST /api/v1/me/password": "front_desk",
    "PUT /api/v1/me/pin": "front_desk",
    "GET /api/v1/packages": "front_desk",
    "GET /api/v1/parked-sales": "front_desk",
    "POST /api/v1/parked-sales": "front_desk",
    "DELETE /api/v1/parked-sales/<int:parked_id>": "front_desk",
    "POST /api/v1/parked-sales/<int:parked_id>/resume": "front_desk",
    "GET /api/v1/reports/monthly": "manager",
    "GET /api/v1/sales": "front_desk",
    "POST /api/v1/sales": "front_desk",
    "GET /api/v1/sales/<int:sale_id>": "front_desk",
    "POST /api/v1/sales/<int:sale_id>/cancel": "front_desk",
    "POST /api/v1/sales/<int:sale_id>/terminal/retry": "front_desk",
    "POST /api/v1/sales/<int:sale_id>/terminal/cancel": "front_desk",
    "GET /api/v1/terminal/readers": "front_desk",
    "GET /terminal/readers": "manager",
    "POST /terminal/readers": "manager",
    "POST /sales/<int:sale_id>/terminal/retry": "front_desk",
    "POST /demo-terminal/<int:sale_id>": "front_desk",
    "POST /api/v1/terminal/readers": "manager",
    "POST /api/v1/sales/<int:sale_id>/payments": "front_desk",
    "POST /api/v1/sales/<int:sale_id>/receipt-email": "front_desk",
    "POST /api/v1/sales/<int:sale_id>/refunds": "manager",
    "POST /api/v1/sales/<int:sale_id>/void": "manager",
    "GET /api/v1/settings": "admin",
    "PATCH /api/v1/settings": "admin",
    "POST /api/v1/stock/adjustments": "manager",
    "POST /api/v1/stock/receipts": "manager",
    "GET /api/v1/today": "provider",
    "DELETE /api/v1/tokens/<int:token_id>": "front_desk",
    "POST /api/v1/treatments": "provider",
    "GET /api/v1/screening/questionnaire": "provider",
    "GET /api/v1/consent-form": "provider",
    "GET /api/v1/aftercare-sheet": "provider",
    "POST /api/v1/aftercare-sheet": "provider+manager",
    "GET /aftercare-sheet": "provider",
    "POST /aftercare-sheet": "provider+manager",
    "POST /api/v1/consent-form": "provider+manager",
    "GET /api/v1/clients/<int:client_id>/consents": "provider",
    "POST /api/v1/clients/<int:client_id>/consents": "provider",
    "GET /clients/<int:client_id>/consent": "provider",
    "POST /clients/<int:client_id>/consent": "provider",
    "GET /clients/<int:client_id>/consents/<int:consent_id>": "provider",
    "GET /consent-form": "provider",
    "POST /consent-form": "provider+manager",
    "POST /api/v1/screening/questionnaire": "provider+manager",
    "GET /screening/questionnaire": "provider",
    "POST /screening/questionnaire": "provider+manager",
    "GET /api/v1/treatments/<int:treatment_id>/screening": "provider",
    "POST /api/v1/treatments/<int:treatment_id>/void": "provider",
    "GET /api/v1/users": "admin",
    "POST /api/v1/users": "admin",
    "PATCH /api/v1/users/<int:user_id>": "admin",
    "POST /api/v1/users/<int:user_id>/password-reset": "admin",
    "GET /api/v1/users/<int:user_id>/tokens": "admin",
    "POST /api/v1/users/<int:user_id>/tokens": "admin",
    "GET /checkout": "front_desk",
    "GET /clients": "front_desk",
    "POST /clients": "front_desk",
    "GET /clients/<int:client_id>": "front_desk",
    "GET /clients/<int:client_id>/edit": "front_desk",
    "POST /clients/<int:client_id>/edit": "front_desk",
    "GET /clients/<int:client_id>/merge": "manager",
    "POST /clients/<int:client_id>/merge": "manager",
    "GET /clients/<int:client_id>/treatments": "provider",
    "POST /clients/<int:client_id>/treatments": "provider",
    "GET /clients/<int:client_id>/treatments/<int:treatment_id>/screening": "provider",
    "POST /clients/<int:client_id>/treatments/<int:treatment_id>/void": "provider",
    "GET /demo-pay/<session_id>": "front_desk",
    "POST /demo-pay/<session_id>": "front_desk",
    "PUT /desk/cart": "front_desk",
    "POST /desk/cart/park": "front_desk",
    "GET /desk/catalog.json": "front_desk",
    "POST /desk/clients": "front_desk",
    "GET /desk/clients.json": "front_desk",
    "GET /desk/parked": "front_desk",
    "POST /desk/parked/<int:parked_id>/discard": "front_desk",
    "POST /desk/parked/<int:parked_id>/resume": "front_desk",
    "POST /desk/quote": "front_desk",
    "POST /desk/sales": "front_desk",
    "GET /desk/sales/<int:sale_id>/status.json": "front_desk",
    "GET /drawers": "front_desk",
    "POST /drawers/<int:drawer_id>/close": "front_desk",
    "POST /drawers/<int:drawer_id>/movements": "front_desk",
    "POST /drawers/<int:drawer_id>/reopen": "manager",
    "GET /drawers/<int:drawer_id>/report": "front_desk",
    "POST /drawers/open": "front_desk",
    "GET /healthz": None,
    "GET /login": None,
    "POST /login": None,
    "POST /login/pin": None,
    "POST /logout": None,
    "GET /me/password": "front_desk",
    "POST /me/password": "front_desk",
    "GET /me/pin": "front_desk",
    "POST /me/pin": "front_desk",
    "GET /packages": "manager",
    "GET /packages/<code>/supplies": "manager",
    "POST /packages/<code>/supplies": "manager",
    "GET /payments/cancelled": None,
    "GET /payments/done": None,
    "GET /recall": "manager",
    "GET /recall.csv": "manager",
    "GET /reports/": "manager",
    "GET /reports/monthly": "manager",
    "GET /reports/monthly.csv": "manager",
    "GET /sales/<int:sale_id>": "front_desk",
    "POST /sales/<int:sale_id>/cancel": "front_desk",
    "POST /sales/<int:sale_id>/payments": "front_desk",
    "GET /sales/<int:sale_id>/receipt": "front_desk",
    "POST /sales/<int:sale_id>/receipt-email": "front_desk",
    "POST /sales/<int:sale_id>/refunds": "manager",
    "POST /sales/<int:sale_id>/take-cash": "front_desk",
    "POST /sales/<int:sale_id>/void": "manager",
    "GET /set-password": None,
    "POST /set-password": None,
    "GET /catalog/": "manager",
    "GET /catalog/items/new": "manager",
    "POST /catalog/items/new": "manager",
    "GET /catalog/items/<sku>/edit": "manager",
    "POST /catalog/items/<sku>/edit": "manager",
    "GET /catalog/items/<sku>/contents": "manager",
    "POST /catalog/items/<sku>/contents": "manager",
    "GET /catalog/packages": "manager",
    "GET /catalog/packages/new": "manager",
    "POST /catalog/packages/new": "manager",
    "GET /catalog/packages/<code>/edit": "manager",
    "POST /catalog/packages/<code>/edit": "manager",
    "GET /stock/": "front_desk",
    "GET /stock/items/<sku>": "front_desk",
    "GET /stock/items/<sku>/adjust": "manager",
    "POST /stock/items/<sku>/adjust": "manager",
    "GET /stock/items/<sku>/receive": "manager",
    "POST /stock/items/<sku>/receive": "manager",
    "POST /stripe/webhook": None,
    "GET /today": "provider",
    "GET /transactions": "front_desk",
}


def _routes(app) -> list[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   if rule.endpoint != "static"
                   for method in sorted((rule.methods or set()) - SKIPPED_METHODS)),
                  key=lambda pair: (pair[0].rule, pair[1]))


def _fill(rule, values: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """The rule's URL with plausible values: ints 1, known names real data, others 'x'."""
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if name in ABSENT_IDS:
            return ABSENT_IDS[name]
        if converter and converter.startswith(("int", "float")):
            return "1"
        return values.get(name, "x")

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?(\w+)>", value, rule.rule)


def _minimum_role(app, rule) -> str | None:  # type: ignore[no-untyped-def]
    return getattr(app.view_functions[rule.endpoint], "minimum_role", None)


def _is_api(rule) -> bool:  # type: ignore[no-untyped-def]
    return rule.rule.startswith("/api/")


@pytest.fixture
def matrix_data(app):  # type: ignore[no-untyped-def]
    make_item("CART-36", kind="supply", lots=[("C-1", 5, 300)])
    return {"sku": "CART-36", "lot": "C-1"}


def _request(app, rule, method: str, url: str, role: str | None, api, users):  # type: ignore[no-untyped-def]
    if _is_api(rule):
        client = api(role).client if role else app.test_client()
        headers = api(role).headers if role else {}
        return client.open(url, method=method, json={}, headers=headers)
    client = app.test_client()
    if role:
        signed_in(client, users.get(role))
    return client.open(url, method=method, data={})


def test_every_route_is_in_the_table_with_the_role_it_declares(app):
    declared = {f"{method} {rule.rule}": _minimum_role(app, rule) for rule, method in _routes(app)}
    missing = sorted(set(declared) - set(ROUTE_ROLES))
    assert not missing, f"routes missing from ROUTE_ROLES: {missing}"
    stale = sorted(set(ROUTE_ROLES) - set(declared))
    assert not stale, f"ROUTE_ROLES names routes that no longer exist: {stale}"
    differ = {route: (declared[route], ROUTE_ROLES[route]) for route in declared
              if declared[route] != ROUTE_ROLES[route]}
    assert not differ, f"declared role != table (declared, table): {differ}"


def test_clinical_routes_are_for_providers_only(app):
    clinical = [route for route, role in ROUTE_ROLES.items() if role == "provider"]
    assert "GET /api/v1/treatments/<int:treatment_id>/screening" in clinical
    assert "GET /clients/<int:client_id>/treatments/<int:treatment_id>/screening" in clinical
    assert "POST /api/v1/treatments" in clinical
    assert "POST /api/v1/treatments/<int:treatment_id>/void" in clinical


def test_every_route_answers_each_role_as_its_minimum_role_says(app, api, users, matrix_data):
    # The matrix is about roles; CSRF is tested on its own below.
    app.config["WTF_CSRF_ENABLED"] = False
    problems = []
    checked = 0
    for rule, method in _routes(app):
        url = _fill(rule, matrix_data)
        minimum = _minimum_role(app, rule)
        for role in [None, *ROLES]:
            response = _request(app, rule, method, url, role, api, users)
            status = response.status_code
            where = f"{method} {url} as {role or 'anonymous'} (minimum {minimum}) -> {status}"
            checked += 1
            if status >= 500:
                problems.append(f"{where}: server error")
            elif minimum is None:
                continue  # a public page: any 4xx for odd input is fine, a 5xx is not
            elif role is None and _is_api(rule):
                if status != 401:
                    problems.append(f"{where}: expected 401")
            elif role is None:
                if status != 302 or "/login" not in response.headers.get("Location", ""):
                    problems.append(f"{where}: expected a redirect to /login")
            elif not roles_allow(parse_roles(role.split("+")), minimum):
                if status != 403:
                    problems.append(f"{where}: expected 403")
            elif status in (401, 403):
                problems.append(f"{where}: expected to be allowed")
    assert checked >= (len(ROLES) + 1) * 80
    assert not problems, "\n".join(problems)


def test_every_api_route_but_the_public_ones_declares_a_minimum_role(app):
    missing = [f"{method} {rule.rule}" for rule, method in _routes(app)
               if _is_api(rule) and rule.endpoint not in PUBLIC_ENDPOINTS
               and _minimum_role(app, rule) is None]
    assert not missing, f"API routes without @requires(role): {missing}"


def test_the_stock_routes_have_the_roles_of_the_brief(app):
    roles = {rule.endpoint: _minimum_role(app, rule) for rule, _ in _routes(app)}
    assert roles["stock.overview"] == roles["stock.item"] == "front_desk"
    assert roles["stock.receive"] == roles["stock.adjust"] == "manager"
    assert roles["api.list_items"] == roles["api.get_item"] == roles["api.packages"] \
        == "front_desk"
    assert roles["api.create_item"] == roles["api.receive"] == roles["api.adjust"] \
        == roles["api.movements"] == "manager"


def test_each_request_is_answered_for_the_user_signed_in_at_that_request(app, client, login_as):
    make_item("CART-36", kind="supply")
    assert client.get("/stock/items/CART-36/receive").status_code == 302  # anonymous
    login_as("front_desk")
    assert client.get("/stock/items/CART-36/receive").status_code == 403
    login_as("manager")
    assert client.get("/stock/items/CART-36/receive").status_code == 200


def test_anonymous_pages_redirect_to_login_with_the_page_to_come_back_to(client):
    response = client.get("/stock/items/CART-36")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "stock" in response.headers["Location"]


# CSRF

def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_csrf_protection_is_on_in_the_test_configuration(app):
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(app, client,
                                                                          login_as):
    make_item("CART-36", kind="supply", lots=[("C-1", 5, 300)])
    login_as("manager")
    response = client.post("/stock/items/CART-36/receive", data={"quantity": "10", "lot": "C-2"})
    assert response.status_code == 400
    assert b"Reload the page" in response.data
    assert b'id="on-hand">5<' in client.get("/stock/items/CART-36").data
    page = client.get("/stock/items/CART-36/receive").get_data(as_text=True)
    ok = client.post("/stock/items/CART-36/receive",
                     data={"quantity": "10", "lot": "C-2", "expires_on": "2199-01-01",
                           "csrf_token": _csrf_token(page)})
    assert ok.status_code == 302
    assert b'id="on-hand">15<' in client.get("/stock/items/CART-36").data


def test_every_form_route_refuses_a_post_without_a_csrf_token(app, users, matrix_data):
    exempt_views = csrf._exempt_views
    exempt_blueprints = {bp.name for bp in csrf._exempt_blueprints}
    checked = []
    for rule, method in _routes(app):
        view = app.view_functions[rule.endpoint]
        if method != "POST" or _is_api(rule) or \
                f"{view.__module__}.{view.__name__}" in exempt_views or \
                rule.endpoint.split(".")[0] in exempt_blueprints:
            continue
        client = app.test_client()
        signed_in(client, users.get("admin"))
        response = client.post(_fill(rule, matrix_data), data={"anything": "1"})
        assert response.status_code == 400, f"POST {rule.rule} without a CSRF token"
        checked.append(rule.rule)
    assert "/logout" in checked and "/login" in checked
    assert "/stock/items/<sku>/receive" in checked


def test_signing_out_needs_a_post_with_the_csrf_token(client, login_as):
    login_as("front_desk")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/stock/").status_code == 200
    token = _csrf_token(client.get("/stock/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/stock/").status_code == 302


# Headers and cookies

def test_pages_and_api_responses_carry_the_security_headers(client, login_as, api):
    login_as("front_desk")
    for response in (client.get("/stock/"), client.get("/login"), api("front_desk").get(
            "/api/v1/items"), client.get("/no-such-page")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def _sign_in_through_the_form(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def test_the_session_cookie_is_httponly_and_samesite_lax(client, users):
    user = users.get("manager")
    response = _sign_in_through_the_form(client, user.email)
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    attributes = {part.strip().lower() for part in cookies[-1].split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_the_api_ignores_a_signed_in_session_cookie_without_a_bearer_token(client, users):
    user = users.get("admin")
    assert _sign_in_through_the_form(client, user.email).status_code == 302
    assert client.get("/stock/").status_code == 200
    response = client.get("/api/v1/items")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer nope", "Basic YTpi",
                                    "bearer pos_" + "x" * 43, "Token abc"])
def test_the_api_refuses_missing_or_bad_tokens_with_401(client, header):
    response = client.get("/api/v1/items", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
