"""The treatment room in a real browser: a provider answers the screening and records a
session; a second try the same day is refused with the first eligible date."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pos.domain.screening import DEFAULT_QUESTIONNAIRE
from pos.services import clock
from tests.e2e.conftest import browser_login
from tests.fixtures_clinical import make_client, make_clinic_stock, make_series_purchase

pytestmark = pytest.mark.browser


@pytest.fixture
def room(live_app):  # type: ignore[no-untyped-def]
    with live_app.context():
        make_clinic_stock()
        client = make_client("Ada", "Lovelace")
        make_series_purchase(client, "FACE-3")
        live_app.client_id = client.id
        live_app.today = clock.today()
    return live_app


def answer(page, key: str, choice: str) -> None:  # type: ignore[no-untyped-def]
    question = page.locator(".question", has_text=DEFAULT_QUESTIONNAIRE.text_of(key))
    question.get_by_label(choice, exact=True).check()


BOOLEAN_KEYS = DEFAULT_QUESTIONNAIRE.boolean_keys


def test_a_provider_screens_and_records_then_a_second_session_is_refused(page, room):
    browser_login(page, room, "provider")
    page.goto(f"{room.url}/clients/{room.client_id}/treatments")
    expect(page.get_by_role("heading", name="Treatments · Ada Lovelace")).to_be_visible()
    expect(page.locator(".series .sessions-left")).to_have_text("3")

    for key in BOOLEAN_KEYS:
        answer(page, key, "Yes" if key == "eczema" else "No")
    page.get_by_label("Caution: Eczema").check()
    page.get_by_role("button", name="Record treatment").click()

    expect(page.get_by_role("status")).to_contain_text("Session 1 recorded; 2 left.")
    expect(page.get_by_role("status")).to_contain_text("first-visit bundle")
    expect(page.locator(".series .sessions-left")).to_have_text("2")
    eligible = (room.today + timedelta(days=28)).isoformat()
    expect(page.locator(".series .next-eligible")).to_have_text(eligible)

    for key in BOOLEAN_KEYS:
        answer(page, key, "No")
    page.get_by_role("button", name="Record treatment").click()
    expect(page.get_by_role("alert")).to_contain_text("Too soon")
    expect(page.locator("#eligible-on")).to_have_text(eligible)
