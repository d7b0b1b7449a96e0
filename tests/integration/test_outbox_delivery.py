"""Delivering the outbox to a real SMTP server and a real webhook receiver."""
from __future__ import annotations

import base64
import threading
from datetime import timedelta

from sqlalchemy import select

from pos import create_app, update_settings
from pos.domain.reorder import retry_delay_seconds
from pos.extensions import db
from pos.models import Alert, OutboxMessage
from pos.notify.outbox import deliver_pending
from pos.services import clock, sales, stock
from pos.services.sales import CartLine
from pos.services.transaction import write_transaction
from pos.worker import Worker
from tests.factories import make_item, settings
from tests.fixtures_payments import make_client


def sell_one(sku: str, lot: str = "L-1") -> None:
    stock.adjust_stock(sku=sku, lot_code=lot, qty_delta=-1, reason="other", note=None,
                       user_id=None)


def messages(topic: str = "alert") -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic)
                                   .order_by(OutboxMessage.id)))


def alerts_delivered() -> list[bool]:
    db.session.expire_all()
    return [a.delivered_at is not None
            for a in db.session.scalars(select(Alert).order_by(Alert.id))]


def test_with_the_mail_server_down_sales_succeed_and_alerts_wait_with_the_error_shown(
        mail_app, smtp_server, login_as, client):
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    make_item("MIST", reorder_point=2, lots=[("L-1", 3, 200)])
    smtp_server.stop()
    sell_one("SERUM")
    sell_one("MIST")
    assert stock.item_row(db.session, "SERUM").on_hand == 2
    assert stock.item_row(db.session, "MIST").on_hand == 2

    before = clock.now()
    report = deliver_pending()
    assert (report.claimed, report.delivered, report.failed) == (2, 0, 2)
    for message in messages():
        assert message.attempts == 1 and message.delivered_at is None
        assert message.last_error.startswith(
            f"Could not reach the mail server 127.0.0.1:{smtp_server.port}")
        assert message.next_attempt_at >= before + timedelta(seconds=30)
    assert alerts_delivered() == [False, False]
    assert deliver_pending().claimed == 0  # not due again before its backoff

    login_as("manager")
    page = client.get("/alerts/").get_data(as_text=True)
    assert "Delivery problems" in page
    assert f"Could not reach the mail server 127.0.0.1:{smtp_server.port}" in page

    smtp_server.start()
    later = clock.now() + timedelta(minutes=1)
    assert deliver_pending(now=later).delivered == 2
    assert deliver_pending(now=later + timedelta(hours=2)).claimed == 0
    assert sorted(smtp_server.subjects()) == [
        "Low stock: Mist (MIST) - 2 available, reorder point 2",
        "Low stock: Serum (SERUM) - 2 available, reorder point 2",
    ]
    assert alerts_delivered() == [True, True]
    page = client.get("/alerts/").get_data(as_text=True)
    assert "Every message sent so far has been delivered." in page


def test_failed_deliveries_back_off_30_seconds_doubling_up_to_an_hour(mail_app, smtp_server):
    assert [retry_delay_seconds(n) for n in range(9)] == \
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay_seconds(500) == 3600
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")
    smtp_server.stop()
    at = clock.now()
    gaps = []
    for _ in range(3):
        assert deliver_pending(now=at).failed == 1
        [message] = messages()
        gaps.append((message.next_attempt_at - at).total_seconds())
        at = message.next_attempt_at
    assert gaps == [30, 60, 120]
    assert messages()[0].attempts == 3


def test_without_a_mail_server_mail_stays_in_the_outbox_and_is_shown_in_the_app(
        app, login_as, client):
    update_settings(app, ALERT_EMAIL_TO="manager@clinic.test")
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")
    report = deliver_pending()
    assert (report.claimed, report.held_without_mail_server) == (0, 1)
    [message] = messages()
    assert (message.attempts, message.last_error, message.delivered_at) == (0, None, None)
    login_as("manager")
    page = client.get("/alerts/").get_data(as_text=True)
    assert "No mail server is configured" in page
    assert "Low stock: Serum (SERUM) - 2 available, reorder point 2" in page
    assert "Suggested order quantity: 10" in page


def test_the_webhook_receives_each_alert_as_slack_compatible_text(app, webhook_receiver):
    update_settings(app, ALERT_WEBHOOK_URL=webhook_receiver.url)
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")
    assert deliver_pending().delivered == 1
    assert webhook_receiver.bodies == [{
        "text": "Low stock: Serum (SERUM) - on hand 2, available 2, reorder point 2, "
                "on order 0, suggested order 10, days of cover no use in the last 30 days"}]
    assert alerts_delivered() == [True]
    assert deliver_pending().claimed == 0


def test_a_webhook_answering_500_is_a_failure_retried_later(app, webhook_receiver):
    update_settings(app, ALERT_WEBHOOK_URL=webhook_receiver.url)
    webhook_receiver.status = 500
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")
    assert deliver_pending().failed == 1
    [hook] = [m for m in messages() if m.channel == "webhook"]
    assert hook.last_error == "The webhook answered HTTP 500."
    webhook_receiver.status = 200
    assert deliver_pending(now=clock.now() + timedelta(minutes=1)).delivered == 1
    assert len(webhook_receiver.bodies) == 1


