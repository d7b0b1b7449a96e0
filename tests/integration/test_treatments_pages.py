"""The clinical pages: recording a treatment with its screening, who sees the answers (and
that each look is audited), voiding the same day, and the bill-of-materials editor."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.domain.screening import BOOLEAN_KEYS, CONDITIONS_BY_KEY, DEFAULT_QUESTIONNAIRE
from pos.extensions import db
from pos.models import AuditEntry, Package, PackagePurchase, Treatment
from tests.fixtures_clinical import (
    all_clear,
    lots_on_hand,
    make_client,
    make_series_purchase,
    treatment_body,
)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def form_data(page: str, purchase_id: int, *, yes: tuple[str, ...] = (),
              acknowledged: tuple[str, ...] = (), botox: str = "",
              skip: tuple[str, ...] = (), area: str = "face") -> dict[str, Any]:
    data: dict[str, Any] = {"csrf_token": csrf_of(page), "purchase_id": str(purchase_id),
                            "area": area, "q_last_botox_on": botox,
                            "acknowledged": list(acknowledged)}
    for key in DEFAULT_QUESTIONNAIRE.boolean_keys:
        if key not in skip:
            data[f"q_{key}"] = "yes" if key in yes else "no"
    return data


def page_url(client_id: int) -> str:
    return f"/clients/{client_id}/treatments"


def treatments_of(purchase_id: int) -> list[Treatment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Treatment).where(Treatment.purchase_id == purchase_id)))


def screening_views() -> list[AuditEntry]:
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action
                                                          == "clinical.read"))
    return [e for e in entries if e.details.get("record") == "screening"]


def test_a_provider_records_a_treatment_from_the_clients_page(app, client, login_as,
                                                             clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    page = client.get(page_url(ada.id))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Contraindications", "Avoid the area", "Cautions"):
        assert heading in html
    for key in BOOLEAN_KEYS:
        assert CONDITIONS_BY_KEY[key].label in html
    assert "0 of 3" in html

    done = client.post(page_url(ada.id), data=form_data(html, purchase.id, yes=("eczema",),
                                                        acknowledged=("eczema",)),
                       follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Session 1 recorded; 2 left." in text
    assert "first-visit bundle" in text
    [treatment] = treatments_of(purchase.id)
    assert treatment.screening["eczema"] is True
    assert treatment.acknowledged_cautions == ["eczema"]
    assert lots_on_hand("C-SOON", "FV-1") == {"C-SOON": 9, "FV-1": 4}
    assert "1 of 3" in text


def test_the_page_shows_a_too_soon_refusal_with_the_eligible_date(app, client, login_as,
                                                                  api, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    assert api("provider").post("/api/v1/treatments", json=treatment_body(
        ada.id, purchase.id)).status_code == 201
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    refused = client.post(page_url(ada.id), data=form_data(html, purchase.id))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'data-code="too_soon"' in text
    from datetime import timedelta

    from pos.services import clock
    eligible = (clock.today() + timedelta(days=28)).isoformat()
    assert f'<strong id="eligible-on">{eligible}</strong>' in text
    assert len(treatments_of(purchase.id)) == 1


def test_the_page_refuses_a_contraindication_naming_it(app, client, login_as, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    refused = client.post(page_url(ada.id), data=form_data(
        html, purchase.id, yes=("immunosuppressed",)))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'data-code="contraindicated"' in text
    assert "Immunosuppressed condition or medication" in text
    assert treatments_of(purchase.id) == []


def test_an_unanswered_question_is_never_taken_as_no(app, client, login_as, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    refused = client.post(page_url(ada.id), data=form_data(html, purchase.id,
                                                           skip=("scleroderma",)))
    assert refused.status_code == 422
    assert "Answer yes or no." in refused.get_data(as_text=True)
    assert treatments_of(purchase.id) == []


def test_a_botox_wait_shows_the_first_eligible_date(app, client, login_as, clinic_stock):
    from datetime import timedelta

    from pos.services import clock

    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    botox = (clock.today() - timedelta(days=3)).isoformat()
    refused = client.post(page_url(ada.id), data=form_data(html, purchase.id, botox=botox))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'data-code="botox_wait"' in text
    assert (clock.today() + timedelta(days=11)).isoformat() in text


def test_screening_answers_are_shown_to_clinical_staff_and_each_view_is_audited(
        app, client, login_as, api, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    done = api("provider").post("/api/v1/treatments", json=treatment_body(
        ada.id, purchase.id, screening=all_clear(diabetes=True), acknowledged=["diabetes"]))
    treatment_id = done.get_json()["id"]
    url = f"/clients/{ada.id}/treatments/{treatment_id}/screening"

    provider = login_as("provider")
    first = client.get(url)
    assert first.status_code == 200
    assert re.search(r"<td>Diabetes</td><td>Yes</td>", first.get_data(as_text=True))
    lead = login_as("provider+manager")
    assert client.get(url).status_code == 200
    views = screening_views()
    assert [(v.user_id, v.entity, v.entity_id, v.details) for v in views] == [
        (provider.id, "client", str(ada.id), {"record": "screening", "record_id": treatment_id}),
        (lead.id, "client", str(ada.id), {"record": "screening", "record_id": treatment_id})]

    # Need-to-know: neither the desk nor a manager or admin without `provider`.
    for role in ("front_desk", "manager", "admin"):
        login_as(role)
        assert client.get(url).status_code == 403, role
        assert client.get(page_url(ada.id)).status_code == 403, role
    assert len(screening_views()) == 2


def test_the_treatments_page_does_not_show_answers_without_a_view(app, client, login_as, api,
                                                                   clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    api("provider").post("/api/v1/treatments", json=treatment_body(
        ada.id, purchase.id, screening=all_clear(psoriasis=True), acknowledged=["psoriasis"]))
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    assert "Show screening" in html
    assert "answer-yes" not in html
    assert screening_views() == []


@pytest.mark.parametrize("role, status", [("front_desk", 403), ("provider", 200),
                                          ("manager", 403), ("admin", 403),
                                          ("provider+manager", 200), ("front_desk+admin", 403)])
def test_treatments_page_roles(app, client, login_as, clinic_stock, role, status):
    ada = make_client()
    login_as(role)
    assert client.get(page_url(ada.id)).status_code == status


@pytest.mark.parametrize("path", ["/recall", "/recall.csv?lot=C-SOON", "/packages",
                                  "/packages/FACE-3/supplies"])
@pytest.mark.parametrize("role, status", [("front_desk", 403), ("provider", 403),
                                          ("manager", 200), ("admin", 200)])
def test_recall_and_packages_are_for_managers(app, client, login_as, clinic_stock, path, role,
                                              status):
    login_as(role)
    assert client.get(path).status_code == status


def test_front_desk_cannot_record_a_treatment_through_the_api_or_the_page(
        app, client, login_as, api, clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    response = api("front_desk").post("/api/v1/treatments",
                                      json=treatment_body(ada.id, purchase.id))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    login_as("front_desk")
    token = csrf_of(client.get("/stock/").get_data(as_text=True))
    assert client.post(page_url(ada.id), data={"csrf_token": token}).status_code == 403
    assert treatments_of(purchase.id) == []


def test_a_provider_voids_a_mistake_from_the_page_the_same_day(app, client, login_as, api,
                                                               clinic_stock):
    ada = make_client()
    purchase = make_series_purchase(ada, "FACE-3")
    treatment_id = api("provider").post("/api/v1/treatments", json=treatment_body(
        ada.id, purchase.id)).get_json()["id"]
    login_as("manager")
    assert client.get(page_url(ada.id)).status_code == 403
    login_as("provider")
    html = client.get(page_url(ada.id)).get_data(as_text=True)
    assert "Void and write off supplies" in html
    assert f'id="void-reason-{treatment_id}"' in html
    url = f"/clients/{ada.id}/treatments/{treatment_id}/void"
    no_reason = client.post(url, data={"csrf_token": csrf_of(html), "reason": " "},
                            follow_redirects=True)
    assert "Not voided: Say why" in no_reason.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 2
    done = client.post(url, data={"csrf_token": csrf_of(html), "reason": "Wrong client"},
                       follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Treatment voided" in text
    assert "Written off as waste: 1 CART (lot C-SOON)" in text
    assert "VOIDED" in text
    assert "Voided: Wrong client" in text
    db.session.expire_all()
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 3
    # The cartridge stays used, and the bundle the client took home stays handed out.
    assert lots_on_hand("C-SOON", "FV-1") == {"C-SOON": 9, "FV-1": 4}


def test_a_manager_edits_the_bill_of_materials_for_future_treatments(app, client, login_as,
                                                                     clinic_stock):
    login_as("manager")
    url = "/packages/FACE-3/supplies"
    html = client.get(url).get_data(as_text=True)
    ids = {sku: clinic_stock.id_of(sku) for sku in ("CART", "LIDO", "HA", "MASK", "MIST")}
    data = {"csrf_token": csrf_of(html), **{f"qty_{ids[s]}": "0" for s in ids}}
    data.update({f"qty_{ids['CART']}": "1", f"qty_{ids['LIDO']}": "4",
                 f"qty_{ids['MASK']}": "2"})
    saved = client.post(url, data=data, follow_redirects=True)
    assert saved.status_code == 200
    assert "applies to treatments recorded from now on" in saved.get_data(as_text=True)
    db.session.expire_all()
    package = db.session.scalar(select(Package).where(Package.code == "FACE-3"))
    assert sorted((s.item.sku, s.quantity) for s in package.supplies) == [
        ("CART", 1), ("LIDO", 4), ("MASK", 2)]
    bad = client.post(url, data={**data, f"qty_{ids['LIDO']}": "-3"})
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "package.supplies")) == 1
    listing = client.get("/packages").get_data(as_text=True)
    assert "4 ml LIDO" in listing
