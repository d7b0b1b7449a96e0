"""Consent: the form as versioned clinic data, a client's signature on the version in
force (API and the signature pad page), treatments refused without it, provider-only and
audited reads."""
from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta

from sqlalchemy import select

from pos.extensions import db
from pos.models import AuditEntry, ClientConsent, Treatment
from pos.services import clock
from tests.fixtures_clinical import (
    SIGNATURE_PNG,
    make_client,
    make_series_purchase,
    treatment_body,
)
from tests.integration.test_treatments_pages import csrf_of

FORM = "/api/v1/consent-form"
TREATMENTS = "/api/v1/treatments"
PNG_B64 = base64.b64encode(SIGNATURE_PNG).decode()


def consents_url(client_id: int) -> str:
    return f"/api/v1/clients/{client_id}/consents"


def test_the_seeded_form_is_served_unreviewed_to_providers_only(app, api):
    got = api("provider").get(FORM)
    assert got.status_code == 200
    body = got.get_json()
    assert (body["version"], body["reviewed"]) == (1, False)
    assert "microneedling" in body["text"] and "lidocaine" in body["text"]
    for role in ("front_desk", "manager", "admin", "front_desk+admin"):
        assert api(role).get(FORM).status_code == 403
        assert api(role).post(FORM, json={"text": "x"}).status_code == 403
    assert api("provider").post(FORM, json={"text": "New text"}).status_code == 403
    published = api("provider+manager").post(FORM, json={"text": "Consent v2 text"})
    assert published.status_code == 201
    assert published.get_json()["version"] == 2 and published.get_json()["reviewed"] is True
    assert api("provider").get(FORM).get_json()["text"] == "Consent v2 text"
    assert api("provider+manager").post(FORM, json={"text": "  "}).status_code == 422


def test_a_treatment_needs_a_signed_consent_to_the_form_in_force(app, api, clinic_stock,
                                                                  caplog):
    caplog.set_level(logging.DEBUG)
    provider = api("provider")
    ada = make_client(consent_signed=False)
    purchase = make_series_purchase(ada, "FACE-3")
    refused = provider.post(TREATMENTS, json=treatment_body(ada.id, purchase.id))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "consent_required"
    assert refused.get_json()["error"]["details"] == {"form_version": 1}

    outdated = provider.post(consents_url(ada.id), json={"form_version": 2,
                                                         "signature_png_base64": PNG_B64})
    assert outdated.status_code == 422
    assert outdated.get_json()["error"]["code"] == "consent_form_outdated"
    signed = provider.post(consents_url(ada.id), json={
        "form_version": 1, "signature_png_base64": "data:image/png;base64," + PNG_B64})
    assert signed.status_code == 201, signed.get_json()
    body = signed.get_json()
    assert (body["client_id"], body["form_version"], body["witness"]) == (ada.id, 1, "provider")
    row = db.session.get(ClientConsent, body["id"])
    assert row.signature_png == SIGNATURE_PNG
    assert provider.post(TREATMENTS, json=treatment_body(ada.id, purchase.id)).status_code \
        == 201

    # A new version of the form: the next treatment, even one recorded for an earlier
    # date, waits for a signature on it.
    api("provider+manager").post(FORM, json={"text": "Consent v2"})
    earlier = (clock.now() - timedelta(days=60)).isoformat()
    again = provider.post(TREATMENTS, json=treatment_body(ada.id, purchase.id,
                                                          performed_at=earlier))
    assert again.get_json()["error"]["code"] == "consent_required"
    assert again.get_json()["error"]["details"] == {"form_version": 2}
    assert provider.post(consents_url(ada.id), json={
        "form_version": 1, "signature_png_base64": PNG_B64}).get_json()["error"]["code"] \
        == "consent_form_outdated"
    assert provider.post(consents_url(ada.id), json={
        "form_version": 2, "signature_png_base64": PNG_B64}).status_code == 201
    assert db.session.scalar(select(Treatment.id).where(Treatment.client_id == ada.id))

    # The signature never goes to the logs or the audit trail.
    assert PNG_B64[:40] not in caplog.text
    details = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))])
    assert PNG_B64[:40] not in details


