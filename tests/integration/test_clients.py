"""Clients through the JSON API and the desk's pages: create, find as you type, balances."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pos.extensions import db
from pos.models import AuditEntry, Client, PackagePurchase, Sale, SaleLine, Treatment
from pos.services import catalog, clients, clock
from pos.services.ledger import default_location
from pos.services.transaction import write_transaction

JANE = {"first_name": "Jane", "last_name": "Smith", "email": "Jane.Smith@Example.com",
        "phone": "(555) 010-4477"}


def create(api, **fields):  # type: ignore[no-untyped-def]
    return api("front_desk").post("/api/v1/clients", json={**JANE, **fields})


def make_package(code: str = "FACE-3", sessions: int = 3, min_days: int = 28):  # type: ignore[no-untyped-def]
    return catalog.create_package(catalog.NewPackage(
        code=code, name=f"{code} series", area="face", sessions=sessions, price_cents=79500,
        min_days_between=min_days, max_days_between=42, supplies=()), None)


def bought(client_id: int, package, *, used: int = 0) -> int:  # type: ignore[no-untyped-def]
    """A paid sale of `package` to the client, as the sales service leaves it."""
    with write_transaction() as session:
        location = default_location(session)
        sale = Sale(client_id=client_id, location_id=location.id, status="paid",
                    payment_method="cash", subtotal_cents=package.price_cents,
                    total_cents=package.price_cents, paid_at=clock.now())
        line = SaleLine(package_id=package.id, name=package.name, category="package",
                        quantity=1, unit_price_cents=package.price_cents,
                        subtotal_cents=package.price_cents, total_cents=package.price_cents)
        sale.lines.append(line)
        session.add(sale)
        session.flush()
        purchase = PackagePurchase(client_id=client_id, sale_line_id=line.id,
                                   package_id=package.id, sessions_total=package.sessions,
                                   sessions_used=used, value_cents=package.price_cents)
        session.add(purchase)
        session.flush()
        return purchase.id


def treated(client_id: int, purchase_id: int, at: datetime, *, voided: bool = False) -> None:
    with write_transaction() as session:
        session.add(Treatment(client_id=client_id, purchase_id=purchase_id, session_number=1,
                              area="face", performed_at=at, screening={},
                              voided_at=clock.now() if voided else None))


# -- creating -----------------------------------------------------------------------------

def test_a_new_client_is_created_with_a_lower_cased_email_and_the_phone_digits(app, api):
    response = create(api)
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "jane.smith@example.com"
    assert (body["first_name"], body["last_name"], body["phone"]) == \
        ("Jane", "Smith", "(555) 010-4477")
    client = db.session.get(Client, body["id"])
    assert client.phone_digits == "5550104477"


def test_creating_a_client_is_audited_with_its_id_and_no_contact_data(app, api, users):
    body = create(api).get_json()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.create"))
    assert entry.entity_id == str(body["id"])
    assert entry.user_id == users.get("front_desk").id
    recorded = f"{entry.details}"
    assert "Jane" not in recorded and "Smith" not in recorded and "example" not in recorded


def test_a_second_client_with_the_same_email_in_another_case_is_refused_with_the_first_id(
        app, api):
    first = create(api).get_json()
    response = create(api, first_name="Janet", email="JANE.SMITH@example.COM")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_client"
    assert error["details"] == {"client_id": first["id"]}
    assert "jane.smith" not in error["message"].lower()
    assert db.session.scalar(select(db.func.count(Client.id))) == 1


def test_clients_without_email_are_not_duplicates_of_each_other(app, api):
    # (With neither email nor phone there is nothing to match a possible duplicate on.)
    assert create(api, email=None, phone=None).status_code == 201
    assert create(api, email=None, phone=None).status_code == 201


def test_the_same_idempotency_key_creates_the_client_once(app, api):
    desk = api("front_desk")
    headers = {"Idempotency-Key": "new-client-1"}
    first = desk.post("/api/v1/clients", json=JANE, headers=headers)
    again = desk.post("/api/v1/clients", json=JANE, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.session.scalar(select(db.func.count(Client.id))) == 1


@pytest.mark.parametrize(("fields", "bad"), [
    ({"first_name": ""}, "first_name"),
    ({"last_name": None}, "last_name"),
    ({"first_name": "x" * 10_000}, "first_name"),
    ({"last_name": "y" * 81}, "last_name"),
    ({"first_name": 12}, "first_name"),
    ({"first_name": "Ja\x00ne"}, "first_name"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "jane@"}, "email"),
    ({"email": ["jane@example.com"]}, "email"),
    ({"phone": "555-0100; DROP TABLE clients"}, "phone"),
    ({"phone": "9" * 41}, "phone"),
    ({"phone": "()--"}, "phone"),
])
def test_bad_client_input_is_a_422_naming_the_field_and_writes_nothing(app, api, fields, bad):
    response = create(api, **fields)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert bad in error["details"]["fields"]
    assert db.session.scalar(select(db.func.count(Client.id))) == 0


def test_a_body_that_is_not_a_json_object_is_a_422(app, api):
    desk = api("front_desk")
    for raw in (b"[]", b"nonsense", b'"Jane"', b"\xff\xfe"):
        response = desk.post("/api/v1/clients", data=raw,
                             headers={"Content-Type": "application/json"})
        assert response.status_code == 422, raw


def test_clients_need_a_token_and_the_front_desk_role_is_enough(app, api, client):
    assert client.get("/api/v1/clients?q=a").status_code == 401
    assert client.post("/api/v1/clients", json=JANE).status_code == 401
    assert api("front_desk").get("/api/v1/clients?q=a").status_code == 200


# -- finding ------------------------------------------------------------------------------

@pytest.fixture
def three_clients(app, api):  # type: ignore[no-untyped-def]
    ids = {}
    for first, last, email, phone in [
        ("Jane", "Smith", "jane@example.com", "(555) 010-4477"),
        ("Paul", "Smithers", None, "555 777 1234"),
        ("Maria", "O'Neil", "maria.oneil@clinic.example", None),
    ]:
        response = create(api, first_name=first, last_name=last, email=email, phone=phone)
        assert response.status_code == 201, response.get_json()
        ids[first] = response.get_json()["id"]
    return ids


def found(api, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = api("front_desk").get("/api/v1/clients", query_string={"q": q})
    assert response.status_code == 200
    return sorted(c["first_name"] for c in response.get_json()["items"])


def test_search_finds_by_the_start_of_a_last_name_in_any_case(three_clients, api):
    assert found(api, "smi") == ["Jane", "Paul"]
    assert found(api, "SMITHE") == ["Paul"]
    assert found(api, "o'n") == ["Maria"]


def test_search_finds_by_first_name_and_by_first_and_last_name_together(three_clients, api):
    assert found(api, "mar") == ["Maria"]
    assert found(api, "jane smi") == ["Jane"]
    assert found(api, "smith jane") == ["Jane"]


def test_search_finds_by_email(three_clients, api):
    assert found(api, "maria.one") == ["Maria"]
    assert found(api, "JANE@EXAMPLE.COM") == ["Jane"]


def test_search_finds_by_any_part_of_the_phone_digits_however_typed(three_clients, api):
    assert found(api, "4477") == ["Jane"]
    assert found(api, "555-010") == ["Jane"]
    assert found(api, "(555) 777-1234") == ["Paul"]
    assert found(api, "555") == ["Jane", "Paul"]


def test_search_treats_like_wildcards_as_plain_text(three_clients, api):
    assert found(api, "%") == []
    assert found(api, "_ane") == []
    assert found(api, "nobody") == []


def test_an_empty_search_lists_the_newest_clients(three_clients, api):
    response = api("front_desk").get("/api/v1/clients")
    assert [c["first_name"] for c in response.get_json()["items"]] == ["Maria", "Paul", "Jane"]


def test_a_huge_or_strange_search_is_answered_not_crashed(three_clients, api):
    desk = api("front_desk")
    for q in ("😀", "' OR 1=1 --", "<b>"):
        response = desk.get("/api/v1/clients", query_string={"q": q})
        assert response.status_code == 200
        assert response.get_json()["items"] == []
    # What no search could mean is refused by name, like a body (API.md "Validation").
    for query, field in (({"q": "x" * 10_000}, "q"), ({"q": "\x00smith"}, "q"),
                         ({"q": "smith", "per_page": "9" * 5000}, "per_page"),
                         ({"q": "smith", "per_page": "0"}, "per_page"),
                         ({"q": "smith", "page": "0"}, "page")):
        response = desk.get("/api/v1/clients", query_string=query)
        assert response.status_code == 422
        assert list(response.get_json()["error"]["details"]["fields"]) == [field]
    assert found(api, "smith") == ["Jane", "Paul"]


# -- one client -------------------------------------------------------------------------

def test_a_client_with_no_purchases_has_no_packages_and_no_bundle_yet(app, api):
    client_id = create(api).get_json()["id"]
    body = api("front_desk").get(f"/api/v1/clients/{client_id}").get_json()
    assert body["id"] == client_id
    assert body["packages"] == []
    assert body["first_visit_bundle_given"] is False


def test_the_client_shows_each_package_with_sessions_left_and_the_next_eligible_date(
        app, api):
    client_id = create(api).get_json()["id"]
    series = make_package("FACE-3", sessions=3, min_days=28)
    single = make_package("FACE-1", sessions=1)
    purchase_id = bought(client_id, series, used=1)
    single_id = bought(client_id, single)
    last = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    treated(client_id, purchase_id, last - timedelta(days=10))
    treated(client_id, purchase_id, last)
    treated(client_id, purchase_id, last + timedelta(days=5), voided=True)
    with write_transaction() as session:
        session.get(Client, client_id).first_visit_bundle_at = last

    body = api("front_desk").get(f"/api/v1/clients/{client_id}").get_json()
    assert body["packages"] == [
        {"purchase_id": purchase_id, "code": "FACE-3", "name": "FACE-3 series",
         "sessions_total": 3, "sessions_used": 1, "sessions_left": 2,
         "next_eligible_on": "2026-03-30"},
        {"purchase_id": single_id, "code": "FACE-1", "name": "FACE-1 series",
         "sessions_total": 1, "sessions_used": 0, "sessions_left": 1,
         "next_eligible_on": None},
    ]
    assert body["first_visit_bundle_given"] is True


def test_the_next_eligible_date_counts_from_the_clinic_day_of_the_last_session(app, api):
    client_id = create(api).get_json()["id"]
    purchase_id = bought(client_id, make_package(min_days=28))
    # 02:00 UTC on 3 March is still 2 March in New York.
    treated(client_id, purchase_id, datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    body = api("front_desk").get(f"/api/v1/clients/{client_id}").get_json()
    assert body["packages"][0]["next_eligible_on"] == "2026-03-30"


def test_an_unknown_client_is_a_404_with_the_error_shape(app, api):
    desk = api("front_desk")
    for path in ("/api/v1/clients/999", "/api/v1/clients/" + "9" * 30,
                 "/api/v1/clients/abc", "/api/v1/clients/0"):
        response = desk.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_client_api_is_described_in_the_openapi_document(app, client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/clients"]) == {"get", "post"}
    assert "get" in paths["/api/v1/clients/{client_id}"]


def test_the_service_refuses_a_duplicate_email_even_when_called_directly(app):
    first = clients.create_client(first_name="A", last_name="B", email="a@b.example",
                                  phone=None, user_id=None)
    with pytest.raises(clients.DuplicateClient) as error:
        clients.create_client(first_name="C", last_name="D", email=" A@B.example ",
                              phone=None, user_id=None)
    assert error.value.details == {"client_id": first.id}


# -- the desk's client pages ----------------------------------------------------------------

def form_token(web) -> str:  # type: ignore[no-untyped-def]
    import re

    page = web.get("/clients").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def new_client_form(web, **fields):  # type: ignore[no-untyped-def]
    data = {"first_name": "Jane", "last_name": "Smith", "email": "jane@example.com",
            "phone": "555 010 4477", **fields}
    return web.post("/clients", data={"csrf_token": form_token(web), **data})


def test_the_new_client_form_creates_the_client_and_opens_their_page(app, client, login_as):
    login_as("front_desk")
    response = new_client_form(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jane Smith" in page and "jane@example.com" in page
    assert "Not given yet" in page
    assert "No packages bought yet." in page


def test_the_new_client_form_shows_each_error_next_to_its_field(app, client, login_as):
    login_as("front_desk")
    response = new_client_form(client, first_name="", last_name="x" * 10_000,
                               email="not-an-email", phone="call me")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name in ("first_name", "last_name", "email", "phone"):
        assert f'id="{name}-error"' in page, name
    assert db.session.scalar(select(db.func.count(Client.id))) == 0


def test_the_new_client_form_catches_a_duplicate_email_and_links_the_existing_client(
        app, client, login_as):
    login_as("front_desk")
    new_client_form(client)
    first_id = db.session.scalar(select(Client.id))
    response = new_client_form(client, first_name="Janet", email="JANE@example.com")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert f'href="/clients/{first_id}" id="duplicate-link"' in page


def test_html_in_a_name_is_refused_by_the_form_as_by_the_api(app, client, login_as, api):
    login_as("front_desk")
    response = new_client_form(client, first_name="<b>Bold</b>", email=None)
    assert response.status_code == 422
    assert "First name must not contain HTML tags." in response.get_data(as_text=True)
    refused = create(api, first_name="<b>Bold</b>")
    assert refused.get_json()["error"]["details"]["fields"] == {
        "first_name": "must not contain HTML tags"}
    assert db.session.scalar(select(Client.id)) is None


def test_html_in_a_name_is_shown_as_text_on_the_desk_pages(app, client, login_as):
    # Data from before the rule, or typed straight into the database.
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    made = clients.create_client(first_name=evil, last_name="<b>Bold</b>", email=None,
                                 phone=None, user_id=None)
    login_as("front_desk")
    client_page = client.get(f"/clients/{made.id}").get_data(as_text=True)
    listing = client.get("/clients").get_data(as_text=True)
    for page in (client_page, listing):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>Bold" not in page
        assert "&lt;script&gt;alert(" in page
    found = client.get("/desk/clients.json?q=%3Cb%3E").get_json()
    assert found[0]["name"] == f"{evil} <b>Bold</b>"  # data; desk.js shows it as text


def test_the_clients_page_lists_matches_for_a_search(app, client, login_as, api):
    create(api)
    create(api, first_name="Paul", last_name="Other", email="paul@example.com", phone=None)
    login_as("front_desk")
    page = client.get("/clients?q=smi").get_data(as_text=True)
    assert "Jane Smith" in page and "Paul Other" not in page
    names = [c["name"] for c in client.get("/desk/clients.json?q=4477").get_json()]
    assert names == ["Jane Smith"]


def test_the_checkout_can_create_a_client_without_leaving_the_page(app, client, login_as):
    import re

    login_as("front_desk")
    page = client.get("/checkout").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    ok = client.post("/desk/clients", json={**JANE}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 201 and ok.get_json()["name"] == "Jane Smith"
    twice = client.post("/desk/clients", json={**JANE}, headers={"X-CSRFToken": csrf})
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "possible_duplicate"
    anyway = client.post("/desk/clients", json={**JANE, "confirm_new": True},
                         headers={"X-CSRFToken": csrf})
    assert anyway.status_code == 409  # the same email stays unique
    assert anyway.get_json()["error"]["code"] == "duplicate_client"
    bad = client.post("/desk/clients", json={"first_name": ["x"]}, headers={"X-CSRFToken": csrf})
    assert bad.status_code == 422


def test_two_desks_registering_the_same_email_at_once_make_one_client(pg_app):
    """PostgreSQL: the unique email catches the race the first check cannot see."""
    import threading

    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def register(n: int) -> None:
        with pg_app.app_context():
            barrier.wait(10)
            try:
                clients.create_client(first_name=f"Twin{n}", last_name="Race",
                                      email="same@example.com", phone=None, user_id=None)
                outcomes.append("created")
            except clients.DuplicateClient as error:
                outcomes.append(f"duplicate:{error.details['client_id']}")

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    only = db.session.scalar(select(Client.id).where(Client.email == "same@example.com"))
    assert sorted(outcomes) == ["created"] + [f"duplicate:{only}"] * 3
