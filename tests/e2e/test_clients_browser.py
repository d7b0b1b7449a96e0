"""Clients in Chromium at the desk's two screen sizes: a new client that looks like an
existing one is warned about before saving, and "use the existing client" opens that one
(on the clients page, and in the checkout's new-client form, where it chooses the client)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Client
from pos.services import clients
from tests.e2e.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser

SIZES = pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])


@pytest.fixture
def clinic(live_app: LiveServer) -> LiveServer:
    with live_app.context():
        clients.create_client(first_name="Ana", last_name="Lopez", email="ana@example.com",
                              phone="555-0100", user_id=None)
    return live_app


def count_clients(live: LiveServer) -> int:
    with live.context():
        return db.session.scalar(select(func.count(Client.id))) or 0


def existing_id(live: LiveServer) -> int:
    with live.context():
        return db.session.scalar(select(Client.id).where(Client.last_name == "Lopez"))


@SIZES
def test_a_possible_duplicate_is_warned_and_the_existing_client_is_used(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "front_desk")
    page.get_by_role("link", name="Clients", exact=True).click()
    form = page.locator("#new-client-form")
    form.get_by_label("First name").fill("ana")
    form.get_by_label("Last name").fill("Lopez")
    form.get_by_label("Phone").fill("(555) 0100")
    form.get_by_role("button", name="Create client").click()
    warning = page.locator("#possible-duplicate")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Ana Lopez")
    expect(page.get_by_role("button", name="Create anyway")).to_be_visible()
    use = page.get_by_role("link", name="Use the existing client")
    expect(use).to_be_in_viewport()
    use.click()
    expect(page).to_have_url(re.compile(rf"/clients/{existing_id(clinic)}$"))
    expect(page.locator("#client-name")).to_have_text("Ana Lopez")
    assert count_clients(clinic) == 1


@SIZES
def test_the_checkout_offers_the_existing_client_instead_of_a_duplicate(
        page: Page, clinic: LiveServer, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, clinic, "front_desk")
    page.goto(f"{clinic.url}/checkout")
    page.locator("#new-client summary").click()
    page.locator("#nc-first_name").fill("Ana")
    page.locator("#nc-last_name").fill("Lopez")
    page.locator("#nc-email").fill("ana@example.com")
    page.locator("#nc-create").click()
    use = page.locator("#nc-use-existing")
    expect(use).to_have_text("Use Ana Lopez")
    expect(page.locator("#nc-create-anyway")).to_be_visible()
    use.click()
    expect(page.locator("#client-chosen-name")).to_have_text("Ana Lopez")
    assert count_clients(clinic) == 1