def test_a_signature_must_be_a_png(app, api):
    ada = make_client(consent_signed=False)
    provider = api("provider")
    for bad in ("not base64!", base64.b64encode(b"GIF89a" + b"0" * 80).decode(), "",
                "data:image/png;base64,AAAA"):
        refused = provider.post(consents_url(ada.id), json={"form_version": 1,
                                                            "signature_png_base64": bad})
        assert refused.status_code == 422, bad
        assert refused.get_json()["error"]["code"] == "validation_error"
    assert provider.post(consents_url(999999), json={
        "form_version": 1, "signature_png_base64": PNG_B64}).status_code == 404
    assert db.session.scalar(select(ClientConsent.id)) is None


def test_consents_are_provider_only_and_every_read_is_audited(app, api):
    ada = make_client()
    for role in ("front_desk", "manager", "admin", "front_desk+admin"):
        assert api(role).get(consents_url(ada.id)).status_code == 403
        assert api(role).post(consents_url(ada.id), json={
            "form_version": 1, "signature_png_base64": PNG_B64}).status_code == 403
    listed = api("provider").get(consents_url(ada.id))
    assert listed.status_code == 200
    assert [c["form_version"] for c in listed.get_json()] == [1]
    reads = [e.details for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "clinical.read"))]
    assert {"record": "consents", "record_id": None} in reads


def test_the_signature_pad_page_saves_a_drawn_signature_and_prints_it(
        app, client, login_as, clinic_stock):
    ada = make_client("Ada", "Pad", consent_signed=False)
    make_series_purchase(ada, "FACE-3")
    login_as("manager")
    assert client.get(f"/clients/{ada.id}/consent").status_code == 403
    login_as("provider")
    treatments_page = client.get(f"/clients/{ada.id}/treatments").get_data(as_text=True)
    assert 'id="consent-missing"' in treatments_page
    html = client.get(f"/clients/{ada.id}/consent").get_data(as_text=True)
    assert 'id="signature-pad"' in html and "signature.js" in html
    assert 'aria-label="Unreviewed consent form"' in html and 'id="consent-missing"' in html
    unsigned = client.post(f"/clients/{ada.id}/consent", data={
        "csrf_token": csrf_of(html), "form_version": "1", "signature": ""})
    assert unsigned.status_code == 422
    assert "The client has not signed." in unsigned.get_data(as_text=True)
    done = client.post(f"/clients/{ada.id}/consent", data={
        "csrf_token": csrf_of(html), "form_version": "1",
        "signature": "data:image/png;base64," + PNG_B64}, follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "signed by Ada Pad, witnessed by provider" in text
    assert 'id="consent-current"' in text
    consent_id = db.session.scalar(select(ClientConsent.id))
    printable = client.get(f"/clients/{ada.id}/consents/{consent_id}").get_data(as_text=True)
    assert f'src="data:image/png;base64,{PNG_B64}"' in printable
    assert '<span class="witness">provider</span>' in printable
    assert "Consent to medical microneedling" in printable
    assert {"record": "consent", "record_id": consent_id} in [
        e.details for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "clinical.read"))]
    assert 'id="consent-missing"' not in client.get(
        f"/clients/{ada.id}/treatments").get_data(as_text=True)


def test_a_director_publishes_the_consent_form_from_the_page(app, client, login_as):
    login_as("provider")
    page = client.get("/consent-form").get_data(as_text=True)
    assert 'aria-label="Unreviewed consent form"' in page and "Publish as the next version" not in page
    login_as("provider+manager")
    page = client.get("/consent-form").get_data(as_text=True)
    done = client.post("/consent-form", data={"csrf_token": csrf_of(page),
                                              "text": "Reviewed consent text"},
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Consent form version 2 published" in text
    assert 'aria-label="Unreviewed consent form"' not in text


def test_a_signature_retried_with_its_idempotency_key_is_stored_once(app, api):
    ada = make_client(consent_signed=False)
    provider = api("provider")
    body = {"form_version": 1, "signature_png_base64": PNG_B64}
    headers = {"Idempotency-Key": "sign-ada-1"}
    first = provider.post(consents_url(ada.id), json=body, headers=headers)
    again = provider.post(consents_url(ada.id), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(db.session.scalars(select(ClientConsent)).all()) == 1
