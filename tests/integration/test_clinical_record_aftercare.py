"""Aftercare: after a treatment the client is emailed the clinic's aftercare sheet (the
DOMAIN.md default until the clinic writes its own) and the next eligible date, through the
outbox, with nothing clinical in it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pos.extensions import db
from pos.models import OutboxMessage
from pos.services import clock
from tests.fixtures_clinical import all_clear, make_client, make_series_purchase, treatment_body
from tests.integration.test_treatments_pages import csrf_of, form_data, page_url

TREATMENTS = "/api/v1/treatments"
SHEET = "/api/v1/aftercare-sheet"


def aftercare_mail() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == "aftercare").order_by(OutboxMessage.id)))


def test_a_treatment_emails_the_default_aftercare_and_the_next_eligible_date(
        app, api, clinic_stock):
    ada = make_client(email="ada@clients.example")
    purchase = make_series_purchase(ada, "FACE-3")
    done = api("provider").post(TREATMENTS, json={
        **treatment_body(ada.id, purchase.id, screening=all_clear(eczema=True),
                         acknowledged=["eczema"]),
        "notes": "Forehead, tolerated well"})
    assert done.status_code == 201
    body = done.get_json()
    next_on = (clock.today() + timedelta(days=28)).isoformat()
    assert (body["aftercare_emailed"], body["next_eligible_on"]) == (True, next_on)
    [mail] = aftercare_mail()
    assert (mail.channel, mail.recipients, mail.delivered_at) == (
        "email", "ada@clients.example", None)
    assert mail.subject.startswith("Your aftercare")
    assert "24 to 48 hours" in mail.body and "Copper + HA Mist" in mail.body
    assert f"can be booked from {next_on} (2 left)" in mail.body
    # Nothing clinical: no condition, no note, no name.
    for word in ("czema", "Forehead", "Ada", "Lovelace"):
        assert word not in mail.body and word not in mail.subject


def test_the_last_session_of_a_series_says_so(app, api, clinic_stock):
    ada = make_client()
    done = api("provider").post(TREATMENTS, json=treatment_body(
        ada.id, make_series_purchase(ada, "FACE-1").id))
    assert done.get_json()["next_eligible_on"] is None
    [mail] = aftercare_mail()
    assert "This was the last session of your series." in mail.body


def test_the_clinics_own_sheet_replaces_the_default(app, api, clinic_stock):
    assert api("provider").get(SHEET).get_json()["is_default"] is True
    for role in ("front_desk", "manager", "admin"):
        assert api(role).get(SHEET).status_code == 403
    assert api("provider").post(SHEET, json={"text": "Ours"}).status_code == 403
    assert api("provider+manager").post(SHEET, json={"text": " "}).status_code == 422
    saved = api("provider+manager").post(SHEET, json={"text": "Our own aftercare: rest."})
    assert saved.status_code == 201
    assert saved.get_json()["is_default"] is False
    ada = make_client()
    api("provider").post(TREATMENTS, json=treatment_body(
        ada.id, make_series_purchase(ada, "FACE-3").id))
    [mail] = aftercare_mail()
    assert "Our own aftercare: rest." in mail.body and "24 to 48 hours" not in mail.body


def test_the_page_says_aftercare_was_emailed_and_the_sheet_page_edits_it(
        app, client, login_as, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    done = client.post(page_url(ada.id), data=form_data(html, purchase.id),
                       follow_redirects=True)
    assert "Aftercare emailed to the client." in done.get_data(as_text=True)
    page = client.get("/aftercare-sheet").get_data(as_text=True)
    assert 'id="aftercare-default"' in page and "Save the aftercare sheet" not in page
    login_as("provider+manager")
    page = client.get("/aftercare-sheet").get_data(as_text=True)
    saved = client.post("/aftercare-sheet", data={"csrf_token": csrf_of(page),
                                                  "text": "Rest and mist."},
                        follow_redirects=True)
    assert "Aftercare sheet saved" in saved.get_data(as_text=True)
    assert 'id="aftercare-default"' not in saved.get_data(as_text=True)
