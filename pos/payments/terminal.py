"""Stripe Terminal, server-driven: the value types and the gateway interface.

Pure Python (nothing here imports stripe). A terminal tender is a PaymentIntent for the
tender's amount (`card_present`, captured automatically) that the app hands to a reader
with `process_payment_intent`; the reader's outcome comes back as events:
`payment_intent.succeeded` settles the tender, `terminal.reader.action_failed` (or
`payment_intent.payment_failed`) leaves it pending with the decline's message.
No personal data is ever part of a request: the PaymentIntent carries only the sale's
and the tender's ids.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

EVENT_INTENT_SUCCEEDED = "payment_intent.succeeded"
EVENT_INTENT_FAILED = "payment_intent.payment_failed"
EVENT_READER_SUCCEEDED = "terminal.reader.action_succeeded"
EVENT_READER_FAILED = "terminal.reader.action_failed"
TERMINAL_EVENT_TYPES: frozenset[str] = frozenset(
    {EVENT_INTENT_SUCCEEDED, EVENT_INTENT_FAILED, EVENT_READER_SUCCEEDED, EVENT_READER_FAILED})


@dataclass(frozen=True)
class ReaderInfo:
    id: str
    label: str | None
    location_id: str | None
    device_type: str | None
    status: str | None  # "online" | "offline" | None


@dataclass(frozen=True)
class TerminalIntentRequest:
    sale_id: int
    payment_id: int
    amount_cents: int
    currency: str
    idempotency_key: str  # derived from the payment row: a retry never makes a second one


@dataclass(frozen=True)
class TerminalIntent:
    """A card-present PaymentIntent as the app sees it."""

    id: str
    status: str  # requires_payment_method | processing | succeeded | canceled | ...
    amount_cents: int | None
    amount_received_cents: int | None
    currency: str | None
    sale_id: int | None  # metadata.sale_id
    payment_id: int | None  # metadata.payment_id
    card_brand: str | None = None
    last4: str | None = None
    error_message: str | None = None  # last_payment_error.message (a decline)

    @property
    def is_paid(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class TerminalEvent:
    """A verified `payment_intent.*` or `terminal.reader.*` event."""

    id: str
    type: str
    payment_intent_id: str | None
    intent: TerminalIntent | None  # for payment_intent.* events
    reader_id: str | None = None  # for terminal.reader.* events
    failure_message: str | None = None  # the reader action's failure message


@runtime_checkable
class TerminalGateway(Protocol):
    name: str

    def create_terminal_location(self, display_name: str, country: str) -> str:
        """A Terminal Location for a clinic location; returns its id."""
        ...

    def register_reader(self, registration_code: str, label: str, location_id: str
                        ) -> ReaderInfo: ...

    def create_terminal_intent(self, req: TerminalIntentRequest) -> TerminalIntent: ...

    def process_on_reader(self, reader_id: str, payment_intent_id: str) -> None:
        """Hand the PaymentIntent to the reader ("Tap, insert or swipe")."""
        ...

    def cancel_reader_action(self, reader_id: str) -> None: ...

    def cancel_terminal_intent(self, payment_intent_id: str) -> TerminalIntent:
        """Cancel it; one already succeeded (or canceled) is returned as it is."""
        ...

    def retrieve_terminal_intent(self, payment_intent_id: str) -> TerminalIntent: ...
