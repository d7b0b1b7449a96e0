"""What the clinic sells and stocks: items and treatment packages."""
from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db

ITEM_KINDS = ("supply", "retail", "bundle")
AREAS = ("face", "scalp")


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
