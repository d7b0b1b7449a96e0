"""Treatments performed, with their screening (health information) and the lots they used."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db
from pos.models.inventory import Lot
from pos.models.sales import Client, PackagePurchase
from pos.models.staff import User
from pos.models.types import UTCDateTime, utcnow


class Treatment(db.Model):
    __tablename__ = "treatments"
    __table_args__ = (Index("ix_treatments_performed_at", "performed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("package_purchases.id"), index=True)
    session_number: Mapped[int]
    area: Mapped[str] = mapped_column(String(10))
    performed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    performed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Health information: shown to provider, manager and admin only; never logged or sent.
    screening: Mapped[dict[str, Any]] = mapped_column(JSON)
    acknowledged_cautions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Clinical too (providers only): the provider's notes and the pen's settings
    # {needle_depth_mm, passes, device}.
    notes: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_visit_bundle: Mapped[bool] = mapped_column(default=False)
    # The lot the first-visit bundle was taken from (so a recall of it finds this client and a
    # void returns it to the same lot).
    bundle_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    off_rhythm: Mapped[bool] = mapped_column(default=False)
    # The questionnaire version the screening answered (null: recorded before versions).
    questionnaire_version: Mapped[int | None]
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(String(500))

    client: Mapped[Client] = relationship()
    performed_by: Mapped[User | None] = relationship(foreign_keys=[performed_by_id])
    purchase: Mapped[PackagePurchase] = relationship()
    supplies: Mapped[list[TreatmentSupply]] = relationship(
        back_populates="treatment", cascade="all, delete-orphan"
    )


class TreatmentSupply(db.Model):
    """What one treatment consumed, lot by lot: the recall list is built from these."""

    __tablename__ = "treatment_supplies"

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    quantity: Mapped[int]
    unit_cost_cents: Mapped[int] = mapped_column(BigInteger, default=0)

    treatment: Mapped[Treatment] = relationship(back_populates="supplies")
    lot: Mapped[Lot] = relationship()


class ScreeningQuestionnaire(db.Model):
    """One version of the screening questionnaire (clinic data). The highest version is in
    force. A version nobody published (the seeded template) is "unreviewed"."""

    __tablename__ = "screening_questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    # [{key, text, type, rule, wait_days?}] as pos.domain.screening.build_questionnaire reads
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    published_by: Mapped[User | None] = relationship()


class ConsentForm(db.Model):
    """One version of the consent form's text (clinic data). The highest version is in
    force; one nobody published (the seeded template) is "unreviewed"."""

    __tablename__ = "consent_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    published_by: Mapped[User | None] = relationship()


class ClientConsent(db.Model):
    """A client's signature on one version of the consent form, witnessed by a provider.
    Clinical data: providers only, every read audited."""

    __tablename__ = "client_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    form_version: Mapped[int]
    signature_png: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    witness: Mapped[User | None] = relationship()


class AftercareSheet(db.Model):
    """The clinic's aftercare sheet; the latest row is in force (none: the default)."""

    __tablename__ = "aftercare_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
