"""The client pages of the back office: the edit form (allergies for a provider only), the
possible-duplicate warning before saving, the merge page, and the client page's purchases,
sessions left, treatments (provider only) and receipts."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from pos.extensions import db
from pos.models import AuditEntry, Client, PackagePurchase, Sale
from pos.services import clients
from tests.integration.test_clients import bought, make_package, treated
from tests.integration.test_desk_pages import post_json, shop, token  # noqa: F401

ANA = {"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.com",
       "phone": "555-0100"}


def make_client(**fields) -> int:  # type: ignore[no-untyped-def]
    return clients.create_client(**{**ANA, **fields}, user_id=None, confirm_new=True).id


def test_the_front_desk_edits_a_client_without_an_allergies_field(app, client, login_as):
    client_id = make_client()
    login_as("front_desk")
    page = client.get(f"/clients/{client_id}/edit").get_data(as_text=True)
    assert 'name="notes"' in page and 'name="date_of_birth"' in page
    assert 'name="allergies"' not in page
    response = client.post(f"/clients/{client_id}/edit", data={
        "csrf_token": token(client, f"/clients/{client_id}/edit"), "first_name": "Ana",
        "last_name": "Lopez-Diaz", "email": "ana@example.com", "phone": "555-0100",
        "date_of_birth": "1985-06-07", "notes": "Likes the 9 o'clock slot",
        "allergies": "sneaked in"})
    assert response.status_code == 302
    stored = db.session.get(Client, client_id)
    assert stored.last_name == "Lopez-Diaz"
    assert stored.date_of_birth.isoformat() == "1985-06-07"
    assert stored.notes == "Likes the 9 o'clock slot"
    assert stored.allergies is None  # not a field of the front desk's form
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Lopez-Diaz" in page and "1985-06-07" in page and "Likes the 9" in page
    assert "Allergies" not in page


def test_a_provider_edits_and_sees_allergies_and_the_read_is_audited(app, client, login_as):
    client_id = make_client()
    login_as("provider")
    page = client.get(f"/clients/{client_id}/edit").get_data(as_text=True)
    assert 'name="allergies"' in page
    response = client.post(f"/clients/{client_id}/edit", data={
        "csrf_token": token(client, f"/clients/{client_id}/edit"), **ANA,
        "allergies": "Lidocaine"})
    assert response.status_code == 302
    assert db.session.get(Client, client_id).allergies == "Lidocaine"
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert re.search(r'id="client-allergies"[^>]*>Lidocaine<', page)
    reads = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "clinical.read", AuditEntry.entity_id == str(client_id))).all()
    assert reads and all("Lidocaine" not in f"{r.details}" for r in reads)


def test_an_edit_with_a_bad_date_is_shown_again_with_the_error(app, client, login_as):
    client_id = make_client()
    login_as("front_desk")
    response = client.post(f"/clients/{client_id}/edit", data={
        "csrf_token": token(client, f"/clients/{client_id}/edit"), **ANA,
        "date_of_birth": "1700-01-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "Choose a date between" in page


def test_a_possible_duplicate_is_warned_before_saving_then_created_anyway(app, client,
                                                                         login_as):
    existing = make_client()
    login_as("front_desk")
    form = {"csrf_token": token(client, "/clients"), "first_name": "ana",
            "last_name": "LOPEZ", "email": "", "phone": "(555) 0100"}
    warned = client.post("/clients", data=form)
    assert warned.status_code == 409
    page = warned.get_data(as_text=True)
    assert 'id="possible-duplicate"' in page
    assert re.search(rf'id="use-existing" autofocus href="/clients/{existing}"', page)
    assert "Use the existing client" in page and 'id="create-anyway"' in page
    assert db.session.scalar(select(func.count(Client.id))) == 1
    created = client.post("/clients", data={**form, "create_anyway": "Create anyway"})
    assert created.status_code == 302
    assert db.session.scalar(select(func.count(Client.id))) == 2


def test_the_merge_page_is_for_managers_and_moves_the_client(app, client, login_as):
    kept = make_client()
    dup = make_client(email="ana.l@example.org")
    package = make_package()
    bought(dup, package)
    login_as("front_desk")
    assert client.get(f"/clients/{dup}/merge").status_code == 403
    assert "Merge into another client" not in client.get(f"/clients/{dup}").get_data(
        as_text=True)
    login_as("manager")
    page = client.get(f"/clients/{dup}/merge").get_data(as_text=True)
    assert f"<td>{kept}</td>" in page  # the candidate with the same last name
    itself = client.post(f"/clients/{dup}/merge", data={
        "csrf_token": token(client, f"/clients/{dup}/merge"), "into_id": str(dup)})
    assert itself.status_code == 422
    assert "cannot be merged into itself" in itself.get_data(as_text=True)
    done = client.post(f"/clients/{dup}/merge", data={
        "csrf_token": token(client, f"/clients/{dup}/merge"), "into_id": str(kept)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/clients/{kept}")
    assert db.session.get(Client, dup) is None
    assert db.session.scalar(select(Sale.client_id)) == kept
    assert client.get(f"/clients/{dup}").status_code == 404


def test_the_client_page_shows_purchases_sessions_left_receipts_and_for_a_provider_treatments(
        shop, app, client, login_as):  # noqa: F811
    login_as("front_desk")
    sale_id = post_json(client, "/desk/sales", {
        "client_id": shop["client_id"], "lines": [{"package_code": "FACE-3", "quantity": 1}],
        "payment": "cash"}).get_json()["id"]
    sale = db.session.get(Sale, sale_id)
    purchase_id = db.session.scalar(select(PackagePurchase.id))
    treated(shop["client_id"], purchase_id, datetime(2026, 11, 2, 15, tzinfo=UTC))
    page = client.get(f"/clients/{shop['client_id']}").get_data(as_text=True)
    assert f'href="/sales/{sale_id}"' in page  # purchases
    assert re.search(r'class="num sessions-left">3<', page)
    assert "2026-11-30" in page  # next session from: 28 days after the treatment
    assert re.search(rf'href="/sales/{sale_id}/receipt">Receipt {sale.receipt_number}<', page)
    assert 'id="treatments"' not in page  # clinical: not for the front desk
    login_as("provider")
    page = client.get(f"/clients/{shop['client_id']}").get_data(as_text=True)
    assert 'id="treatments"' in page
    assert re.search(r'<td>face</td><td class="num">1</td><td>Done</td>', page)




def test_the_client_page_title_is_the_clients_name_and_each_section_is_shown_once(
        shop, app, client, login_as):  # noqa: F811
    login_as("provider")
    page = client.get(f"/clients/{shop['client_id']}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    name = db.session.get(Client, shop["client_id"]).full_name
    assert title == f"{name} · POS"
    assert page.count('id="treatments"') == page.count('id="receipts"') == 1
