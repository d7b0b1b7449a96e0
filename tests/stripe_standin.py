"""A small stateful stand-in for the Stripe API, for tests (no internet needed).

    standin = StripeStandIn(webhook_secret="whsec_test").start()
    gateway = StripeGateway("sk_test_x", "whsec_test", api_base=standin.api_base)
    standin.pay(session_id)  # the client pays on Stripe's page
    standin.post_event(url, session_id, "checkout.session.completed")  # -> HTTP status
    standin.stop()

It answers what the real SDK sends (form-encoded bodies, `expand[0]=...` queries) for
Checkout Sessions, PaymentIntents and Refunds, honours Idempotency-Key, and records every
request in `.requests`. Stripe Terminal (server-driven) too: locations, readers
(registration code `simulated-wpe`), card-present PaymentIntents, `process_payment_intent`,
`cancel_action`, and the test helper `present_payment_method` (a declined test card
number declines), with signed `payment_intent.*` / `terminal.reader.*` events
(`intent_event`, `reader_event`; delivered by themselves when `webhook_url` is set). `/pay/{id}` is a tiny hosted payment page for browser tests; when
`webhook_url` is set, paying and expiring send the matching event there by themselves.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"
MIN_EXPIRY_S, MAX_EXPIRY_S = 30 * 60, 24 * 60 * 60
SIMULATED_READER_CODE = "simulated-wpe"
# Stripe's card_present test numbers that decline (charge declined, insufficient funds).
DECLINED_CARDS = frozenset({"4000000000000002", "4000000000009995"})


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]  # flat, as sent: {"line_items[0][quantity]": "1", ...}
    params: dict[str, Any]  # the same, nested: {"line_items": [{"quantity": "1"}]}
    headers: dict[str, str] = field(default_factory=dict)


class StripeApiError(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, "code": code, "param": param}}


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` pairs -> {"a": {"b": [{"c": "v"}]}} (dicts with 0..n keys become lists)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts:
            node[parts[-1]] = value

    def listify(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        v = {k: listify(x) for k, x in v.items()}
        if v and all(k.isdigit() for k in v):
            return [v[k] for k in sorted(v, key=int)]
        return v

    return listify(root)


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class StripeStandIn:
    def __init__(self, webhook_secret: str | None = None, webhook_url: str | None = None):
        self.webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(16)}"
        self.webhook_url = webhook_url
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.locations: dict[str, dict[str, Any]] = {}
        self.readers: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, tuple[str, str, dict[str, str], int, Any]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._port = 0

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> StripeStandIn:
        """Serve in a daemon thread; after stop(), start() again serves the same port
        and state (to test "Stripe is down for a moment")."""
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StripeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_base(self) -> str:
        assert self._port, "start() the stand-in first"
        return f"http://127.0.0.1:{self._port}"

    # -- test helpers -----------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def pay(self, session_id: str, amount: int | None = None) -> dict[str, Any]:
        """The client pays: complete + paid, with a PaymentIntent and a card charge ("4242").
        `amount` other than the session's total simulates a paid amount mismatch."""
        with self._lock:
            s = self._session(session_id)
            if s["status"] != "open":
                raise StripeApiError(400, f"This Checkout Session is {s['status']}.")
            paid = s["amount_total"] if amount is None else amount
            pi_id, ch_id = _new_id("pi"), _new_id("ch")
            self.charges[ch_id] = {
                "id": ch_id, "object": "charge", "amount": paid, "amount_refunded": 0,
                "currency": s["currency"], "payment_intent": pi_id, "paid": True,
                "status": "succeeded",
                "payment_method_details": {"type": "card", "card": {"brand": "visa",
                                                                    "last4": "4242"}},
            }
            self.payment_intents[pi_id] = {
                "id": pi_id, "object": "payment_intent", "amount": paid,
                "amount_received": paid, "currency": s["currency"], "status": "succeeded",
                "latest_charge": ch_id, "metadata": dict(s["_pi_metadata"]),
                "created": int(time.time()),
            }
            s.update(status="complete", payment_status="paid", amount_total=paid,
                     payment_intent=pi_id, url=None)
        self._auto_deliver(session_id, "checkout.session.completed")
        return self.session_json(session_id)

    def session_json(self, session_id: str, expand: list[str] | tuple[str, ...] = ()) -> Any:
        with self._lock:
            s = {k: v for k, v in self._session(session_id).items() if not k.startswith("_")}
            if s["payment_intent"] and any(e.split(".")[0] == "payment_intent" for e in expand):
                nested = [e.split(".", 1)[1] for e in expand if e.startswith("payment_intent.")]
                s["payment_intent"] = self.payment_intent_json(s["payment_intent"], nested)
            return json.loads(json.dumps(s))

    def payment_intent_json(self, pi_id: str, expand: list[str] | tuple[str, ...] = ()) -> Any:
        pi = dict(self._get(self.payment_intents, pi_id, "payment_intent"))
        if "latest_charge" in expand and pi["latest_charge"]:
            pi["latest_charge"] = dict(self.charges[pi["latest_charge"]])
        return pi

    def event(self, session_id: str, type: str, *, timestamp: int | None = None,
              secret: str | None = None, event_id: str | None = None) -> tuple[bytes, str]:
        """A signed event about the session as it is now: (raw body, Stripe-Signature)."""
        body = json.dumps({
            "id": event_id or _new_id("evt"), "object": "event", "type": type,
            "api_version": API_VERSION, "created": int(time.time()), "livemode": False,
            "data": {"object": self.session_json(session_id)},
        })
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret or self.webhook_secret, timestamp=timestamp)
        return body.encode(), header

    def post_event(self, webhook_url: str, session_id: str, type: str,
                   secret: str | None = None, **kw: Any) -> int:
        """Build and POST a signed event; returns the HTTP status the app answered."""
        payload, header = self.event(session_id, type, secret=secret, **kw)
        return post_payload(webhook_url, payload, header)

    # -- Stripe Terminal ------------------------------------------------------------

    def create_location(self, p: dict[str, Any]) -> Any:
        address = p.get("address")
        if not p.get("display_name") or not isinstance(address, dict) or \
                not address.get("country"):
            raise StripeApiError(400, "display_name and address[country] are required.",
                                 param="address")
        lid = _new_id("tml")
        self.locations[lid] = {"id": lid, "object": "terminal.location",
                               "display_name": p["display_name"], "address": address,
                               "metadata": {}, "livemode": False}
        return self.locations[lid]

    def create_reader(self, p: dict[str, Any]) -> Any:
        if p.get("registration_code") != SIMULATED_READER_CODE:
            raise StripeApiError(400, "The registration code is invalid or expired.",
                                 code="terminal_reader_invalid_registration_code",
                                 param="registration_code")
        location = p.get("location")
        if location not in self.locations:
            raise StripeApiError(400, f"No such location: '{location}'", param="location",
                                 code="resource_missing")
        rid = _new_id("tmr")
        self.readers[rid] = {"id": rid, "object": "terminal.reader", "label": p.get("label"),
                             "location": location, "device_type": "simulated_wisepos_e",
                             "status": "online", "serial_number": rid[-12:],
                             "action": None, "livemode": False, "metadata": {}}
        return self.readers[rid]

    def create_payment_intent(self, p: dict[str, Any]) -> Any:
        try:
            amount = int(p["amount"])
            currency = str(p["currency"])
        except (KeyError, ValueError):
            raise StripeApiError(400, "amount and currency are required.") from None
        if amount < 1:
            raise StripeApiError(400, "Amount must be at least 1.", param="amount")
        pi_id = _new_id("pi")
        self.payment_intents[pi_id] = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency, "status": "requires_payment_method",
            "payment_method_types": p.get("payment_method_types") or ["card"],
            "capture_method": p.get("capture_method") or "automatic",
            "metadata": p.get("metadata") or {}, "latest_charge": None,
            "last_payment_error": None, "created": int(time.time())}
        return self.payment_intents[pi_id]

    def cancel_payment_intent(self, pi_id: str) -> Any:
        pi = self._get(self.payment_intents, pi_id, "payment_intent")
        if pi["status"] in ("succeeded", "canceled"):
            raise StripeApiError(400, "You cannot cancel this PaymentIntent because it has a "
                                 f"status of {pi['status']}.",
                                 code="payment_intent_unexpected_state")
        pi["status"] = "canceled"
        return pi

    def process_payment_intent(self, rid: str, p: dict[str, Any]) -> Any:
        reader = self._get(self.readers, rid, "terminal.reader")
        pi = self._get(self.payment_intents, str(p.get("payment_intent")), "payment_intent")
        if reader["status"] != "online":
            raise StripeApiError(400, "Reader is currently offline.",
                                 code="terminal_reader_offline")
        action = reader["action"]
        if action and action["status"] == "in_progress":
            raise StripeApiError(409, "Reader is currently busy processing another request.",
                                 code="terminal_reader_busy")
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeApiError(400, f"This PaymentIntent's status is {pi['status']}.",
                                 code="payment_intent_unexpected_state")
        reader["action"] = {"type": "process_payment_intent", "status": "in_progress",
                            "failure_code": None, "failure_message": None,
                            "process_payment_intent": {"payment_intent": pi["id"]}}
        return reader

    def cancel_action(self, rid: str) -> Any:
        reader = self._get(self.readers, rid, "terminal.reader")
        action = reader["action"]
        if not action or action["status"] != "in_progress":
            raise StripeApiError(400, "This reader has no in-progress action to cancel.",
                                 code="terminal_reader_action_not_in_progress")
        reader["action"] = None
        return reader

    def present_payment_method(self, rid: str, p: dict[str, Any]) -> Any:
        """The client taps a card: `card_present[number]` a declined test card declines."""
        with self._lock:
            reader = self._get(self.readers, rid, "terminal.reader")
            action = reader["action"]
            if not action or action["status"] != "in_progress":
                raise StripeApiError(400, "The reader has no in-progress action.",
                                     code="terminal_reader_action_not_in_progress")
            pi = self.payment_intents[action["process_payment_intent"]["payment_intent"]]
            number = str((p.get("card_present") or {}).get("number") or "4242424242424242")
            if number in DECLINED_CARDS:
                message = "Your card was declined."
                action.update(status="failed", failure_code="card_declined",
                              failure_message=message)
                pi.update(status="requires_payment_method", last_payment_error={
                    "type": "card_error", "code": "card_declined", "message": message})
                events = ["payment_intent.payment_failed", "terminal.reader.action_failed"]
            else:
                ch_id = _new_id("ch")
                self.charges[ch_id] = {
                    "id": ch_id, "object": "charge", "amount": pi["amount"],
                    "amount_refunded": 0, "currency": pi["currency"], "payment_intent": pi["id"],
                    "paid": True, "status": "succeeded",
                    "payment_method_details": {"type": "card_present", "card_present": {
                        "brand": "visa", "last4": number[-4:]}}}
                action.update(status="succeeded")
                pi.update(status="succeeded", amount_received=pi["amount"],
                          latest_charge=ch_id, last_payment_error=None)
                events = ["payment_intent.succeeded", "terminal.reader.action_succeeded"]
            reader_json, pi_id = json.loads(json.dumps(reader)), pi["id"]
        for type_ in events:
            self._auto_deliver_object(self._object_of(type_, rid, pi_id), type_)
        return reader_json

    def _object_of(self, type_: str, rid: str, pi_id: str) -> Any:
        if type_.startswith("terminal.reader."):
            return json.loads(json.dumps(self.readers[rid]))
        return json.loads(json.dumps(self.payment_intents[pi_id]))

    def object_event(self, obj: Any, type: str, *, timestamp: int | None = None,
                     event_id: str | None = None) -> tuple[bytes, str]:
        """A signed event about any object as given: (raw body, Stripe-Signature)."""
        body = json.dumps({
            "id": event_id or _new_id("evt"), "object": "event", "type": type,
            "api_version": API_VERSION, "created": int(time.time()), "livemode": False,
            "data": {"object": obj}})
        header = stripe.WebhookSignature.generate_signature_header(
            body, self.webhook_secret, timestamp=timestamp)
        return body.encode(), header

    def intent_event(self, pi_id: str, type: str, **kw: Any) -> tuple[bytes, str]:
        """A signed `payment_intent.*` event about the PaymentIntent as it is now."""
        return self.object_event(json.loads(json.dumps(self.payment_intents[pi_id])), type,
                                 **kw)

    def reader_event(self, rid: str, type: str, **kw: Any) -> tuple[bytes, str]:
        """A signed `terminal.reader.*` event about the reader as it is now."""
        return self.object_event(json.loads(json.dumps(self.readers[rid])), type, **kw)

    def _auto_deliver_object(self, obj: Any, type: str) -> None:
        if self.webhook_url:
            payload, header = self.object_event(obj, type)
            threading.Thread(target=post_payload, args=(self.webhook_url, payload, header),
                             daemon=True).start()

    def _auto_deliver(self, session_id: str, type: str) -> None:
        if self.webhook_url:  # in the background, as Stripe does: never inside the API call
            url = self.webhook_url
            payload, header = self.event(session_id, type)
            threading.Thread(target=post_payload, args=(url, payload, header),
                             daemon=True).start()

    # -- the API ----------------------------------------------------------------------

    def _session(self, session_id: str) -> dict[str, Any]:
        s = self._get(self.sessions, session_id, "checkout.session")
        if s["status"] == "open" and s["expires_at"] <= time.time():
            s.update(status="expired", url=None)
        return s

    @staticmethod
    def _get(table: dict[str, dict[str, Any]], obj_id: str, kind: str) -> dict[str, Any]:
        if obj_id not in table:
            raise StripeApiError(404, f"No such {kind}: '{obj_id}'",
                                 code="resource_missing", param="id")
        return table[obj_id]

    def create_session(self, p: dict[str, Any]) -> Any:
        if p.get("mode") != "payment":
            raise StripeApiError(400, "This stand-in supports mode=payment only.", param="mode")
        items = p.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeApiError(400, "line_items is required in payment mode.",
                                 param="line_items")
        currency, total = None, 0
        for i, item in enumerate(items):
            try:
                pd = item["price_data"]
                unit, qty = int(pd["unit_amount"]), int(item["quantity"])
                currency, _name = pd["currency"], pd["product_data"]["name"]
            except (KeyError, TypeError, ValueError):
                raise StripeApiError(400, "Invalid line item.", param=f"line_items[{i}]") from None
            if unit < 0 or qty < 1:
                raise StripeApiError(400, "Invalid amount or quantity.", param=f"line_items[{i}]")
            total += unit * qty
        now = time.time()
        expires_at = int(p.get("expires_at") or now + MAX_EXPIRY_S)
        if not now + MIN_EXPIRY_S - 10 <= expires_at <= now + MAX_EXPIRY_S + 10:
            raise StripeApiError(400, "The `expires_at` timestamp must be between 30 minutes "
                                 "and 24 hours from Checkout Session creation.",
                                 param="expires_at")
        sid = _new_id("cs")
        self.sessions[sid] = {
            "id": sid, "object": "checkout.session", "mode": "payment", "livemode": False,
            "amount_subtotal": total, "amount_total": total, "currency": currency,
            "status": "open", "payment_status": "unpaid",
            "client_reference_id": p.get("client_reference_id"),
            "metadata": p.get("metadata") or {}, "payment_intent": None,
            "url": f"{self.api_base}/pay/{sid}", "expires_at": expires_at,
            "created": int(now), "success_url": p.get("success_url"),
            "cancel_url": p.get("cancel_url"), "customer_email": p.get("customer_email"),
            "customer_details": None,
            "_pi_metadata": (p.get("payment_intent_data") or {}).get("metadata") or {},
        }
        return self.session_json(sid)

    def expire_session(self, sid: str) -> Any:
        s = self._session(sid)
        if s["status"] != "open":
            raise StripeApiError(400, "Only Checkout Sessions with a status of `open` can be "
                                 f"expired. This session has a status of `{s['status']}`.")
        s.update(status="expired", url=None)
        self._auto_deliver(sid, "checkout.session.expired")
        return self.session_json(sid)

    def list_sessions(self, q: dict[str, Any]) -> Any:
        rows = sorted((self._session(sid) for sid in list(self.sessions)),
                      key=lambda s: s["created"], reverse=True)
        for key in ("status", "payment_intent", "client_reference_id"):
            if q.get(key):
                rows = [s for s in rows if s[key] == q[key]]
        if q.get("starting_after"):
            ids = [s["id"] for s in rows]
            rows = rows[ids.index(q["starting_after"]) + 1:] if q["starting_after"] in ids else []
        limit = int(q.get("limit") or 10)
        data = [self.session_json(s["id"], q.get("expand") or ()) for s in rows[:limit]]
        return {"object": "list", "url": "/v1/checkout/sessions", "data": data,
                "has_more": len(rows) > limit}

    def create_refund(self, p: dict[str, Any]) -> Any:
        pi = self._get(self.payment_intents, str(p.get("payment_intent")), "payment_intent")
        charge = self.charges[pi["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(p.get("amount") or left)
        if amount <= 0 or amount > left:
            raise StripeApiError(400, f"Refund amount ({amount}) is greater than unrefunded "
                                 f"amount on charge ({left})", param="amount",
                                 code="amount_too_large" if amount > 0 else None)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        rid = _new_id("re")
        self.refunds[rid] = {"id": rid, "object": "refund", "amount": amount,
                             "currency": charge["currency"], "payment_intent": pi["id"],
                             "charge": charge["id"], "status": "succeeded",
                             "created": int(time.time()), "metadata": p.get("metadata") or {}}
        return self.refunds[rid]

    def route(self, method: str, path: str, q: dict[str, Any], p: dict[str, Any]) -> Any:
        expand = tuple(q.get("expand") or p.get("expand") or ())
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v1", "checkout", "sessions"]:
                return self.create_session(p)
            case "GET", ["v1", "checkout", "sessions"]:
                return self.list_sessions(q)
            case "GET", ["v1", "checkout", "sessions", sid]:
                return self.session_json(sid, expand)
            case "POST", ["v1", "checkout", "sessions", sid, "expire"]:
                return self.expire_session(sid)
            case "POST", ["v1", "refunds"]:
                return self.create_refund(p)
            case "GET", ["v1", "payment_intents", pi_id]:
                return self.payment_intent_json(pi_id, expand)
            case "POST", ["v1", "payment_intents"]:
                return self.create_payment_intent(p)
            case "POST", ["v1", "payment_intents", pi_id, "cancel"]:
                return self.cancel_payment_intent(pi_id)
            case "POST", ["v1", "terminal", "locations"]:
                return self.create_location(p)
            case "POST", ["v1", "terminal", "readers"]:
                return self.create_reader(p)
            case "GET", ["v1", "terminal", "readers", rid]:
                return self._get(self.readers, rid, "terminal.reader")
            case "POST", ["v1", "terminal", "readers", rid, "process_payment_intent"]:
                return self.process_payment_intent(rid, p)
            case "POST", ["v1", "terminal", "readers", rid, "cancel_action"]:
                return self.cancel_action(rid)
            case "POST", ["v1", "test_helpers", "terminal", "readers", rid,
                          "present_payment_method"]:
                return self.present_payment_method(rid, p)
        raise StripeApiError(404, f"Unrecognized request URL ({method}: {path}).")


def post_payload(url: str, payload: bytes, header: str | None) -> int:
    """POST a raw webhook body (header None: no Stripe-Signature); returns the status."""
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    req = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


class _Handler(BaseHTTPRequestHandler):
    owner: StripeStandIn  # HTTP/1.0: one request per connection, so stop() really stops

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in {"Content-Type": ctype, "Content-Length": str(len(body)),
                     **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        st, url = self.owner, urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = dict(parse_qsl(raw, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        st.requests.append(RecordedRequest(method, url.path, form, nest(list(form.items())),
                                           headers))
        if url.path.startswith("/pay/"):
            return self._pay_page(method, url.path.rsplit("/", 1)[-1])
        q, p = nest(parse_qsl(url.query, keep_blank_values=True)), nest(list(form.items()))
        key = headers.get("idempotency-key") if method == "POST" else None
        with st._lock:
            if key and key in st._idempotent:
                m, path, f, status, body = st._idempotent[key]
                if (m, path, f) != (method, url.path, form):
                    status, body = 400, StripeApiError(
                        400, "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.", type_="idempotency_error").body
                return self._send(status, json.dumps(body).encode(),
                                  headers={"Idempotent-Replayed": "true"})
            try:
                if not headers.get("authorization", "").startswith("Bearer "):
                    raise StripeApiError(401, "You did not provide an API key.")
                status, body = 200, st.route(method, url.path, q, p)
            except StripeApiError as e:
                status, body = e.status, e.body
            if key:
                st._idempotent[key] = (method, url.path, form, status, body)
        self._send(status, json.dumps(body).encode())

    def _pay_page(self, method: str, sid: str) -> None:
        st = self.owner
        if sid not in st.sessions:
            return self._send(404, b"No such checkout session", "text/plain")
        if method == "POST":
            try:
                st.pay(sid)
            except StripeApiError as e:
                return self._send(409, e.body["error"]["message"].encode(), "text/plain")
            target = str(st.sessions[sid]["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
            return self._send(303, b"", "text/plain", {"Location": target})
        s = st.session_json(sid)
        html = (f"<!doctype html><title>Stripe stand-in checkout</title><h1>Pay "
                f"{s['amount_total'] / 100:.2f} {str(s['currency']).upper()}</h1>"
                f"<p id=status>{s['status']}</p><form method=post><button id=pay>Pay with "
                f"4242</button></form><a id=cancel href=\"{s['cancel_url']}\">Cancel</a>")
        self._send(200, html.encode(), "text/html; charset=utf-8")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")
