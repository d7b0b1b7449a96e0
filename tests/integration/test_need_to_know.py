"""Need-to-know: clinical data for providers only, every clinical read audited without the
answers, and bulk reading of client records told to the admins once per burst."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pos import update_settings
from pos.domain.screening import BOOLEAN_KEYS
from pos.extensions import db
from pos.models import AuditEntry, OutboxMessage, Treatment
from pos.notify.outbox import deliver_pending
from pos.services import clock
from tests.fixtures_clinical import all_clear, make_client, make_series_purchase, treatment_body


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


@pytest.fixture
def treated(app, api, clinic_stock):  # type: ignore[no-untyped-def]
    """A client with one treatment whose screening says yes to diabetes."""
    ada = make_client("Zebediah", "Quux", email="zeb@private.example")
    purchase = make_series_purchase(ada, "FACE-3")
    done = api("provider").post("/api/v1/treatments", json=treatment_body(
        ada.id, purchase.id, screening=all_clear(diabetes=True), acknowledged=["diabetes"],
        performed_at=(clock.now() - timedelta(days=40)).isoformat()))
    assert done.status_code == 201
    return ada, purchase, done.get_json()["id"]


# -- clinical data is for providers, whatever else a user holds -------------------------------

@pytest.mark.parametrize("role", ["admin", "manager", "front_desk+admin"])
def test_without_provider_no_screening_answers_and_no_treatment_recording(
        app, api, client, login_as, treated, role):
    ada, purchase, treatment_id = treated
    api_answer = api(role).get(f"/api/v1/treatments/{treatment_id}/screening")
    assert api_answer.status_code == 403
    assert api_answer.get_json()["error"]["code"] == "forbidden"
    assert "diabetes" not in api_answer.get_data(as_text=True)
    record = api(role).post("/api/v1/treatments", json=treatment_body(ada.id, purchase.id))
    assert record.status_code == 403

    login_as(role)
    assert client.get(f"/clients/{ada.id}/treatments/{treatment_id}/screening") \
        .status_code == 403
    token = csrf_of(client.get("/stock/").get_data(as_text=True))
    assert client.post(f"/clients/{ada.id}/treatments",
                       data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert len(db.session.scalars(select(Treatment)).all()) == 1
    assert entries("clinical.read") == []


def test_a_provider_who_is_also_the_manager_reads_answers_and_records_treatments(
        app, api, client, login_as, treated):
    ada, purchase, treatment_id = treated
    lead = api("provider+manager")
    answers = lead.get(f"/api/v1/treatments/{treatment_id}/screening")
    assert answers.status_code == 200
    assert answers.get_json()["answers"]["diabetes"] is True
    assert answers.get_json()["client_id"] == ada.id
    second = lead.post("/api/v1/treatments", json=treatment_body(ada.id, purchase.id))
    assert second.status_code == 201, second.get_json()
    login_as("provider+manager")
    page = client.get(f"/clients/{ada.id}/treatments/{treatment_id}/screening")
    assert page.status_code == 200
    assert re.search(r"<td>Diabetes</td><td>Yes</td>", page.get_data(as_text=True))


# -- each clinical read is audited, without the answers ---------------------------------------

def test_each_clinical_read_writes_an_audit_entry_without_the_answers(
        app, api, client, login_as, treated):
    ada, _, treatment_id = treated
    provider = api("provider")
    assert provider.get(f"/api/v1/treatments/{treatment_id}/screening").status_code == 200
    user = login_as("provider")
    assert client.get(f"/clients/{ada.id}/treatments/{treatment_id}/screening") \
        .status_code == 200
    assert client.get(f"/clients/{ada.id}/treatments").status_code == 200

    reads = entries("clinical.read")
    assert [(e.user_id, e.entity, e.entity_id, e.details.get("record")) for e in reads] == [
        (user.id, "client", str(ada.id), "screening"),
        (user.id, "client", str(ada.id), "screening"),
        (user.id, "client", str(ada.id), "treatments")]
    stored = json.dumps([e.details for e in reads])
    for key in BOOLEAN_KEYS:
        assert key not in stored
    assert "Zebediah" not in stored and "zeb@private" not in stored

    listed = api("admin").get("/api/v1/audit?action=clinical.read").get_json()
    assert listed["total"] == 3
    assert "diabetes" not in json.dumps(listed)


# -- bulk reading -----------------------------------------------------------------------------

def test_101_client_reads_in_a_minute_email_the_admins_once_without_client_data(
        mail_app, smtp_server, api, client, login_as, users):
    admins = [users.get("admin").email, users.get("front_desk+admin").email]
    ada = make_client("Zebediah", "Quux", email="zeb@private.example", phone="555-0199")
    reader = api("front_desk")
    for _ in range(99):
        assert reader.get(f"/api/v1/clients/{ada.id}").status_code == 200
    login_as("front_desk")
    assert client.get(f"/clients/{ada.id}").status_code == 200  # the page counts too
    assert deliver_pending().delivered == 0  # 100 reads: within the limit
    assert reader.get(f"/api/v1/clients/{ada.id}").status_code == 200  # the 101st

    assert deliver_pending().delivered == 1
    assert smtp_server.subjects() == ["Bulk reading of client records"]
    _, recipients = smtp_server.envelopes[0]
    assert sorted(recipients) == sorted(admins)
    body = smtp_server.body(0)
    assert "101 client records" in body and "front_desk (user" in body
    for private in ("Zebediah", "Quux", "zeb@private.example", "555-0199"):
        assert private not in body

    # The burst goes on: no second email.
    for _ in range(30):
        reader.get(f"/api/v1/clients/{ada.id}")
    assert deliver_pending().delivered == 0
    alerts = entries("security.bulk_read")
    assert len(alerts) == 1
    assert alerts[0].entity_id == str(users.get("front_desk").id)
    assert "Zebediah" not in json.dumps(alerts[0].details)


def test_a_new_burst_after_a_quiet_window_tells_the_admins_again(app, api, users,
                                                                 monkeypatch):
    update_settings(app, BULK_READ_LIMIT=3)
    users.get("admin")
    ada = make_client()
    reader = api("manager")
    for _ in range(5):
        reader.get(f"/api/v1/clients/{ada.id}")
    assert len(entries("security.bulk_read")) == 1
    moved = clock.now() + timedelta(minutes=3)
    monkeypatch.setattr(clock, "now", lambda: moved)
    for _ in range(4):
        reader.get(f"/api/v1/clients/{ada.id}")
    assert len(entries("security.bulk_read")) == 2
    db.session.expire_all()
    emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "security"))
    assert len(emails.all()) == 2


def test_another_users_reads_do_not_count_towards_a_burst(app, api, users):
    update_settings(app, BULK_READ_LIMIT=3)
    ada = make_client()
    for role in ("front_desk", "manager", "provider"):
        for _ in range(3):
            assert api(role).get(f"/api/v1/clients/{ada.id}").status_code == 200
    assert entries("security.bulk_read") == []
