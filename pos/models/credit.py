"""A client's account credit: a ledger of entries, the balance their sum.

Credit is issued by a refund to credit and spent as a tender. Entries are appended under
the client's row lock (pos/services/credit.py), each carrying the balance it leaves,
which a CHECK keeps at 0 or more: two spends racing can never overdraw the account.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow


class ClientCreditEntry(db.Model):
    __tablename__ = "client_credit_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after_cents >= 0", name="balance_not_negative"),
        Index("ix_client_credit_entries_client_id_id", "client_id", "id"),
        Index("ix_client_credit_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    # Positive: credit issued (a refund to credit); negative: credit spent (a tender).
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
