"""The real stripe SDK, through StripeGateway, against the local Stripe stand-in over HTTP."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pos.payments import (
    CheckoutLine,
    CheckoutRequest,
    GatewayError,
    InvalidSignature,
    PaymentGateway,
    StripeGateway,
)
from tests.stripe_standin import StripeStandIn, nest

SECRET = "whsec_test_gateway"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    s = StripeStandIn(webhook_secret=SECRET).start()
    yield s
    s.stop()


@pytest.fixture
def gateway(standin: StripeStandIn) -> StripeGateway:
    return StripeGateway("sk_test_standin", SECRET, api_base=standin.api_base)


# One expiry for the whole module: a retry with the same idempotency key must send the same
# parameters (as the app does: the sale keeps its expiry), or Stripe refuses it.
EXPIRES_AT = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)


def checkout_request(sale_id: int = 17, key: str = "sale-17-checkout-1") -> CheckoutRequest:
    lines = (
        CheckoutLine("Microneedling, face (3 sessions)", 45000, 1),
        CheckoutLine("Hyaluronic serum 30 ml", 3250, 2),
    )
    return CheckoutRequest(
        sale_id=sale_id,
        currency="usd",
        lines=lines,
        amount_total_cents=51500,
        expires_at=EXPIRES_AT,
        success_url="http://pos.test/sales/17?paid=1",
        cancel_url="http://pos.test/sales/17",
        idempotency_key=key,
    )


def test_is_a_payment_gateway(gateway: StripeGateway) -> None:
    assert isinstance(gateway, PaymentGateway)
    assert gateway.name == "stripe"


def test_create_checkout_sends_cents_sale_reference_and_no_personal_data(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    session = gateway.create_checkout(checkout_request())

    assert session.id.startswith("cs_")
    assert session.url == f"{standin.api_base}/pay/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.amount_total_cents == 51500
    assert session.currency == "usd"
    assert session.sale_id == 17
    assert session.payment_intent_id is None and session.card_last4 is None
    assert session.expires_at is not None
    assert session.expires_at == EXPIRES_AT

    (sent,) = standin.requests_to("POST", "/v1/checkout/sessions")
    assert sent.form["line_items[0][price_data][unit_amount]"] == "45000"
    assert sent.form["line_items[1][price_data][unit_amount]"] == "3250"
    assert sent.form["line_items[1][quantity]"] == "2"
    assert sent.form["line_items[0][price_data][currency]"] == "usd"
    assert sent.form["mode"] == "payment"
    assert sent.form["client_reference_id"] == "17"
    assert sent.form["metadata[sale_id]"] == "17"
    assert sent.form["payment_intent_data[metadata][sale_id]"] == "17"
    assert sent.headers["idempotency-key"] == "sale-17-checkout-1"
    for key in sent.form:
        assert not any(word in key for word in ("email", "name", "customer", "phone")) or (
            key.endswith("[product_data][name]")
        ), key
    assert sent.params["line_items"][0]["price_data"]["product_data"]["name"].startswith(
        "Microneedling"
    )


def test_lines_must_add_up_to_the_total(gateway: StripeGateway) -> None:
    req = checkout_request()
    bad = CheckoutRequest(**{**req.__dict__, "amount_total_cents": 51499})
    with pytest.raises(ValueError):
        gateway.create_checkout(bad)


def test_same_idempotency_key_twice_gives_one_session(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    first = gateway.create_checkout(checkout_request())
    again = gateway.create_checkout(checkout_request())
    other = gateway.create_checkout(checkout_request(key="sale-17-checkout-2"))
    assert first.id == again.id
    assert other.id != first.id
    assert len(standin.sessions) == 2


def test_stand_in_refuses_expiry_outside_stripes_window(standin: StripeStandIn) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.api_base})
    params = {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 100,
                                       "product_data": {"name": "x"}}, "quantity": 1}],
        "success_url": "http://pos.test/ok",
        "expires_at": int(time.time()) + 600,
    }
    with pytest.raises(stripe.InvalidRequestError) as e:
        client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    assert e.value.param == "expires_at"


def test_retrieve_after_payment(gateway: StripeGateway, standin: StripeStandIn) -> None:
    created = gateway.create_checkout(checkout_request())
    standin.pay(created.id)

    session = gateway.retrieve_checkout(created.id)

    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.is_paid
    assert session.amount_total_cents == 51500
    assert session.sale_id == 17
    assert session.payment_intent_id and session.payment_intent_id.startswith("pi_")
    assert session.card_last4 == "4242"
    (get,) = standin.requests_to("GET", f"/v1/checkout/sessions/{created.id}")
    assert get.headers.get("authorization") == "Bearer sk_test_standin"


def test_retrieve_unknown_session_is_a_gateway_error(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayError) as e:
        gateway.retrieve_checkout("cs_test_missing")
    assert e.value.code == "resource_missing"
    assert e.value.http_status == 404


def test_expire(gateway: StripeGateway, standin: StripeStandIn) -> None:
    created = gateway.create_checkout(checkout_request())
    expired = gateway.expire_checkout(created.id)
    assert expired.status == "expired"
    assert expired.url is None
    # Expiring again (or a session paid meanwhile) reports the session as it is.
    assert gateway.expire_checkout(created.id).status == "expired"

    paid = gateway.create_checkout(checkout_request(sale_id=18, key="sale-18"))
    standin.pay(paid.id)
    assert gateway.expire_checkout(paid.id).status == "complete"


def test_refund_partial_then_too_much(gateway: StripeGateway, standin: StripeStandIn) -> None:
    created = gateway.create_checkout(checkout_request())
    standin.pay(created.id)
    pi = gateway.retrieve_checkout(created.id).payment_intent_id
    assert pi is not None

    refund_id = gateway.refund(pi, 3250, "refund-1")
    assert refund_id.startswith("re_")
    assert gateway.refund(pi, 3250, "refund-1") == refund_id  # a retry refunds nothing more
    (sent, _retry) = standin.requests_to("POST", "/v1/refunds")
    assert sent.form == {"payment_intent": pi, "amount": "3250"}
    assert sent.headers["idempotency-key"] == "refund-1"

    with pytest.raises(GatewayError) as e:
        gateway.refund(pi, 51500 - 3250 + 1, "refund-2")
    assert e.value.http_status == 400
    assert "greater than" in str(e.value)
    assert len(standin.refunds) == 1
    assert gateway.refund(pi, 51500 - 3250, "refund-3").startswith("re_")


def test_parse_event_accepts_a_signed_event(gateway: StripeGateway, standin: StripeStandIn) -> None:
    created = gateway.create_checkout(checkout_request())
    standin.pay(created.id)
    payload, header = standin.event(created.id, "checkout.session.completed", event_id="evt_1")

    event = gateway.parse_event(payload, header)

    assert event is not None
    assert (event.id, event.type) == ("evt_1", "checkout.session.completed")
    assert event.session.id == created.id
    assert event.session.is_paid and event.session.sale_id == 17
    assert event.session.amount_total_cents == 51500
    assert event.session.payment_intent_id is not None


@pytest.mark.parametrize(
    "kind",
    [
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
        "checkout.session.async_payment_failed",
    ],
)
def test_parse_event_maps_the_other_session_events(
    gateway: StripeGateway, standin: StripeStandIn, kind: str
) -> None:
    created = gateway.create_checkout(checkout_request())
    event = gateway.parse_event(*standin.event(created.id, kind))
    assert event is not None and event.type == kind and event.session.sale_id == 17


def test_parse_event_ignores_other_types(gateway: StripeGateway, standin: StripeStandIn) -> None:
    created = gateway.create_checkout(checkout_request())
    assert gateway.parse_event(*standin.event(created.id, "customer.created")) is None


def test_parse_event_rejects_bad_signatures(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    created = gateway.create_checkout(checkout_request())
    payload, header = standin.event(created.id, "checkout.session.completed")

    tampered = json.loads(payload)
    tampered["data"]["object"]["amount_total"] = 1
    with pytest.raises(InvalidSignature):
        gateway.parse_event(json.dumps(tampered).encode(), header)

    _, wrong = standin.event(created.id, "checkout.session.completed", secret="whsec_wrong")
    with pytest.raises(InvalidSignature):
        gateway.parse_event(payload, wrong)

    for missing in (None, ""):
        with pytest.raises(InvalidSignature):
            gateway.parse_event(payload, missing)

    with pytest.raises(InvalidSignature):
        gateway.parse_event(payload, "garbage")

    stale_payload, stale = standin.event(
        created.id, "checkout.session.completed", timestamp=int(time.time()) - 301
    )
    with pytest.raises(InvalidSignature):
        gateway.parse_event(stale_payload, stale)


def test_parse_event_rejects_a_signed_body_that_is_not_json(gateway: StripeGateway) -> None:
    import stripe

    body = "not json"
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    with pytest.raises(InvalidSignature):
        gateway.parse_event(body.encode(), header)


def test_stand_in_down_is_a_gateway_error(standin: StripeStandIn) -> None:
    gateway = StripeGateway(
        "sk_test_standin", SECRET, api_base=standin.api_base, max_network_retries=0
    )
    standin.stop()
    for call in (
        lambda: gateway.create_checkout(checkout_request()),
        lambda: gateway.retrieve_checkout("cs_test_x"),
        lambda: gateway.expire_checkout("cs_test_x"),
        lambda: gateway.refund("pi_test_x", 100, "k"),
    ):
        with pytest.raises(GatewayError) as e:
            call()
        assert e.value.is_network_error
        assert "try again" in str(e.value)


def test_network_retries_do_not_hide_the_error(standin: StripeStandIn) -> None:
    gateway = StripeGateway("sk_test_standin", SECRET, api_base=standin.api_base)
    created = gateway.create_checkout(checkout_request())
    standin.stop()
    with pytest.raises(GatewayError) as e:
        gateway.retrieve_checkout(created.id)
    assert e.value.is_network_error


def test_nest_parses_form_keys() -> None:
    assert nest([("a[b][0][c]", "1"), ("a[b][1][c]", "2"), ("m[sale_id]", "3")]) == {
        "a": {"b": [{"c": "1"}, {"c": "2"}]},
        "m": {"sale_id": "3"},
    }


def test_stand_in_lists_sessions_and_restarts_with_its_state(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    import stripe

    a = gateway.create_checkout(checkout_request(sale_id=1, key="a"))
    b = gateway.create_checkout(checkout_request(sale_id=2, key="b"))
    standin.pay(b.id)
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.api_base})
    listed = client.v1.checkout.sessions.list({"status": "open", "limit": 10})
    assert [s.id for s in listed.data] == [a.id]
    everything = client.v1.checkout.sessions.list({"limit": 1})
    assert {s.id for s in everything.auto_paging_iter()} == {a.id, b.id}

    standin.stop()
    standin.start()
    assert gateway.retrieve_checkout(b.id).is_paid


def test_stand_in_payment_page_and_automatic_webhooks(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    import queue
    import threading
    import urllib.error
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: queue.Queue[tuple[bytes, str | None]] = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    app = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=app.serve_forever, args=(0.05,), daemon=True).start()
    try:
        standin.webhook_url = f"http://127.0.0.1:{app.server_address[1]}/stripe/webhook"
        created = gateway.create_checkout(checkout_request())
        assert created.url is not None
        with urllib.request.urlopen(created.url, timeout=5) as page:
            assert b"515.00 USD" in page.read()
        assert standin.post_event(
            standin.webhook_url, created.id, "checkout.session.completed"
        ) == 200
        received.get(timeout=5)
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kw: object) -> None:
                return None

        request = urllib.request.Request(created.url, data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(NoRedirect).open(request, timeout=5)
        assert redirect.value.code == 303
        assert redirect.value.headers["Location"] == "http://pos.test/sales/17?paid=1"
        redirect.value.close()
        event = gateway.parse_event(*received.get(timeout=5))
        assert event is not None and event.type == "checkout.session.completed"
        assert event.session.is_paid

        other = gateway.create_checkout(checkout_request(sale_id=3, key="c"))
        gateway.expire_checkout(other.id)
        event = gateway.parse_event(*received.get(timeout=5))
        assert event is not None and event.type == "checkout.session.expired"
        assert event.session.sale_id == 3
    finally:
        app.shutdown()
        app.server_close()
