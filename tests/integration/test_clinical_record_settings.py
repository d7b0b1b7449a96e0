"""A treatment's notes and pen settings (needle depth, passes, device), and the provider's
name on the record: through the API and on the client's treatment page."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from pos.extensions import db
from pos.models import AuditEntry, Treatment
from tests.fixtures_clinical import make_client, make_series_purchase, treatment_body
from tests.integration.test_treatments_pages import csrf_of, form_data, page_url

TREATMENTS = "/api/v1/treatments"
NOTE = "Forehead lines; client tolerated well"


def treatment(treatment_id: int) -> Treatment:
    db.session.expire_all()
    return db.session.get(Treatment, treatment_id)


def test_a_treatment_records_notes_and_settings_and_returns_the_provider(
        app, api, clinic_stock, caplog):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    caplog.set_level(logging.DEBUG)
    done = api("provider").post(TREATMENTS, json={
        **treatment_body(client.id, purchase.id), "notes": NOTE,
        "settings": {"needle_depth_mm": 1.5, "passes": 3, "device": "MDPen"}})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["provider"] == "provider"
    row = treatment(done.get_json()["id"])
    assert row.notes == NOTE
    assert row.settings == {"needle_depth_mm": 1.5, "passes": 3, "device": "MDPen"}
    # Clinical text never goes to the logs or the audit trail.
    assert NOTE not in caplog.text
    details = [json.dumps(e.details) for e in db.session.scalars(select(AuditEntry))]
    assert not any("Forehead" in d or "needle" in d for d in details)

    # Read back (providers only, audited) with the screening.
    view = api("provider").get(f"/api/v1/treatments/{row.id}/screening").get_json()
    assert (view["provider"], view["notes"]) == ("provider", NOTE)
    assert view["settings"]["needle_depth_mm"] == 1.5
    for role in ("front_desk", "manager", "admin", "manager+admin"):
        refused = api(role).get(f"/api/v1/treatments/{row.id}/screening")
        assert refused.status_code == 403


def test_settings_are_optional_and_the_depth_edges_are_accepted(app, api, clinic_stock):
    provider = api("provider")
    for depth in (0.25, 2.5, 1):
        client = make_client()
        purchase = make_series_purchase(client, "FACE-1")
        body = {**treatment_body(client.id, purchase.id), "settings": {"needle_depth_mm": depth}}
        done = provider.post(TREATMENTS, json=body)
        assert done.status_code == 201, (depth, done.get_json())
        assert treatment(done.get_json()["id"]).settings["needle_depth_mm"] == depth
    client = make_client()
    plain = provider.post(TREATMENTS, json=treatment_body(
        client.id, make_series_purchase(client, "FACE-1").id))
    assert plain.status_code == 201
    assert treatment(plain.get_json()["id"]).settings is None


@pytest.mark.parametrize("settings", [
    {"needle_depth_mm": 3.0}, {"needle_depth_mm": 0.2}, {"needle_depth_mm": 2.51},
    {"passes": 2}, {"needle_depth_mm": "1.5"}, {"needle_depth_mm": True},
    {"needle_depth_mm": 1.5, "passes": 0}, {"needle_depth_mm": 1.5, "speed": 3},
])
def test_a_needle_depth_out_of_the_pens_range_or_missing_is_422(
        app, api, clinic_stock, settings):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    refused = api("provider").post(TREATMENTS, json={
        **treatment_body(client.id, purchase.id), "settings": settings})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "validation_error"
    assert any(field.startswith("settings") for field in error["details"]["fields"])
    assert db.session.scalar(select(Treatment.id)) is None


def test_the_page_records_depth_and_notes_and_the_history_shows_the_provider(
        app, client, login_as, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    for label in ("Needle depth, mm (0.25-2.5)", "Passes", "Device", "Notes"):
        assert label in html
    too_deep = client.post(page_url(ada.id), data={
        **form_data(html, purchase.id), "needle_depth_mm": "3.0"})
    assert too_deep.status_code == 422
    assert "The MDPen&#39;s range is 0.25 to 2.5 mm." in too_deep.get_data(as_text=True)
    assert db.session.scalar(select(Treatment.id)) is None

    done = client.post(page_url(ada.id), data={
        **form_data(html, purchase.id), "needle_depth_mm": "1.5", "passes": "3",
        "device": "MDPen", "notes": NOTE}, follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Provider: provider." in text
    assert '<td class="provider">provider</td>' in text
    assert "1.50 mm, 3 passes, MDPen" in text
    assert NOTE in text
    [row] = db.session.scalars(select(Treatment)).all()
    assert row.settings == {"needle_depth_mm": 1.5, "passes": 3, "device": "MDPen"}
    assert row.notes == NOTE


def test_passes_without_a_depth_are_refused_on_the_page(app, client, login_as, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    refused = client.post(page_url(ada.id), data={**form_data(html, purchase.id),
                                                  "passes": "2", "csrf_token": csrf_of(html)})
    assert refused.status_code == 422
    assert "Give the needle depth" in refused.get_data(as_text=True)


def test_an_unanswered_screening_is_summarised_at_the_top_of_the_form(app, client, login_as,
                                                                      clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    refused = client.post(page_url(ada.id), data=form_data(html, purchase.id,
                                                            skip=("eczema", "warts")))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="form-errors" class="error-summary" role="alert"' in text
    assert '<a href="#q_eczema-0">Eczema: Answer yes or no.</a>' in text
    assert 'aria-invalid="true" aria-describedby="q_warts-error"' in text
