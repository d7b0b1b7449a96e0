"""The screening questionnaire as versioned clinic data: read by providers, published by a
provider who is also a manager; treatments answer the version in force and store it; the
waits of the director's questions; the unreviewed banner; last visit's answers to confirm."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from pos.domain.screening import DEFAULT_QUESTIONNAIRE
from pos.extensions import db
from pos.models import AuditEntry, ScreeningQuestionnaire, Treatment
from pos.services import clock
from tests.fixtures_clinical import all_clear, make_client, make_series_purchase, treatment_body
from tests.integration.test_treatments_pages import csrf_of, form_data, page_url

URL = "/api/v1/screening/questionnaire"
TREATMENTS = "/api/v1/treatments"
NEW_QUESTION = {"key": "gold_threads", "text": "Gold threads in the area", "type": "boolean",
                "rule": "avoid_area"}
BANNER = 'aria-label="Unreviewed questionnaire"'
DIRECTORS_FIVE = ["lidocaine_allergy", "isotretinoin_last_taken_on",
                  "topical_retinoid_last_used_on", "sunburn_in_area", "peel_or_laser_last_on"]


def days_ago(n: int) -> str:
    return (clock.today() - timedelta(days=n)).isoformat()


def test_the_default_version_is_served_unreviewed_to_providers_only(app, api):
    got = api("provider").get(URL)
    assert got.status_code == 200
    body = got.get_json()
    assert (body["version"], body["reviewed"]) == (1, False)
    keys = [q["key"] for q in body["questions"]]
    assert keys[-5:] == DIRECTORS_FIVE
    assert "last_botox_on" in keys and len(keys) == 23
    by_key = {q["key"]: q for q in body["questions"]}
    assert by_key["isotretinoin_last_taken_on"] == {
        "key": "isotretinoin_last_taken_on", "text": "Last isotretinoin (Accutane) taken",
        "type": "date", "rule": "wait_days", "wait_days": 183}
    assert by_key["lidocaine_allergy"]["rule"] == "contraindicated"
    for role in ("front_desk", "manager", "admin", "front_desk+admin"):
        assert api(role).get(URL).status_code == 403


def test_only_a_provider_who_is_also_a_manager_publishes(app, api):
    questions = [*DEFAULT_QUESTIONNAIRE.to_json(), NEW_QUESTION]
    for role in ("provider", "manager", "admin", "front_desk+admin"):
        refused = api(role).post(URL, json={"questions": questions})
        assert refused.status_code == 403, role
    published = api("provider+manager").post(URL, json={"questions": questions})
    assert published.status_code == 201, published.get_json()
    body = published.get_json()
    assert (body["version"], body["reviewed"]) == (2, True)
    assert body["questions"][-1] == NEW_QUESTION
    assert api("provider").get(URL).get_json()["version"] == 2
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "screening.publish"))
    assert entry.details == {"version": 2, "questions": 24}
    again = api("provider+manager").post(URL, json={"questions": questions})
    assert again.get_json()["version"] == 3


def test_a_malformed_questionnaire_is_422_and_publishes_nothing(app, api):
    director = api("provider+manager")
    for body in ({"questions": []},
                 {"questions": [{**NEW_QUESTION, "type": "date"}]},
                 {"questions": [{**NEW_QUESTION, "wait_days": 3}]},
                 {"questions": [NEW_QUESTION, NEW_QUESTION]},
                 {"questions": [{**NEW_QUESTION, "rule": "forbidden"}]},
                 {"questions": [{**NEW_QUESTION, "key": "Not A Key"}]}):
        refused = director.post(URL, json=body)
        assert refused.status_code == 422, body
        assert refused.get_json()["error"]["code"] == "validation_error"
    assert db.session.scalar(select(ScreeningQuestionnaire.id)) is None


def test_a_treatment_answers_the_version_in_force_and_stores_it(app, api, clinic_stock):
    provider = api("provider")
    ada = make_client()
    first = provider.post(TREATMENTS, json=treatment_body(
        ada.id, make_series_purchase(ada, "FACE-1").id))
    assert first.status_code == 201
    assert db.session.get(Treatment, first.get_json()["id"]).questionnaire_version == 1

    api("provider+manager").post(URL, json={
        "questions": [*DEFAULT_QUESTIONNAIRE.to_json(), NEW_QUESTION]})
    bob = make_client("Bob")
    purchase = make_series_purchase(bob, "FACE-1")
    stale = provider.post(TREATMENTS, json=treatment_body(bob.id, purchase.id))
    assert stale.status_code == 422
    error = stale.get_json()["error"]
    assert error["code"] == "screening_incomplete"
    assert error["details"]["missing"] == ["gold_threads"]
    assert error["details"]["questionnaire_version"] == 2
    # The new question's rule applies: avoid the area unless treated around.
    refused = provider.post(TREATMENTS, json=treatment_body(
        bob.id, purchase.id, screening=all_clear(gold_threads=True)))
    assert refused.get_json()["error"]["code"] == "avoid_area"
    done = provider.post(TREATMENTS, json=treatment_body(
        bob.id, purchase.id, screening=all_clear(gold_threads=True),
        acknowledged=["gold_threads"]))
    assert done.status_code == 201, done.get_json()
    row = db.session.get(Treatment, done.get_json()["id"])
    assert row.questionnaire_version == 2
    assert row.screening["gold_threads"] is True
    assert row.acknowledged_cautions == ["gold_threads"]


def test_the_v1_answers_alone_are_incomplete_against_the_default_version(app, api,
                                                                          clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-1")
    v1 = {k: v for k, v in all_clear().items() if k not in DIRECTORS_FIVE}
    refused = api("provider").post(TREATMENTS, json=treatment_body(ada.id, purchase.id,
                                                                   screening=v1))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "screening_incomplete"
    assert refused.get_json()["error"]["details"]["missing"] == sorted(DIRECTORS_FIVE)


def test_the_directors_waits_and_contraindications_through_the_api(app, api, clinic_stock):
    provider = api("provider")
    cases = [
        (dict(isotretinoin_last_taken_on=days_ago(182)), "wait_required",
         {"key": "isotretinoin_last_taken_on", "eligible_on": days_ago(-1)}),
        (dict(topical_retinoid_last_used_on=days_ago(4)), "wait_required",
         {"key": "topical_retinoid_last_used_on", "eligible_on": days_ago(-1)}),
        (dict(peel_or_laser_last_on=days_ago(13)), "wait_required",
         {"key": "peel_or_laser_last_on", "eligible_on": days_ago(-1)}),
        (dict(last_botox_on=days_ago(13)), "botox_wait", {"eligible_on": days_ago(-1)}),
        (dict(lidocaine_allergy=True), "contraindicated",
         {"contraindications": ["lidocaine_allergy"]}),
        (dict(sunburn_in_area=True), "contraindicated",
         {"contraindications": ["sunburn_in_area"]}),
    ]
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    for answers, code, details in cases:
        refused = provider.post(TREATMENTS, json=treatment_body(
            ada.id, purchase.id, screening=all_clear(**answers)))
        assert refused.status_code == 422, answers
        assert refused.get_json()["error"]["code"] == code
        assert refused.get_json()["error"]["details"] == details
    done = provider.post(TREATMENTS, json=treatment_body(ada.id, purchase.id, screening=all_clear(
        isotretinoin_last_taken_on=days_ago(183), topical_retinoid_last_used_on=days_ago(5),
        peel_or_laser_last_on=days_ago(14), last_botox_on=days_ago(14))))
    assert done.status_code == 201, done.get_json()


def test_the_unreviewed_banner_shows_until_a_director_publishes_from_the_page(
        app, client, login_as, clinic_stock):
    ada = make_client()
    make_series_purchase(ada, "FACE-3")
    login_as("provider")
    assert BANNER in client.get(page_url(ada.id)).get_data(as_text=True)
    page = client.get("/screening/questionnaire").get_data(as_text=True)
    assert BANNER in page
    assert "Publish a new version" not in page  # a provider alone reads it only

    login_as("provider+manager")
    page = client.get("/screening/questionnaire").get_data(as_text=True)
    assert "Publish a new version" in page
    bad = client.post("/screening/questionnaire", data={"csrf_token": csrf_of(page),
                                                         "questions": "[1, 2"})
    assert bad.status_code == 422
    assert "Not valid JSON" in bad.get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    import html as html_lib
    done = client.post("/screening/questionnaire", data={
        "csrf_token": csrf_of(page), "questions": html_lib.unescape(textarea)},
        follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Questionnaire version 2 published" in text
    assert BANNER not in text
    login_as("provider")
    assert BANNER not in client.get(page_url(ada.id)).get_data(as_text=True)


def test_the_form_shows_last_visits_answers_to_confirm_never_prefilled(
        app, client, login_as, api, clinic_stock):
    ada = make_client()
    single = make_series_purchase(ada, "FACE-1")
    series = make_series_purchase(ada, "FACE-3")
    assert api("provider").post(TREATMENTS, json=treatment_body(
        ada.id, single.id, screening=all_clear(eczema=True, last_botox_on=days_ago(200)),
        acknowledged=["eczema"])).status_code == 201
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    assert 'data-field="q_eczema" data-value="yes"' in html
    assert 'data-field="q_diabetes" data-value="no"' in html
    assert f'data-field="q_last_botox_on" data-value="{days_ago(200)}"' in html
    assert html.count('class="confirm-last"') == len(DEFAULT_QUESTIONNAIRE.questions)
    # Nothing answered for the provider: no radio is checked, no date filled in.
    assert not re.search(r'<input[^>]*type="radio"[^>]*checked', html)
    assert not re.search(r'<input[^>]*name="q_last_botox_on"[^>]*value="\d', html)
    # A screening left unanswered is refused, not taken as last visit's.
    unanswered = client.post(page_url(ada.id), data={
        "csrf_token": csrf_of(html), "purchase_id": str(series.id), "area": "face"})
    assert unanswered.status_code == 422
    done = client.post(page_url(ada.id), data=form_data(
        html, series.id, yes=("eczema",), acknowledged=("eczema",), botox=days_ago(200)))
    assert done.status_code == 302


def test_the_screening_page_shows_the_version_and_the_directors_answers(
        app, client, login_as, api, clinic_stock):
    ada = make_client()
    done = api("provider").post(TREATMENTS, json={**treatment_body(
        ada.id, make_series_purchase(ada, "FACE-1").id,
        screening=all_clear(topical_retinoid_last_used_on=days_ago(30))),
        "settings": {"needle_depth_mm": 1.25}, "notes": "Chin only"})
    login_as("provider")
    page = client.get(f"/clients/{ada.id}/treatments/{done.get_json()['id']}/screening")
    text = page.get_data(as_text=True)
    assert '<span id="questionnaire-version">1</span>' in text
    assert "Last topical retinoid used" in text and days_ago(30) in text
    assert "1.25 mm" in text and "Chin only" in text
    assert 'by <span class="provider">provider</span>' in text
