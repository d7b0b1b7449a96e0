"""The clinical record in a real browser on a 1024x768 tablet: a provider has the client
sign the new consent form with the mouse, re-confirms last visit's answers one click each,
records a needle depth of 1.5 mm, and the record shows the provider's name."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pos.domain.screening import DEFAULT_QUESTIONNAIRE
from pos.extensions import db
from pos.models import ClientConsent, ConsentForm, Treatment
from pos.services import clock, treatments
from tests.e2e.conftest import browser_login
from tests.fixtures_clinical import (
    all_clear,
    make_client,
    make_clinic_stock,
    make_series_purchase,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def returning(live_app):  # type: ignore[no-untyped-def]
    """A client treated 40 days ago (consent v1 signed then); since then the clinic
    published consent form v2, so today they must sign again."""
    provider = live_app.users("provider")
    with live_app.context():
        make_clinic_stock()
        client = make_client("Ada", "Lovelace")
        first = make_series_purchase(client, "FACE-1")
        treatments.perform_treatment(
            client_id=client.id, purchase_id=first.id, area="face",
            screening_raw=all_clear(eczema=True), acknowledged_cautions=["eczema"],
            performed_at=clock.now() - timedelta(days=40), user_id=provider["id"],
            bundle_sku="BUNDLE-FV")
        make_series_purchase(client, "FACE-3")
        db.session.add(ConsentForm(version=2, text="Consent form, second version.",
                                   published_at=clock.now()))
        db.session.commit()
        live_app.client_id = client.id
    return live_app


def test_a_provider_has_the_consent_signed_reconfirms_and_records_a_depth(page, returning):
    browser_login(page, returning, "provider")
    base = f"{returning.url}/clients/{returning.client_id}"
    page.goto(f"{base}/treatments")
    expect(page.locator("#consent-missing")).to_be_visible()
    page.locator("#consent-missing a").click()

    # The client signs on the pad with the mouse.
    expect(page.get_by_text("Consent form, second version.")).to_be_visible()
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1024
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 25,
                        box["y"] + box["height"] * (0.3 + (step % 3) * 0.15))
    page.mouse.up()
    page.get_by_role("button", name="Save the signed consent").click()
    expect(page.get_by_role("status")).to_contain_text("witnessed by provider")
    expect(page.locator("#consent-current")).to_be_visible()

    # Last visit's answers, confirmed one click each; nothing was pre-answered.
    page.goto(f"{base}/treatments")
    expect(page.locator("#consent-missing")).to_have_count(0)
    assert page.locator("input[type=radio]:checked").count() == 0
    buttons = page.locator("button.confirm-last")
    expect(buttons).to_have_count(len(DEFAULT_QUESTIONNAIRE.questions))
    for i in range(buttons.count()):
        buttons.nth(i).click()
    expect(page.locator("input[name=q_eczema][value=yes]")).to_be_checked()
    expect(page.locator("input[name=q_diabetes][value=no]")).to_be_checked()
    # The outcome follows the answers: eczema is a caution to acknowledge...
    outcome = page.locator("#screening-outcome")
    expect(outcome).to_have_attribute("data-outcome", "acknowledge")
    expect(outcome).to_contain_text("Eczema")
    # ...a sunburn blocks the procedure, and answering no clears it again.
    page.locator("input[name=q_sunburn_in_area][value=yes]").check()
    expect(outcome).to_have_attribute("data-outcome", "blocked")
    page.locator("input[name=q_sunburn_in_area][value=no]").check()
    page.get_by_label("Caution: Eczema").check()
    expect(outcome).to_have_attribute("data-outcome", "clear")
    page.get_by_label("Needle depth, mm (0.25-2.5)").fill("1.5")
    page.get_by_role("button", name="Record treatment").click()

    expect(page.get_by_role("status")).to_contain_text("Session 1 recorded; 2 left.")
    expect(page.get_by_role("status")).to_contain_text("Provider: provider.")
    row = page.locator("table.sessions tr", has_text="1.50 mm")
    expect(row.locator("td.provider")).to_have_text("provider")

    with returning.context():
        signed = db.session.query(ClientConsent).filter_by(form_version=2).one()
        assert signed.signature_png.startswith(b"\x89PNG") and len(signed.signature_png) > 500
        latest = db.session.query(Treatment).order_by(Treatment.id.desc()).first()
        assert latest.settings["needle_depth_mm"] == 1.5
        assert latest.screening["eczema"] is True


def test_the_signature_pad_fits_a_portrait_tablet(browser, returning):
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    try:
        browser_login(page, returning, "provider")
        page.goto(f"{returning.url}/clients/{returning.client_id}/consent")
        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 768
        # Saving without a signature is stopped in the page, with a message.
        page.get_by_role("button", name="Save the signed consent").click()
        expect(page.locator("#signature-hint")).to_contain_text("has not signed yet")
        page.mouse.move(box["x"] + 20, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 200, box["y"] + 60)
        page.mouse.up()
        page.get_by_role("button", name="Save the signed consent").click()
        expect(page.locator("#consent-current")).to_be_visible()
    finally:
        context.close()
