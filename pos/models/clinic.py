"""The clinic's own settings: one row (id 1), read through pos/services/clinic.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pos.domain.clinic import MAX_TAX_RATE_BP, TEXT_LIMITS
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow


class ClinicSettingsRow(db.Model):
    __tablename__ = "clinic_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(f"tax_rate_bp >= 0 AND tax_rate_bp <= {MAX_TAX_RATE_BP}",
                        name="tax_rate_bp_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    clinic_name: Mapped[str] = mapped_column(String(TEXT_LIMITS["clinic_name"]))
    address: Mapped[str] = mapped_column(String(TEXT_LIMITS["address"]), default="")
    phone: Mapped[str] = mapped_column(String(TEXT_LIMITS["phone"]), default="")
    tax_id: Mapped[str] = mapped_column(String(TEXT_LIMITS["tax_id"]), default="")
    receipt_footer: Mapped[str] = mapped_column(String(TEXT_LIMITS["receipt_footer"]),
                                                default="")
    tax_rate_bp: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    # Drawn at random at each write, not counted: see pos/services/clinic.py.
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
