"""Clients in the back office (API.md "Back office"): date of birth, notes, allergies
(clinical: provider only, audited), PATCH, possible duplicates, merge, the paginated list."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from pos.extensions import db
from pos.models import AuditEntry, Client, DeskCart, PackagePurchase, Sale, Treatment
from pos.services import client_merge
from pos.services.transaction import write_transaction
from tests.integration.test_clients import bought, make_package, treated

JANE = {"first_name": "Jane", "last_name": "Smith", "email": "jane@example.com",
        "phone": "(555) 010-4477"}


def new_client(api, role: str = "front_desk", **fields):  # type: ignore[no-untyped-def]
    response = api(role).post("/api/v1/clients", json={**JANE, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def clinical_reads(client_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "clinical.read", AuditEntry.entity_id == str(client_id))))


# -- PATCH ---------------------------------------------------------------------------------

def test_the_front_desk_changes_date_of_birth_notes_and_phone(app, api):
    client_id = new_client(api)
    response = api("front_desk").patch(f"/api/v1/clients/{client_id}", json={
        "date_of_birth": "1988-04-02", "notes": "Prefers mornings.\nParks at the back.",
        "phone": "555-0199"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["date_of_birth"] == "1988-04-02"
    assert body["notes"] == "Prefers mornings.\nParks at the back."
    assert body["phone"] == "555-0199"
    assert body["email"] == "jane@example.com"  # untouched
    assert "allergies" not in body
    stored = db.session.get(Client, client_id)
    assert stored.phone_digits == "5550199"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.update"))
    assert entry.details == {"fields": ["date_of_birth", "notes", "phone"]}
    # Null clears an optional field; a name cannot be cleared.
    cleared = api("front_desk").patch(f"/api/v1/clients/{client_id}", json={"notes": None})
    assert cleared.get_json()["notes"] is None
    refused = api("front_desk").patch(f"/api/v1/clients/{client_id}",
                                      json={"first_name": None})
    assert refused.status_code == 422
    assert "first_name" in refused.get_json()["error"]["details"]["fields"]


def test_a_patch_with_a_bad_field_or_an_unknown_client_is_refused(app, api):
    client_id = new_client(api)
    desk = api("front_desk")
    for body, field in (({"date_of_birth": "1850-01-01"}, "date_of_birth"),
                        ({"email": "not-an-email"}, "email"),
                        ({"shoe_size": 9}, "shoe_size"),
                        ({"notes": "x" * 2001}, "notes")):
        response = desk.patch(f"/api/v1/clients/{client_id}", json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["details"]["fields"]
    assert desk.patch("/api/v1/clients/99999", json={"notes": "x"}).status_code == 404
    other = new_client(api, first_name="Paul", email="paul@example.com", phone=None)
    taken = desk.patch(f"/api/v1/clients/{other}", json={"email": "JANE@example.com"})
    assert taken.status_code == 409
    assert taken.get_json()["error"]["code"] == "duplicate_client"


def test_allergies_are_refused_to_anyone_without_provider_and_absent_from_their_json(app, api):
    client_id = new_client(api)
    assert api("provider").patch(f"/api/v1/clients/{client_id}", json={
        "allergies": "Lidocaine"}).status_code == 200
    for role in ("front_desk", "manager", "admin", "front_desk+admin"):
        response = api(role).patch(f"/api/v1/clients/{client_id}",
                                   json={"allergies": "none"})
        assert response.status_code == 403, role
        assert response.get_json()["error"]["code"] == "forbidden"
        created = api(role).post("/api/v1/clients", json={
            **JANE, "email": None, "phone": None, "allergies": "latex"})
        assert created.status_code == 403, role
        for path in (f"/api/v1/clients/{client_id}", "/api/v1/clients?q=smith"):
            text = api(role).get(path).get_data(as_text=True)
            assert "allergies" not in text and "Lidocaine" not in text, (role, path)
    assert db.session.get(Client, client_id).allergies == "Lidocaine"
    assert db.session.scalar(select(func.count(Client.id))) == 1


def test_a_provider_reads_allergies_and_each_read_is_audited_without_the_content(app, api):
    client_id = new_client(api)
    api("provider").patch(f"/api/v1/clients/{client_id}", json={"allergies": "Lidocaine"})
    before = len(clinical_reads(client_id))
    for role in ("provider", "provider+manager"):
        body = api(role).get(f"/api/v1/clients/{client_id}").get_json()
        assert body["allergies"] == "Lidocaine"
    reads = clinical_reads(client_id)
    assert len(reads) == before + 2
    assert all(r.details["record"] == "allergies" for r in reads)
    assert all("Lidocaine" not in f"{r.details}" for r in reads)
    # A front desk read is no clinical read.
    api("front_desk").get(f"/api/v1/clients/{client_id}")
    assert len(clinical_reads(client_id)) == before + 2
    update = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.update"))
    assert "Lidocaine" not in f"{update.details}"


# -- possible duplicates --------------------------------------------------------------------

def test_same_name_and_email_or_phone_is_a_possible_duplicate_unless_confirmed(app, api):
    first = new_client(api)
    desk = api("front_desk")
    # Same name (other case), same phone digits, another email.
    again = {**JANE, "first_name": "JANE", "email": "jane.s@example.org",
             "phone": "555 010 4477"}
    response = desk.post("/api/v1/clients", json=again)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "possible_duplicate"
    assert error["details"]["client_id"] == first
    assert error["details"]["matched_on"] == ["phone"]
    assert error["details"]["match"]["id"] == first
    assert error["details"]["match"]["last_name"] == "Smith"
    assert db.session.scalar(select(func.count(Client.id))) == 1
    created = desk.post("/api/v1/clients", json={**again, "confirm_new": True})
    assert created.status_code == 201
    assert db.session.scalar(select(func.count(Client.id))) == 2
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "client.create",
        AuditEntry.entity_id == str(created.get_json()["id"])))
    assert entry.details == {"confirmed_new": True}


def test_same_name_and_email_is_a_possible_duplicate_and_other_names_are_not(app, api):
    first = new_client(api)
    desk = api("front_desk")
    same_email = desk.post("/api/v1/clients", json={**JANE, "phone": None})
    assert same_email.status_code == 409
    assert same_email.get_json()["error"]["details"]["matched_on"] == ["email"]
    assert same_email.get_json()["error"]["details"]["client_id"] == first
    # Another name with the same phone: a family member, not a duplicate.
    assert desk.post("/api/v1/clients", json={**JANE, "first_name": "John",
                                              "email": None}).status_code == 201
    # The same name with neither email nor phone in common: not a duplicate.
    assert desk.post("/api/v1/clients", json={**JANE, "email": "other@example.com",
                                              "phone": "555-9999"}).status_code == 201


# -- merge ----------------------------------------------------------------------------------

def _everything_of(client_id: int) -> None:
    """A client with a paid package sale, a treatment, a parked sale and a record read."""
    package = make_package()
    purchase_id = bought(client_id, package, used=1)
    treated(client_id, purchase_id, datetime(2026, 1, 5, 15, tzinfo=UTC))
    with write_transaction() as session:
        session.add(DeskCart(parked=True, label="Jane's", client_id=client_id, lines=[]))


def test_merge_moves_every_row_to_the_kept_client_and_deletes_the_other(app, api):
    kept = new_client(api)
    dup = new_client(api, email="jane.smith@work.example", phone=None, confirm_new=True)
    api("provider").patch(f"/api/v1/clients/{dup}", json={"allergies": "Latex"})
    api("front_desk").patch(f"/api/v1/clients/{dup}", json={"date_of_birth": "1990-02-03",
                                                            "notes": "From the old card"})
    _everything_of(dup)
    api("front_desk").get(f"/api/v1/clients/{dup}")  # a need-to-know read row
    response = api("manager").post(f"/api/v1/clients/{dup}/merge", json={"into_id": kept})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == kept and body["merged_client_id"] == dup
    assert [p["sessions_left"] for p in body["packages"]] == [2]
    assert "allergies" not in body
    db.session.expire_all()
    # No row anywhere refers to the old client: every column holding a client's id.
    columns = client_merge.referencing_columns()
    names = {f"{t.name}.{c.name}" for t, c in columns}
    assert {"sales.client_id", "package_purchases.client_id", "treatments.client_id",
            "desk_carts.client_id", "client_record_reads.client_id"} <= names
    for table, column in columns:
        left = db.session.scalar(select(func.count()).select_from(table)
                                 .where(column == dup))
        assert left == 0, f"{table.name}.{column.name}"
    assert db.session.get(Client, dup) is None
    assert db.session.scalar(select(func.count(Sale.id)).where(Sale.client_id == kept)) == 1
    assert db.session.scalar(select(func.count(PackagePurchase.id))
                             .where(PackagePurchase.client_id == kept)) == 1
    assert db.session.scalar(select(func.count(Treatment.id))
                             .where(Treatment.client_id == kept)) == 1
    assert db.session.scalar(select(DeskCart.client_id)) == kept
    # The kept client keeps its details and takes what it lacked; the allergy survives.
    merged = db.session.get(Client, kept)
    assert merged.email == "jane@example.com"
    assert merged.date_of_birth.isoformat() == "1990-02-03"
    assert merged.notes == "From the old card"
    assert merged.allergies == "Latex"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.merge"))
    assert entry.entity_id == str(kept)
    assert entry.details["merged_client_id"] == dup
    assert entry.details["moved"]["sales.client_id"] == 1
    assert entry.details["moved"]["treatments.client_id"] == 1
    assert entry.user_id is not None
    assert api("front_desk").get(f"/api/v1/clients/{dup}").status_code == 404


def test_merge_into_itself_or_an_unknown_client_is_refused_by_name(app, api):
    kept = new_client(api)
    manager = api("manager")
    itself = manager.post(f"/api/v1/clients/{kept}/merge", json={"into_id": kept})
    assert itself.status_code == 422
    assert itself.get_json()["error"]["code"] == "merge_into_self"
    unknown = manager.post(f"/api/v1/clients/{kept}/merge", json={"into_id": 99999})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["code"] == "unknown_client"
    missing = manager.post("/api/v1/clients/99999/merge", json={"into_id": kept})
    assert missing.status_code == 404
    assert manager.post(f"/api/v1/clients/{kept}/merge", json={"into_id": "1"}) \
        .status_code == 422
    assert api("front_desk").post(f"/api/v1/clients/{kept}/merge",
                                  json={"into_id": kept}).status_code == 403
    assert db.session.get(Client, kept) is not None
    assert db.session.scalar(select(func.count(AuditEntry.id))
                             .where(AuditEntry.action == "client.merge")) == 0


def test_merge_takes_the_email_of_the_duplicate_when_the_kept_client_has_none(app, api):
    kept = new_client(api, email=None)
    dup = new_client(api, phone="555-1234")
    response = api("manager").post(f"/api/v1/clients/{dup}/merge", json={"into_id": kept})
    assert response.status_code == 200
    assert response.get_json()["email"] == "jane@example.com"
    assert response.get_json()["phone"] == "(555) 010-4477"


# -- the list -------------------------------------------------------------------------------

def test_the_client_list_is_paginated_and_keeps_its_search(app, api):
    for n in range(5):
        new_client(api, first_name=f"Ann{n}", last_name="Page", email=None, phone=None)
    new_client(api, first_name="Other", last_name="Person", email=None, phone=None)
    desk = api("front_desk")
    first = desk.get("/api/v1/clients?q=page&per_page=2").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert [c["first_name"] for c in first["items"]] == ["Ann0", "Ann1"]
    third = desk.get("/api/v1/clients?q=page&per_page=2&page=3").get_json()
    assert [c["first_name"] for c in third["items"]] == ["Ann4"]
    everyone = desk.get("/api/v1/clients").get_json()
    assert everyone["total"] == 6 and everyone["per_page"] == 50
    assert everyone["items"][0]["first_name"] == "Other"  # newest first without q
    assert desk.get("/api/v1/clients?per_page=201").status_code == 422


def test_two_managers_merging_the_pair_each_way_at_once_leave_one_client(pg_app):
    """PostgreSQL: both rows are locked in id order, so A->B and B->A at the same moment
    neither deadlock nor lose a row: one merge wins, the other finds its client gone."""
    import threading

    from pos.domain.errors import PosError
    from pos.services import clients

    a = clients.create_client(first_name="Ann", last_name="Race", email=None,
                              phone="555-1000", user_id=None).id
    b = clients.create_client(first_name="Ann", last_name="Race", email=None,
                              phone="555-2000", user_id=None).id
    _everything_of(a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def merge(source: int, target: int) -> None:
        with pg_app.app_context():
            barrier.wait(10)
            try:
                client_merge.merge_clients(source, target, user_id=None)
                outcomes.append("merged")
            except PosError as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) in (["merged", "not_found"], ["merged", "unknown_client"])
    db.session.expire_all()
    [survivor] = db.session.scalars(select(Client.id)).all()
    assert db.session.scalar(select(Sale.client_id)) == survivor
    assert db.session.scalar(select(Treatment.client_id)) == survivor