def test_a_message_being_sent_is_not_claimed_again_by_a_second_deliverer(
        mail_app, smtp_server):
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")
    smtp_server.hold()
    results = []

    def first_deliverer() -> None:
        with mail_app.app_context():
            results.append(deliver_pending().delivered)
            db.session.remove()

    thread = threading.Thread(target=first_deliverer)
    thread.start()
    try:
        assert smtp_server.wait_until_held()
        assert deliver_pending().claimed == 0  # the first one is still talking to the server
    finally:
        smtp_server.release()
        thread.join(20)
    assert results == [1]
    assert len(smtp_server.messages) == 1
    assert deliver_pending(now=clock.now() + timedelta(hours=1)).claimed == 0


def test_attachments_reach_the_mail_server(mail_app, smtp_server):
    png = b"\x89PNG\r\n\x1a\n-not-really-an-image"
    with write_transaction() as session:
        session.add(OutboxMessage(
            channel="email", topic="report", recipients="manager@clinic.test",
            subject="Monthly report", body="Attached.",
            attachments=[{"filename": "report.csv", "content_type": "text/csv",
                          "text": "sku,quantity\nSERUM,3\n"},
                         {"filename": "chart.png", "content_type": "image/png",
                          "content_b64": base64.b64encode(png).decode()}]))
    assert deliver_pending().delivered == 1
    [mail] = smtp_server.messages
    parts = {p.get_filename(): p for p in mail.iter_attachments()}
    assert parts["report.csv"].get_content().replace("\r\n", "\n") == "sku,quantity\nSERUM,3\n"
    assert parts["chart.png"].get_content() == png
    assert mail.get_body(preferencelist=("plain",)).get_content().strip() == "Attached."


def test_an_alert_email_carries_no_client_data(mail_app, smtp_server):
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    client_id = make_client("Ana", "Lopez", "ana.lopez@example.org")
    sales.sell(client_id=client_id, lines=[CartLine("SERUM", None, 1)], discount_code=None,
               payment="cash", user_id=None, settings=settings())
    deliver_pending()
    to_manager = [m for m, (_, to) in zip(smtp_server.messages, smtp_server.envelopes,
                                          strict=True) if to == ["manager@clinic.test"]]
    assert [str(m["Subject"]) for m in to_manager] == \
        ["Low stock: Serum (SERUM) - 2 available, reorder point 2"]
    raw = to_manager[0].as_string()
    for private in ("Ana", "Lopez", "ana.lopez", "555"):
        assert private not in raw


def test_a_worker_sends_an_alert_right_after_the_commit(mail_app, smtp_server):
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    update_settings(mail_app, DIGEST_HOUR=24)  # no digest today: only the alert is under test
    postgres = db.engine.dialect.name == "postgresql"
    # On PostgreSQL an hour between rounds: only the NOTIFY sent with the commit can make
    # it send in time. SQLite has no such signal: there the worker polls.
    worker = Worker(mail_app, interval=3600 if postgres else 0.2)
    first_round = threading.Event()
    thread = threading.Thread(target=worker.run,
                              kwargs={"on_round": lambda _counts: first_round.set()})
    thread.start()
    try:
        assert first_round.wait(30)
        assert smtp_server.messages == []
        sell_one("SERUM")
        assert smtp_server.wait_for(1, timeout=30)
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert smtp_server.subjects() == ["Low stock: Serum (SERUM) - 2 available, reorder point 2"]
    assert alerts_delivered() == [True]


def test_the_web_server_runs_no_deliverer_of_its_own(tmp_path, smtp_server):
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    setup = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with setup.app_context():
        db.create_all()
        make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
        sell_one("SERUM")  # an alert waits in the outbox
        db.session.remove()
        db.engine.dispose()
    threads_before = set(threading.enumerate())
    server = create_app("development", {"SQLALCHEMY_DATABASE_URI": url,
                                        **smtp_server.config()})
    assert server.test_client().get("/healthz").status_code == 200
    assert set(threading.enumerate()) == threads_before  # no thread started
    with server.app_context():
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert (message.delivered_at, message.attempts) == (None, 0)
        db.session.remove()
        db.engine.dispose()
    assert smtp_server.messages == []


def test_an_alert_raised_before_anyone_could_receive_it_goes_to_the_managers_added_since(
        app, smtp_server, users):
    update_settings(app, **smtp_server.config())
    make_item("SERUM", reorder_point=2, lots=[("L-1", 3, 200)])
    sell_one("SERUM")  # no ALERT_EMAIL_TO and no manager yet
    assert messages()[0].recipients == ""
    users.get("manager")
    assert deliver_pending().delivered == 1
    assert smtp_server.envelopes[0][1] == ["manager@test.example"]
