"""A client's account credit: issued by a refund to credit, spent as a tender.

The balance is the sum of the client's ledger entries (pos/models/credit.py). Every entry
is appended under the client's row lock, so two writers for one client take turns: each
reads the balance the other left, and the entry's `balance_after_cents` (CHECKed >= 0 by
the database) is that balance plus its amount. Lock order: whatever the caller holds
(a sale, its package purchases), then the client.

These functions run inside the caller's transaction (a refund, a sale's tender) and never
commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain import credit as rules
from pos.domain.errors import NotFound
from pos.models import Client, ClientCreditEntry, Refund, User
from pos.services import audit


@dataclass(frozen=True)
class CreditEntry:
    id: int
    created_at: datetime
    amount_cents: int
    balance_after_cents: int
    reason: str
    refund_id: int | None
    sale_id: int | None
    payment_id: int | None
    created_by: str | None


def balance(session: Session, client_id: int) -> int:
    """The client's credit now (0 for a client who never had any)."""
    return int(session.scalar(select(func.coalesce(func.sum(ClientCreditEntry.amount_cents), 0))
                              .where(ClientCreditEntry.client_id == client_id)) or 0)


def _lock_client(session: Session, client_id: int) -> Client:
    client = session.scalar(select(Client).where(Client.id == client_id).with_for_update()
                            .execution_options(populate_existing=True))
    if client is None:
        raise NotFound(f"There is no client {client_id}.", {"client_id": client_id})
    return client


def _append(session: Session, client_id: int, amount_cents: int, balance_after: int, *,
            reason: str, refund_id: int | None, payment_id: int | None,
            user_id: int | None) -> ClientCreditEntry:
    entry = ClientCreditEntry(client_id=client_id, amount_cents=amount_cents,
                              balance_after_cents=balance_after, reason=reason[:200],
                              refund_id=refund_id, payment_id=payment_id,
                              created_by_id=user_id)
    session.add(entry)
    session.flush()
    audit.record(session, user_id, "credit.issue" if amount_cents > 0 else "credit.spend",
                 "client", client_id, amount_cents=amount_cents, balance_cents=balance_after,
                 refund_id=refund_id, payment_id=payment_id)
    return entry


def issue_credit(session: Session, client_id: int, amount_cents: int, *, reason: str,
                 refund_id: int | None = None, user_id: int | None = None) -> int:
    """Add `amount_cents` (at least 1 cent) to the client's credit; the new balance."""
    if amount_cents < 1:
        raise ValueError("credit issued is at least 1 cent")
    _lock_client(session, client_id)
    after = balance(session, client_id) + amount_cents
    _append(session, client_id, amount_cents, after, reason=reason, refund_id=refund_id,
            payment_id=None, user_id=user_id)
    return after


def spend_credit(session: Session, client_id: int, amount_cents: int, payment_id: int | None,
                 *, user_id: int | None = None, reason: str = "Paid with account credit") -> int:
    """Spend `amount_cents` of the client's credit for the tender `payment_id`; the new
    balance. More than the balance: 422 `credit_too_low`, nothing written."""
    _lock_client(session, client_id)
    after = rules.balance_after_spending(balance(session, client_id), amount_cents)
    _append(session, client_id, -amount_cents, after, reason=reason, refund_id=None,
            payment_id=payment_id, user_id=user_id)
    return after


def history(session: Session, client_id: int, limit: int = 100) -> list[CreditEntry]:
    """The client's credit entries, newest first."""
    rows = session.execute(
        select(ClientCreditEntry, Refund.sale_id, User.name)
        .outerjoin(Refund, Refund.id == ClientCreditEntry.refund_id)
        .outerjoin(User, User.id == ClientCreditEntry.created_by_id)
        .where(ClientCreditEntry.client_id == client_id)
        .order_by(ClientCreditEntry.id.desc()).limit(limit)).all()
    return [CreditEntry(e.id, e.created_at, e.amount_cents, e.balance_after_cents, e.reason,
                        e.refund_id, sale_id, e.payment_id, name)
            for e, sale_id, name in rows]
