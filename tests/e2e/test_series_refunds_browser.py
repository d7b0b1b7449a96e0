"""In Chromium, at the desk's two screen sizes: a manager refunds the two unused sessions
of a started series to the client's account credit from the sale page, with the keyboard,
and the client page shows the credit and where it came from."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from pos import app_settings
from pos.extensions import db
from pos.models import DrawerEntry, PackagePurchase
from pos.services import catalog, sales
from tests.e2e.conftest import PAGE_TIMEOUT_MS, LiveServer, browser_login
from tests.fixtures_payments import make_client

pytestmark = pytest.mark.browser

VIEWPORTS = {"landscape": {"width": 1024, "height": 768},
             "portrait": {"width": 768, "height": 1024}}


@pytest.fixture(params=list(VIEWPORTS))
def desk_page(request, browser) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def started_series(live: LiveServer) -> tuple[int, int]:
    """A cash sale of a series of 3 to Ana, one session already performed."""
    seller = live.users("front_desk")["id"]
    with live.context():
        catalog.create_package(catalog.NewPackage(
            code="FACE-3", name="Face microneedling series of 3", area="face", sessions=3,
            price_cents=79500, min_days_between=28, max_days_between=42, supplies=()), None)
        client_id = make_client("Ana", "Lopez", "ana.lopez@example.org")
        sale = sales.sell(client_id=client_id,
                          lines=[sales.CartLine(sku=None, package_code="FACE-3", quantity=1)],
                          discount_code=None, payment="cash", user_id=seller,
                          settings=app_settings(live.app), base_url=live.url)
        db.session.execute(update(PackagePurchase).values(sessions_used=1))
        db.session.commit()
        return sale.id, client_id


def drawer_entries(live: LiveServer) -> int:
    with live.context():
        return db.session.scalar(select(func.count(DrawerEntry.id)))


def test_a_manager_refunds_unused_sessions_to_credit_with_the_keyboard(
        desk_page: Page, live_app: LiveServer):
    sale_id, client_id = started_series(live_app)
    before = drawer_entries(live_app)
    browser_login(desk_page, live_app, "manager")
    desk_page.goto(f"{live_app.url}/sales/{sale_id}")

    sessions = desk_page.get_by_label("Sessions to refund of Face microneedling series of 3")
    expect(sessions).to_be_visible()
    expect(desk_page.get_by_text("(2 unused)")).to_be_visible()
    sessions.focus()
    desk_page.keyboard.press("Control+A")
    desk_page.keyboard.type("2")
    desk_page.get_by_label("To the client's account credit").check()
    desk_page.get_by_label("Reason").fill("moving away")
    desk_page.get_by_label("Reason").press("Enter")

    expect(desk_page.get_by_text("Refunded $530.00 to the client's account credit")) \
        .to_be_visible()
    expect(desk_page.get_by_text("(to account credit)")).to_be_visible()
    assert drawer_entries(live_app) == before

    desk_page.goto(f"{live_app.url}/clients/{client_id}")
    expect(desk_page.locator("#credit-cents")).to_have_text("$530.00")
    expect(desk_page.locator("#credit-history")).to_contain_text(f"Refund of sale {sale_id}")
