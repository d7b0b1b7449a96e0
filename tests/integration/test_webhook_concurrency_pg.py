"""On PostgreSQL: the same `checkout.session.completed` delivered 5 times (once before the
sale's response was even read, 3 at once) fulfils the sale once; forged, tampered, stale
and unsigned events are refused and change nothing."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from pos.extensions import db
from pos.models import OutboxMessage, ProcessedEvent, Sale, StockMovement
from tests.factories import make_item
from tests.fixtures_payments import WEBHOOK_SECRET, make_client, row_counts, stock_of
from tests.stripe_standin import StripeStandIn, _Handler

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pg_payments")]


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    """Every fixture of the chain (users, api, client, stripe_app) on PostgreSQL only."""
    return pg_app


class WebhookFirstStandIn(StripeStandIn):
    """Pays each new session at once and delivers `checkout.session.completed` to the app
    BEFORE answering the app's create call: the webhook wins the race against the sale's
    own response."""

    def __init__(self, flask_app, **kw):  # type: ignore[no-untyped-def]
        super().__init__(**kw)
        self.flask_app = flask_app
        self.pending: list[str] = []
        self.delivery: tuple[bytes, str] | None = None
        self.early: list[tuple[int, str]] = []

    def create_session(self, p):  # type: ignore[no-untyped-def]
        created = super().create_session(p)
        self.pay(created["id"])
        self.pending.append(created["id"])
        return created

    def deliver_pending(self) -> None:
        while self.pending:
            sid = self.pending.pop()
            self.delivery = self.event(sid, "checkout.session.completed", event_id="evt_once")
            self.early.append(post(self.flask_app, *self.delivery))

    def start(self) -> WebhookFirstStandIn:
        from http.server import ThreadingHTTPServer

        standin = self

        class Handler(_Handler):
            owner = standin

            def _send(self, *args, **kw):  # type: ignore[no-untyped-def]
                standin.deliver_pending()  # the stand-in's lock is free again here
                super()._send(*args, **kw)

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self


def post(flask_app, payload: bytes, header: str | None) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    response = flask_app.test_client().post("/stripe/webhook", data=payload, headers=headers)
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("result") or body.get("error", {}).get("code", "")


def test_one_event_delivered_five_times_fulfils_the_sale_once(app, api):
    standin = WebhookFirstStandIn(app, webhook_secret=WEBHOOK_SECRET).start()
    try:
        app.config.update(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                          STRIPE_API_BASE=standin.api_base)
        make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 200)])
        client_id = make_client()

        response = api("front_desk").post("/api/v1/sales", json={
            "client_id": client_id, "payment": "card",
            "lines": [{"sku": "SERUM", "quantity": 2}]})

        assert response.status_code == 201
        assert standin.early == [(200, "paid")]  # delivered before that response was read
        assert standin.delivery is not None
        with ThreadPoolExecutor(3) as pool:
            at_once = list(pool.map(lambda _: post(app, *standin.delivery), range(3)))
        last = post(app, *standin.delivery)

        assert at_once + [last] == [(200, "duplicate")] * 4
        sale = db.session.get(Sale, response.json["id"])
        assert (sale.status, sale.receipt_number) == ("paid", 1)
        assert sale.checkout_session_id == response.json["checkout_session_id"]
        assert stock_of("SERUM") == (3, 0)
        assert len(db.session.scalars(select(StockMovement).where(
            StockMovement.reference == f"sale:{sale.id}")).all()) == 1
        assert len(db.session.scalars(select(ProcessedEvent)).all()) == 1
        assert len(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == "receipt")).all()) == 1
    finally:
        standin.stop()


def test_three_different_events_for_one_payment_at_once_fulfil_it_once(stripe_app, api,
                                                                        standin):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 200)])
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    standin.pay(sale["checkout_session_id"])
    events = [standin.event(sale["checkout_session_id"], kind) for kind in (
        "checkout.session.completed", "checkout.session.async_payment_succeeded",
        "checkout.session.completed")]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda e: post(stripe_app, *e), events))
    assert sorted(results) == [(200, "already_paid"), (200, "already_paid"), (200, "paid")]
    assert stock_of("SERUM") == (4, 0)


def test_forged_tampered_stale_and_unsigned_events_are_refused(stripe_app, api, standin):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 200)])
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    sid = sale["checkout_session_id"]
    standin.pay(sid)
    before = row_counts()
    payload, header = standin.event(sid, "checkout.session.completed")
    forged = standin.event(sid, "checkout.session.completed", secret="whsec_not_ours")
    stale = standin.event(sid, "checkout.session.completed", timestamp=int(time.time()) - 301)
    tampered = payload.replace(f'"{sid}"'.encode(), b'"cs_test_someone_else"', 1)
    for body, signature in [forged, stale, (tampered, header), (payload, None),
                            (payload, ""), (payload, "v1=abc")]:
        assert post(stripe_app, body, signature) == (400, "invalid_signature")
    assert row_counts() == before
    assert db.session.get(Sale, sale["id"]).status == "awaiting_payment"
    assert stock_of("SERUM") == (5, 1)
