"""Stripe Terminal readers: register one at the clinic's location, list them.

Registering (no lock held while the gateway answers):
1. read the location's Terminal Location id for this gateway (created once, then reused:
   a race that creates two keeps the first stored and leaves the other unused at Stripe);
2. outside any transaction, create the Terminal Location if there was none, and register
   the reader with its registration code under it;
3. one transaction stores the reader (and the Terminal Location).
Nothing personal goes to the provider: the location's name and country, the reader's label.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pos.domain.errors import PosError
from pos.domain.statuses import ReaderStatus
from pos.extensions import db
from pos.models import TerminalLocation, TerminalReader
from pos.payments.gateway import GatewayError
from pos.services import audit, ledger
from pos.services.sales.errors import PaymentGatewayUnavailable
from pos.services.sales.records import payment_gateway
from pos.services.transaction import write_transaction

log = logging.getLogger("pos.terminal")

# Terminal Locations need a country; the clinic's currency tells it well enough.
_COUNTRY_OF_CURRENCY = {"usd": "US", "cad": "CA", "gbp": "GB", "aud": "AU", "nzd": "NZ",
                        "eur": "IE", "sgd": "SG"}


class ReaderRejected(PosError):
    """The provider refused the registration (a wrong or used code)."""

    code = "reader_registration_failed"
    status = 422


def list_readers(gateway: str | None = None) -> list[TerminalReader]:
    """Every reader, or those of one gateway (the checkout offers the current one's)."""
    query = select(TerminalReader).order_by(TerminalReader.label, TerminalReader.id)
    if gateway is not None:
        query = query.where(TerminalReader.gateway == gateway)
    return list(db.session.scalars(query))


def register_reader(registration_code: str, label: str, user_id: int | None,
                    currency: str) -> TerminalReader:
    gateway = payment_gateway()
    session = db.session()
    location = ledger.default_location(session)
    location_id, location_name = location.id, location.name
    provider_location = session.scalar(select(TerminalLocation.provider_location_id).where(
        TerminalLocation.location_id == location_id, TerminalLocation.gateway == gateway.name))
    session.commit()  # default_location may have created the row; nothing stays open

    try:
        if provider_location is None:
            provider_location = gateway.create_terminal_location(
                location_name, _COUNTRY_OF_CURRENCY.get(currency.lower(), "US"))
            provider_location = _keep_location(location_id, gateway.name, provider_location)
        info = gateway.register_reader(registration_code, label, provider_location)
    except GatewayError as error:
        log.warning("reader registration failed: %s", error)
        if error.is_network_error or (error.http_status or 500) >= 500:
            raise PaymentGatewayUnavailable(
                f"The card reader could not be registered: {error.message}", {}) from None
        raise ReaderRejected(
            f"The card reader was not registered: {error.message}",
            {"fields": {"registration_code": "not accepted by the payment provider"}}
        ) from None

    with write_transaction() as session:
        reader = TerminalReader(
            provider_reader_id=info.id, gateway=gateway.name, label=info.label or label,
            location_id=location_id, provider_location_id=provider_location,
            device_type=info.device_type,
            status=info.status if info.status in tuple(ReaderStatus) else None)
        session.add(reader)
        session.flush()
        audit.record(session, user_id, "terminal.reader_registered", "terminal_reader",
                     reader.id, label=reader.label, device_type=reader.device_type)
        return reader


def _keep_location(location_id: int, gateway: str, provider_location: str) -> str:
    """Store the new Terminal Location; if another request stored one first, use that."""
    try:
        with write_transaction() as session:
            session.add(TerminalLocation(location_id=location_id, gateway=gateway,
                                         provider_location_id=provider_location))
        return provider_location
    except IntegrityError:
        db.session.rollback()
        stored = db.session.scalar(select(TerminalLocation.provider_location_id).where(
            TerminalLocation.location_id == location_id, TerminalLocation.gateway == gateway))
        assert stored is not None
        return stored


def reader_json(reader: TerminalReader) -> dict[str, object]:
    return {"id": reader.id, "label": reader.label, "reader_id": reader.provider_reader_id,
            "location_id": reader.location_id, "device_type": reader.device_type,
            "status": reader.status, "gateway": reader.gateway}
