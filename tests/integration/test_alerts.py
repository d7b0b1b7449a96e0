"""Stock alerts: raised in the transaction of the movement that crosses the reorder point."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select

from pos import update_settings
from pos.domain.roles import Role
from pos.extensions import db
from pos.models import Alert, Lot, OutboxMessage, User
from pos.notify.outbox import deliver_pending
from pos.services import alerts, clock, ledger, stock
from pos.services.transaction import write_transaction
from tests.factories import make_item, receive, settings


def sell_one(sku: str, lot: str = "L-1", qty: int = 1) -> None:
    """Stock leaving the shelf, through the same ledger a sale uses."""
    stock.adjust_stock(sku=sku, lot_code=lot, qty_delta=-qty, reason="other", note=None,
                       user_id=None)


def alert_rows(sku: str | None = None) -> list[tuple[str, int, int, int]]:
    db.session.expire_all()
    query = select(Alert).order_by(Alert.id)
    return [(a.kind, a.on_hand, a.available, a.reorder_point)
            for a in db.session.scalars(query) if sku is None or a.item.sku == sku]


def outbox(topic: str = "alert") -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic)
                                   .order_by(OutboxMessage.id)))


@pytest.fixture
def alert_app(app):  # type: ignore[no-untyped-def]
    update_settings(app, ALERT_EMAIL_TO="orders@clinic.test, manager@clinic.test")
    return app


def test_falling_to_the_reorder_point_raises_one_low_stock_alert_with_its_email(alert_app):
    make_item("SERUM", name="HA Serum 1 oz", reorder_point=3, lots=[("L-1", 5, 200)])
    sell_one("SERUM")
    assert alert_rows() == []
    sell_one("SERUM")
    assert alert_rows() == [("low_stock", 3, 3, 3)]
    [mail] = outbox()
    assert mail.channel == "email"
    assert mail.recipients == "orders@clinic.test, manager@clinic.test"
    assert mail.subject == "Low stock: HA Serum 1 oz (SERUM) - 3 available, reorder point 3"
    assert mail.delivered_at is None and mail.alert_id is not None


def test_selling_on_while_low_raises_nothing_until_it_runs_out(alert_app):
    make_item("SERUM", reorder_point=3, lots=[("L-1", 4, 200)])
    sell_one("SERUM")
    sell_one("SERUM")
    sell_one("SERUM")
    assert [k for k, *_ in alert_rows()] == ["low_stock"]
    sell_one("SERUM")
    assert alert_rows() == [("low_stock", 3, 3, 3), ("out_of_stock", 0, 0, 3)]
    assert len(outbox()) == 2


def test_one_movement_from_above_the_point_to_zero_is_out_of_stock_only(alert_app):
    make_item("MASK", kind="supply", reorder_point=2, lots=[("L-1", 6, 200)])
    sell_one("MASK", qty=6)
    assert alert_rows() == [("out_of_stock", 0, 0, 2)]


def test_the_alert_re_arms_only_after_stock_rises_above_the_reorder_point(alert_app):
    make_item("SERUM", reorder_point=3, lots=[("L-1", 4, 200)])
    sell_one("SERUM")  # 3: alert
    receive("SERUM", 1, "L-1", clock.today() + timedelta(days=200))  # 4: re-armed...
    sell_one("SERUM")  # ...and falling to 3 again alerts again
    assert [k for k, *_ in alert_rows()] == ["low_stock", "low_stock"]
    sell_one("SERUM")  # 2: still low, nothing
    receive("SERUM", 1, "L-1", clock.today() + timedelta(days=200))  # 3: not above the point
    sell_one("SERUM")  # 2: nothing, it never re-armed
    assert len(alert_rows()) == 2
    receive("SERUM", 5, "L-1", clock.today() + timedelta(days=200))  # 7
    for _ in range(4):
        sell_one("SERUM")  # 6, 5, 4, 3
    assert [k for k, *_ in alert_rows()] == ["low_stock"] * 3


def test_holding_stock_for_an_unpaid_card_sale_raises_no_alert(alert_app):
    """Alerts follow on_hand (amended in the second wave): a hold is not stock gone."""
    item = make_item("SERUM", reorder_point=3, lots=[("L-1", 5, 200)])
    with write_transaction() as session:
        location = ledger.default_location(session)
        held = ledger.lock_items(session, [item.id], location.id)[item.id]
        ledger.place_hold(session, held, 2, sku="SERUM")
    assert alert_rows() == []
    assert outbox() == []


def test_a_movement_that_rolls_back_raises_no_alert(alert_app):
    make_item("SERUM", reorder_point=3, lots=[("L-1", 5, 200)])
    with pytest.raises(RuntimeError), write_transaction() as session:
        item = stock.item_by_sku(session, "SERUM")
        location = ledger.default_location(session)
        locked = ledger.lock_items(session, [item.id], location.id)[item.id]
        lot = session.scalar(select(Lot).where(Lot.code == "L-1"))
        ledger.post_movement(session, locked, lot, -3, "other")
        raise RuntimeError("the sale failed after taking stock")
    assert alert_rows() == [] and outbox() == []
    assert stock.item_row(db.session, "SERUM").on_hand == 5


def test_what_a_rolled_back_transaction_touched_does_not_leak_into_the_next(alert_app):
    """The rolled-back transaction saw 5 available; by the time this session writes again,
    another session has taken the item to 3 and alerted. Selling on must not alert twice."""
    make_item("SERUM", reorder_point=3, lots=[("L-1", 5, 200)])
    with pytest.raises(RuntimeError), write_transaction() as session:
        item = stock.item_by_sku(session, "SERUM")
        locked = ledger.lock_items(session, [item.id],
                                   ledger.default_location(session).id)[item.id]
        ledger.post_movement(session, locked, session.scalar(select(Lot)), -1, "other")
        raise RuntimeError("cancelled")
    with alert_app.app_context():  # another request, another session
        sell_one("SERUM", qty=2)
        db.session.remove()
    sell_one("SERUM")
    assert alert_rows() == [("low_stock", 3, 3, 3)]


def test_alert_mail_goes_to_the_active_managers_when_no_alert_address_is_set(app, users):
    users.get("manager")
    users.get("admin")
    with write_transaction() as session:
        session.add(User(email="former@test.example", name="Former", roles=frozenset({Role.MANAGER}),
                         password_hash="x", active=False))
    make_item("SERUM", reorder_point=3, lots=[("L-1", 4, 200)])
    sell_one("SERUM")
    assert [m.recipients for m in outbox()] == ["manager@test.example"]


def test_the_alert_says_item_on_hand_reorder_point_suggested_quantity_and_days_of_cover(
        alert_app):
    start = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
    with freeze_time(start) as frozen:
        make_item("HA", kind="supply", name="HA serum (clinic)", unit="ml", reorder_point=10,
                  reorder_quantity=12, lots=[("H-1", 100, 300)])
        stock.adjust_stock(sku="HA", lot_code="H-1", qty_delta=-50, reason="damaged",
                           note=None, user_id=None)  # 40 days before: outside the window
        frozen.move_to(start + timedelta(days=30))
        stock.adjust_stock(sku="HA", lot_code="H-1", qty_delta=-30, reason="damaged",
                           note=None, user_id=None)  # 30 used in the last 30 days: 1 a day
        frozen.move_to(start + timedelta(days=40))
        sell_one("HA", "H-1", qty=10)  # "other": a correction, not consumption
    [mail] = outbox()
    assert mail.subject == "Low stock: HA serum (clinic) (HA) - 10 available, reorder point 10"
    for line in ["HA serum (clinic) (SKU HA) is low.", "On hand: 10 ml", "Reorder point: 10",
                 "Suggested order quantity: 20", "Days of cover: 10 days"]:
        assert line in mail.body


def test_days_of_cover_of_many_items_is_one_grouped_query(app):
    now = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
    with freeze_time(now - timedelta(days=5)):
        a = make_item("A", kind="supply", reorder_point=5, lots=[("L-1", 40, 300)])
        b = make_item("B", kind="supply", reorder_point=5, lots=[("L-1", 9, 300)])
        c = make_item("C", kind="supply", reorder_point=5, lots=[("L-1", 3, 300)])
        stock.adjust_stock(sku="A", lot_code="L-1", qty_delta=-15, reason="lost", note=None,
                           user_id=None)
        stock.adjust_stock(sku="B", lot_code="L-1", qty_delta=-3, reason="expired", note=None,
                           user_id=None)
    ids = [a.id, b.id, c.id]
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        covers = alerts.days_of_cover(db.session, ids, now)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert [s.split()[0].upper() for s in statements if s.strip().upper() != "BEGIN"] == \
        ["SELECT"]
    assert (covers[a.id].available, covers[a.id].used_last_30_days, covers[a.id].days) == \
        (25, 15, 50)
    assert (covers[b.id].available, covers[b.id].used_last_30_days, covers[b.id].days) == \
        (6, 3, 60)
    assert covers[c.id].days is None  # nothing used: no rate to divide by


def test_the_reorder_list_has_items_at_or_below_their_point_with_suggested_quantities(app):
    make_item("LOW", kind="supply", reorder_point=5, reorder_quantity=20, lots=[("L-1", 5, 300)])
    make_item("OUT", kind="supply", reorder_point=2, reorder_quantity=8)
    make_item("OK", kind="supply", reorder_point=2, lots=[("L-1", 3, 300)])
    stock.adjust_stock(sku="LOW", lot_code="L-1", qty_delta=-3, reason="damaged", note=None,
                       user_id=None)  # 3 used in 30 days; 2 left
    rows = alerts.reorder_list(db.session, settings().reorder_cover_days)
    assert [(r.sku, r.available, r.reorder_point, r.suggested_quantity, r.days_of_cover)
            for r in rows] == [("OUT", 0, 2, 8, None), ("LOW", 2, 5, 20, 20)]


def test_a_big_rate_of_use_orders_more_than_the_reorder_quantity(app):
    update_settings(app, REORDER_COVER_DAYS=30)
    make_item("CART", kind="supply", reorder_point=10, reorder_quantity=20,
              lots=[("L-1", 100, 300)])
    stock.adjust_stock(sku="CART", lot_code="L-1", qty_delta=-92, reason="damaged", note=None,
                       user_id=None)
    [row] = alerts.reorder_list(db.session, settings().reorder_cover_days)
    assert (row.available, row.used_last_30_days, row.suggested_quantity) == (8, 92, 84)


def test_a_lot_expiring_in_10_days_raises_one_expiring_lot_alert(alert_app):
    make_item("LIDO", kind="supply", reorder_point=1, lots=[("SOON", 4, 10), ("LATER", 6, 45)])
    assert alerts.check_expiring_lots(settings()) == 1
    assert alerts.check_expiring_lots(settings()) == 0
    [alert] = db.session.scalars(select(Alert)).all()
    assert (alert.kind, alert.lot.code, alert.on_hand) == ("expiring_lot", "SOON", 4)
    assert alert.lot.expiry_alerted_at is not None
    [mail] = outbox()
    assert mail.subject == "Expiring lot: Lido (LIDO) lot SOON - 4 on hand"
    assert f"expires on {(clock.today() + timedelta(days=10)).isoformat()} (in 10 days)" \
        in mail.body


def test_an_expired_lot_still_on_hand_alerts_and_an_empty_one_does_not(alert_app):
    past = datetime.now(UTC) - timedelta(days=20)
    with freeze_time(past):
        make_item("MASK", kind="supply", reorder_point=0,
                  lots=[("OLD", 2, 5), ("GONE", 1, 5), ("GOOD", 5, 200)])
        stock.adjust_stock(sku="MASK", lot_code="GONE", qty_delta=-1, reason="expired",
                           note=None, user_id=None)
    assert alerts.check_expiring_lots(settings()) == 1
    [mail] = outbox()
    assert mail.subject == "Expired lot still on hand: Mask (MASK) lot OLD - 2 on hand"


def test_the_expiry_window_is_configurable(alert_app):
    update_settings(alert_app, EXPIRY_WARNING_DAYS=5)
    make_item("LIDO", kind="supply", lots=[("SOON", 4, 10)])
    assert alerts.check_expiring_lots(settings()) == 0
    update_settings(alert_app, EXPIRY_WARNING_DAYS=10)
    assert alerts.check_expiring_lots(settings()) == 1


def test_the_daily_digest_is_queued_once_per_clinic_day_at_the_configured_hour(alert_app):
    update_settings(alert_app, DIGEST_HOUR=7)  # the clinic's zone: America/New_York
    # 2026-02-10 06:30 in New York (UTC-5) is 11:30 UTC.
    with freeze_time(datetime(2026, 2, 10, 11, 30, tzinfo=UTC)) as frozen:
        make_item("LIDO", kind="supply", name="Lidocaine 4%", reorder_point=1,
                  lots=[("SOON", 4, 10)])
        make_item("CART", kind="supply", name="Needle cartridge", reorder_point=5,
                  reorder_quantity=50, lots=[("C-1", 6, 300)])
        sell_one("CART", "C-1", qty=2)
        assert alerts.queue_daily_digest(settings()) is False  # before 07:00 clinic time
        frozen.move_to(datetime(2026, 2, 10, 12, 0, tzinfo=UTC))  # 07:00
        assert alerts.queue_daily_digest(settings()) is True
        frozen.move_to(datetime(2026, 2, 10, 23, 0, tzinfo=UTC))
        assert alerts.queue_daily_digest(settings()) is False  # same clinic day
        frozen.move_to(datetime(2026, 2, 11, 4, 59, tzinfo=UTC))  # 23:59 on the 10th
        assert alerts.queue_daily_digest(settings()) is False
        frozen.move_to(datetime(2026, 2, 11, 11, 59, tzinfo=UTC))  # 06:59 on the 11th
        assert alerts.queue_daily_digest(settings()) is False
        frozen.move_to(datetime(2026, 2, 11, 12, 1, tzinfo=UTC))
        assert alerts.queue_daily_digest(settings()) is True
    digests = outbox("digest")
    assert [m.dedupe_key for m in digests] == ["digest:2026-02-10", "digest:2026-02-11"]
    first = digests[0]
    assert first.subject == "Stock digest 2026-02-10: 0 out, 1 low, 1 expiring lots"
    assert "Needle cartridge (CART): on hand 4, available 4, reorder point 5" in first.body
    assert "Lidocaine 4% (LIDO) lot SOON: expires 2026-02-20 (in 10 days), 4 on hand" \
        in first.body
    assert first.recipients == "orders@clinic.test, manager@clinic.test"


def test_an_expiring_lot_appears_in_the_digest_even_after_its_own_alert(alert_app):
    make_item("LIDO", kind="supply", reorder_point=1, lots=[("SOON", 4, 10)])
    assert alerts.check_expiring_lots(settings()) == 1
    now = datetime.now(UTC)
    local_noon = now.astimezone(clock.clinic_zone()).replace(hour=12, minute=0)
    assert alerts.queue_daily_digest(settings(), local_noon) is True
    [digest] = outbox("digest")
    assert "Lido (LIDO) lot SOON" in digest.body


def test_digest_and_alerts_reach_the_mail_server_once(mail_app, smtp_server):
    make_item("LIDO", kind="supply", reorder_point=3, lots=[("SOON", 4, 10)])
    sell_one("LIDO", "SOON")
    assert alerts.check_expiring_lots(settings()) == 1
    noon = datetime.now(UTC).astimezone(clock.clinic_zone()).replace(hour=12, minute=0)
    assert alerts.queue_daily_digest(settings(), noon) is True
    assert alerts.queue_daily_digest(settings(), noon + timedelta(hours=2)) is False
    report = deliver_pending()
    assert (report.delivered, report.failed) == (3, 0)
    assert deliver_pending().claimed == 0
    subjects = sorted(smtp_server.subjects())
    assert subjects[0] == "Expiring lot: Lido (LIDO) lot SOON - 3 on hand"
    assert subjects[1] == "Low stock: Lido (LIDO) - 3 available, reorder point 3"
    assert subjects[2].startswith("Stock digest ")
    assert smtp_server.envelopes[0][1] == ["manager@clinic.test"]


# The API and the pages

def raise_two_alerts() -> None:
    make_item("SERUM", name="HA Serum 1 oz", reorder_point=3, lots=[("L-1", 4, 200)])
    make_item("LIDO", kind="supply", reorder_point=1, lots=[("SOON", 6, 10)])
    sell_one("SERUM")
    alerts.check_expiring_lots(settings())


def test_the_api_lists_alerts_newest_first_and_can_show_only_open_ones(alert_app, api):
    raise_two_alerts()
    listed = api("manager").get("/api/v1/alerts").get_json()
    assert (listed["page"], listed["per_page"], listed["total"]) == (1, 50, 2)
    body = listed["items"]
    assert [(a["kind"], a["sku"], a["lot"], a["on_hand"], a["reorder_point"]) for a in body] \
        == [("expiring_lot", "LIDO", "SOON", 6, 1), ("low_stock", "SERUM", None, 3, 3)]
    assert body[0]["created_at"].endswith("+00:00")
    assert body[0]["delivered_at"] is None and body[0]["acknowledged_at"] is None

    acked = api("manager").post(f"/api/v1/alerts/{body[1]['id']}/acknowledge")
    assert acked.status_code == 200
    first_ack = acked.get_json()["acknowledged_at"]
    assert first_ack is not None
    again = api("manager").post(f"/api/v1/alerts/{body[1]['id']}/acknowledge").get_json()
    assert again["acknowledged_at"] == first_ack  # acknowledging twice changes nothing
    open_only = api("manager").get("/api/v1/alerts?open=1").get_json()
    assert [a["sku"] for a in open_only["items"]] == ["LIDO"] and open_only["total"] == 1
    second = api("manager").get("/api/v1/alerts?per_page=1&page=2").get_json()
    assert [a["sku"] for a in second["items"]] == ["SERUM"] and second["total"] == 2
    assert api("manager").get("/api/v1/alerts?per_page=201").status_code == 422


def test_alerts_are_for_managers_and_an_unknown_alert_is_404(alert_app, api):
    raise_two_alerts()
    assert api("front_desk").get("/api/v1/alerts").status_code == 403
    assert api("provider").post("/api/v1/alerts/1/acknowledge").status_code == 403
    missing = api("manager").post("/api/v1/alerts/999/acknowledge")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_the_alert_routes_are_described_in_openapi(alert_app, api):
    paths = api("manager").get("/api/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/alerts"]
    assert "post" in paths["/api/v1/alerts/{alert_id}/acknowledge"]


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_the_alerts_page_shows_open_alerts_and_acknowledging_one_removes_it(
        alert_app, client, login_as):
    raise_two_alerts()
    login_as("manager")
    page = client.get("/alerts/").get_data(as_text=True)
    assert "HA Serum 1 oz" in page and "Expiring lot" in page and "SOON" in page
    assert page.count(">Acknowledge</button>") == 2
    serum = db.session.scalar(select(Alert).where(Alert.kind == "low_stock"))
    response = client.post(f"/alerts/{serum.id}/acknowledge",
                           data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 302
    page = client.get("/alerts/").get_data(as_text=True)
    assert "Acknowledged the low stock alert for HA Serum 1 oz." in page
    assert page.count(">Acknowledge</button>") == 1
    open_table = page.split("<h2>Open alerts</h2>")[1].split("<h2>Delivery problems</h2>")[0]
    assert "HA Serum 1 oz" not in open_table and "SOON" in open_table


def test_the_alerts_nav_link_is_for_managers_only(alert_app, client, login_as):
    login_as("front_desk")
    assert 'href="/alerts/"' not in client.get("/stock/").get_data(as_text=True)
    assert client.get("/alerts/").status_code == 403
    login_as("manager")
    assert 'href="/alerts/"' in client.get("/stock/").get_data(as_text=True)


def test_the_reorder_list_prints_and_exports_as_csv_for_the_supplier(app, client, login_as):
    make_item("LOW", kind="supply", name="Gel mask", unit="mask", reorder_point=5,
              reorder_quantity=20, lots=[("L-1", 5, 300)])
    make_item("OK", kind="supply", reorder_point=2, lots=[("L-1", 3, 300)])
    stock.adjust_stock(sku="LOW", lot_code="L-1", qty_delta=-3, reason="damaged", note=None,
                       user_id=None)
    login_as("manager")
    page = client.get("/alerts/reorder").get_data(as_text=True)
    assert "Gel mask" in page and 'data-sku="OK"' not in page
    assert '<td class="num days-of-cover">20</td>' in page
    assert '<td class="num suggested">20 mask</td>' in page
    response = client.get("/alerts/reorder.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["sku", "name", "unit", "on_hand"]
    assert rows[1] == ["LOW", "Gel mask", "mask", "2", "2", "5", "20", "20", "20", "3",
                       "0", "0", "usage"]
    assert len(rows) == 2
