"""The desk's "Gift card balance" page in Chromium at the desk's two sizes: typed by
keyboard, the card shows masked with its balance; an unknown code is announced."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from pos.domain.gift_cards import grouped, masked
from pos.services import gift_cards
from pos.services.transaction import write_transaction
from tests.e2e.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def card(live_app: LiveServer) -> tuple[LiveServer, str]:
    with live_app.context(), write_transaction() as session:
        code = gift_cards.issue(session, 5000, sale_line_id=None, sale_id=None,
                                user_id=None).code
        gift_cards.redeem(session, code, 1250, sale_id=None, payment_id=None, user_id=None)
    return live_app, code


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["1024x768", "768x1024"])
def test_the_desk_checks_a_gift_card_balance_by_keyboard(
        page: Page, card: tuple[LiveServer, str], size: tuple[int, int]) -> None:
    live, code = card
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(page, live, "front_desk")
    page.goto(f"{live.url}/desk/gift-cards")
    field = page.get_by_label("Gift card code")
    field.fill("ABCD-2345-EFGH-6789")
    field.press("Enter")
    expect(page.locator("#error-summary")).to_contain_text("No gift card has this code.")
    expect(page.get_by_label("Gift card code")).to_have_attribute("aria-invalid", "true")

    field = page.get_by_label("Gift card code")
    field.fill(grouped(code).lower())
    field.press("Enter")
    expect(page.locator("#gift-card-balance")).to_have_text("$37.50")
    expect(page.locator("#card-title")).to_contain_text(masked(code))
    assert code not in page.content() and grouped(code) not in page.content()
    box = page.locator("#gift-card-balance").bounding_box()
    assert box is not None and box["y"] + box["height"] <= size[1]
