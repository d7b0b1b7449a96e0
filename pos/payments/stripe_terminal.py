"""Stripe Terminal through the real SDK (server-driven): the part of StripeGateway that
talks to readers and card-present PaymentIntents, and reads their events.

Like stripe_gateway.py, nothing of the SDK leaves this module: answers become the value
types of pos/payments/terminal.py, errors GatewayError, unusable fields UnusableEvent.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from pos.payments.gateway import GatewayError, UnusableEvent
from pos.payments.terminal import (
    ReaderInfo,
    TerminalEvent,
    TerminalIntent,
    TerminalIntentRequest,
)

T = TypeVar("T")


class _StripeGatewayFields:
    """stripe_gateway's field checks (`_text`, `_ID`...), read when called: that module
    imports this one, so neither may need the other while it is being imported."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("pos.payments.stripe_gateway"), name)


_sg = _StripeGatewayFields()


class StripeTerminalMixin:
    """Mixed into StripeGateway, which provides `_client` and `_call`."""

    _client: stripe.StripeClient
    _call: Callable[..., Any]

    def create_terminal_location(self, display_name: str, country: str) -> str:
        location = self._call("create the Terminal location", lambda: (
            self._client.v1.terminal.locations.create(
                {"display_name": display_name[:100],
                 "address": {"country": country, "line1": display_name[:100]}})))
        return str(location.id)

    def register_reader(self, registration_code: str, label: str, location_id: str
                        ) -> ReaderInfo:
        reader = self._call("register the reader", lambda: (
            self._client.v1.terminal.readers.create(
                {"registration_code": registration_code, "label": label,
                 "location": location_id})))
        return _read(reader_from_dict, reader.to_dict())

    def create_terminal_intent(self, req: TerminalIntentRequest) -> TerminalIntent:
        if req.amount_cents <= 0:
            raise ValueError("a terminal payment must be a positive amount of cents")
        params: dict[str, Any] = {
            "amount": req.amount_cents,
            "currency": req.currency.lower(),
            "payment_method_types": ["card_present"],
            "capture_method": "automatic",
            "metadata": {"sale_id": str(req.sale_id), "payment_id": str(req.payment_id)},
        }
        intent = self._call("create the card-present payment", lambda: (
            self._client.v1.payment_intents.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": req.idempotency_key})))
        return _read(intent_from_dict, intent.to_dict())

    def process_on_reader(self, reader_id: str, payment_intent_id: str) -> None:
        self._call("hand the payment to the reader", lambda: (
            self._client.v1.terminal.readers.process_payment_intent(
                reader_id, {"payment_intent": payment_intent_id})))

    def cancel_reader_action(self, reader_id: str) -> None:
        self._call("cancel the reader's action", lambda: (
            self._client.v1.terminal.readers.cancel_action(reader_id)))

    def cancel_terminal_intent(self, payment_intent_id: str) -> TerminalIntent:
        try:
            intent = self._client.v1.payment_intents.cancel(payment_intent_id)
        except stripe.InvalidRequestError as e:
            # Succeeded (or canceled) a moment ago: that is an answer, not an error.
            current = self.retrieve_terminal_intent(payment_intent_id)
            if current.status in ("succeeded", "canceled"):
                return current
            raise _sg._gateway_error("cancel the card-present payment", e) from None
        except stripe.StripeError as e:
            raise _sg._gateway_error("cancel the card-present payment", e) from None
        return _read(intent_from_dict, intent.to_dict())

    def retrieve_terminal_intent(self, payment_intent_id: str) -> TerminalIntent:
        intent = self._call("look up the card-present payment", lambda: (
            self._client.v1.payment_intents.retrieve(
                payment_intent_id, {"expand": ["latest_charge"]})))
        return _read(intent_from_dict, intent.to_dict())


def terminal_event(data: Mapping[str, Any]) -> TerminalEvent | None:
    """A TerminalEvent from a verified event's JSON; None when its object is not one the
    app handles (a reader action that is not process_payment_intent...)."""
    event_type = str(data.get("type") or "")
    envelope = data.get("data")
    obj = envelope.get("object") if isinstance(envelope, Mapping) else None
    if not isinstance(obj, Mapping):
        return None
    event_id = _sg._required(_sg._text(data.get("id"), "event id", _sg._ID), "event id")
    if obj.get("object") == "payment_intent":
        intent = intent_from_dict(obj)
        return TerminalEvent(id=event_id, type=event_type, payment_intent_id=intent.id,
                             intent=intent)
    if obj.get("object") != "terminal.reader":
        return None
    reader = reader_from_dict(obj)
    action = obj.get("action")
    if not isinstance(action, Mapping) or action.get("type") != "process_payment_intent":
        return None
    process = action.get("process_payment_intent")
    intent_id = process.get("payment_intent") if isinstance(process, Mapping) else None
    if isinstance(intent_id, Mapping):
        intent_id = intent_id.get("id")
    return TerminalEvent(
        id=event_id, type=event_type, reader_id=reader.id, intent=None,
        payment_intent_id=_sg._text(intent_id, "payment_intent", _sg._ID),
        failure_message=_message(action.get("failure_message")))


def reader_from_dict(d: Mapping[str, Any]) -> ReaderInfo:
    return ReaderInfo(
        id=_sg._required(_sg._text(d.get("id"), "reader id", _sg._ID), "reader id"),
        label=_message(d.get("label"), 100),
        location_id=_sg._text(d.get("location") if not isinstance(d.get("location"), Mapping)
                              else d["location"].get("id"), "location", _sg._ID),
        device_type=_sg._text(d.get("device_type"), "device_type", _sg._WORD),
        status=_sg._text(d.get("status"), "status", _sg._WORD))


def intent_from_dict(d: Mapping[str, Any]) -> TerminalIntent:
    metadata = d.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise UnusableEvent("metadata is not an object")
    brand = last4 = None
    charge = d.get("latest_charge")
    if isinstance(charge, Mapping):
        details = charge.get("payment_method_details") or {}
        card = details.get("card_present") if isinstance(details, Mapping) else None
        if isinstance(card, Mapping):
            last4 = _sg._text(card.get("last4"), "card last4", _sg._LAST4)
            brand = _sg._text(card.get("brand"), "card brand", _sg._BRAND)
    error = d.get("last_payment_error")
    return TerminalIntent(
        id=_sg._required(_sg._text(d.get("id"), "id", _sg._ID), "id"),
        status=_sg._text(d.get("status"), "status", _sg._WORD) or "",
        amount_cents=_sg._whole(d.get("amount"), "amount", _sg._MAX_CENTS),
        amount_received_cents=_sg._whole(d.get("amount_received"), "amount_received",
                                         _sg._MAX_CENTS),
        currency=_sg._text(d.get("currency"), "currency", _sg._CURRENCY),
        sale_id=_sg._sale_id(metadata.get("sale_id")),
        payment_id=_sg._sale_id(metadata.get("payment_id")),
        card_brand=brand, last4=last4,
        error_message=_message(error.get("message")) if isinstance(error, Mapping) else None)


def _message(value: Any, most: int = 300) -> str | None:
    """A provider's message (a decline's wording): printable text, cut to its column."""
    if not isinstance(value, str) or not value.strip():
        return None
    return "".join(ch for ch in value if ch.isprintable()).strip()[:most] or None


def _read(parse: Callable[[Mapping[str, Any]], T], d: Mapping[str, Any]) -> T:
    try:
        return parse(d)
    except UnusableEvent as e:
        raise GatewayError(f"Stripe's answer could not be read ({e}).") from None
