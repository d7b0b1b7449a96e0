"""What the clinic sells and stocks: items and treatment packages."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pos.models.staff import User

ITEM_KINDS = ("supply", "retail", "bundle")
AREAS = ("face", "scalp")
PRICE_FIELDS = ("price_cents", "cost_cents")


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("cost_cents >= 0", name="cost_not_negative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
        CheckConstraint("reorder_quantity >= 0", name="reorder_quantity_not_negative"),
        CheckConstraint("kind IN ('supply', 'retail', 'bundle')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    # What a barcode scanner types; the sku is accepted too.
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str] = mapped_column(String(20))
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable: Mapped[bool] = mapped_column(default=False)
    reorder_point: Mapped[int] = mapped_column(default=0)
    reorder_quantity: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Who it is ordered from (purchasing); None: not ordered through the POS.
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)


class Package(db.Model):
    """A treatment package: one session or a series, paid up front, redeemed visit by visit."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("sessions >= 1", name="at_least_one_session"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("area IN ('face', 'scalp')", name="area_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    area: Mapped[str] = mapped_column(String(10))
    sessions: Mapped[int]
    price_cents: Mapped[int] = mapped_column(BigInteger)
    min_days_between: Mapped[int] = mapped_column(default=28)
    # No default: a single session has no spacing limit, and None must stay None.
    max_days_between: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)

    supplies: Mapped[list[PackageSupply]] = relationship(
        back_populates="package", cascade="all, delete-orphan", order_by="PackageSupply.id"
    )
    # The manager's count of treatments expected in the next 14 days (None: never set).
    expected_treatments: Mapped[ExpectedTreatments | None] = relationship()


class PackageSupply(db.Model):
    """One line of a package's bill of materials: what one session consumes."""

    __tablename__ = "package_supplies"
    __table_args__ = (
        UniqueConstraint("package_id", "item_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int]

    package: Mapped[Package] = relationship(back_populates="supplies")
    item: Mapped[Item] = relationship()


class ExpectedTreatments(db.Model):
    """A manager's count of a package's treatments expected in the next 14 days (one row
    per package, replaced when set again): with the package's bill of materials it feeds
    the reorder suggestion. Who set it and when are kept, as the figure ages."""

    __tablename__ = "expected_treatments"
    __table_args__ = (
        CheckConstraint("count >= 0 AND count <= 10000", name="count_in_range"),
    )

    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    count: Mapped[int]
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    set_by: Mapped[User | None] = relationship()


class ItemPriceChange(db.Model):
    """One change of an item's price or cost: kept for ever, shown on the item's page."""

    __tablename__ = "item_price_changes"
    __table_args__ = (
        CheckConstraint("field IN ('price_cents', 'cost_cents')", name="field_known"),
        CheckConstraint("old_cents >= 0 AND new_cents >= 0", name="cents_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    old_cents: Mapped[int] = mapped_column(BigInteger)
    new_cents: Mapped[int] = mapped_column(BigInteger)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BundleContent(db.Model):
    """What one kit of a bundle item holds (the first-visit bundle: a 1 oz serum and a
    mist). The kit is stocked, received and handed out as one unit with its own lots;
    this list says what goes into it, for the staff who assemble and hand it out."""

    __tablename__ = "bundle_contents"
    __table_args__ = (
        UniqueConstraint("bundle_id", "item_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("bundle_id <> item_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int]

    item: Mapped[Item] = relationship(foreign_keys=[item_id])
