"""The cart: lines looked up in the catalog, merged, and priced (pos.domain.pricing).

Nothing here writes: `quote_cart` gives the desk its live totals, and selling prices the
cart again under the locks it takes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pos.domain import pricing
from pos.domain.errors import NotForSale, UnknownItem, ValidationFailed
from pos.models import (
    DiscountCode,
    Item,
    Package,
)
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services import clock, gift_cards
from pos.services.clinic import clinic_settings

MAX_LINES = 100


# -- the cart ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CartLine:
    sku: str | None
    package_code: str | None
    quantity: int
    # A gift card line instead (one card of this amount; never merged, discounted or taxed).
    gift_card_cents: int | None = None
    recipient_email: str | None = None


@dataclass(frozen=True, kw_only=True)
class CartProduct:
    """A cart line looked up in the catalog; `sku` or `package_code` is set, never both."""

    sku: str | None
    package_code: str | None
    name: str
    category: str  # retail | bundle | package
    item_id: int | None
    package_id: int | None
    sessions: int | None  # per package unit
    taxable: bool
    unit_price_cents: int
    quantity: int
    # The catalog rows themselves, so the sale's lines point at them with no second load.
    item: Item | None = field(default=None, compare=False, repr=False)
    package: Package | None = field(default=None, compare=False, repr=False)
    recipient_email: str | None = None  # a gift card line's


@dataclass(frozen=True, kw_only=True)
class QuoteLine(CartProduct):
    """A cart product with its share of the sale's amounts (pos.domain.pricing)."""

    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int

    @property
    def net_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    discount_code: str | None
    discount_code_id: int | None
    tax_rate_bp: int
    # The manager's part of discount_cents (pos.domain.pricing: after the code's).
    manual_discount_cents: int = 0


@dataclass(frozen=True)
class ManualDiscount:
    """A manager's discount on one sale: `percent` (whole, 1-100) or `amount_cents`, why,
    and who approved it (pos.services.discounts.approver checks that they may)."""

    reason: str
    percent: int | None = None
    amount_cents: int | None = None
    approved_by_id: int | None = None

    def as_pricing(self) -> pricing.Discount:
        if self.percent is not None:
            return pricing.Discount(kind="percent", value=self.percent * 100)
        return pricing.Discount(kind="fixed", value=self.amount_cents or 0)


def merge_lines(lines: Sequence[CartLine]) -> dict[tuple[str, str], int]:
    """Check the cart's shape; the same sku or package twice is one line:
    {("sku" | "package", code): quantity}, in the cart's order."""
    if not lines:
        raise ValidationFailed("A sale needs at least one line.",
                               {"fields": {"lines": "must not be empty"}})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A sale has at most {MAX_LINES} lines.",
                               {"fields": {"lines": f"at most {MAX_LINES}"}})
    merged: dict[tuple[str, str], int] = {}
    for i, line in enumerate(lines):
        if line.gift_card_cents is not None:
            continue  # gift_card_products()
        if (line.sku is None) == (line.package_code is None):
            raise ValidationFailed("Each line has a sku or a package_code (one of them).",
                                   {"fields": {f"lines[{i}]": "needs sku or package_code"}})
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) \
                or line.quantity < 1:
            raise ValidationFailed("Quantities must be whole numbers of at least 1.",
                                   {"fields": {f"lines[{i}].quantity": "must be at least 1"}})
        key = ("sku", line.sku.strip()) if line.sku is not None else \
            ("package", (line.package_code or "").strip())
        merged[key] = merged.get(key, 0) + line.quantity
    return merged


def codes_of(merged: dict[tuple[str, str], int], kind: str) -> list[str]:
    return [code for k, code in merged if k == kind]


def resolve_lines(session: Session, lines: Sequence[CartLine]) -> list[CartProduct]:
    """Look every line up in the catalog; the same sku or package twice is one line."""
    merged = merge_lines(lines)
    # The whole cart in one query per table.
    codes = codes_of(merged, "sku")
    items = list(session.scalars(select(Item).where(
        or_(Item.sku.in_(codes), Item.barcode.in_(codes))).order_by(Item.id))) if codes else []
    package_codes = codes_of(merged, "package")
    packages = list(session.scalars(
        select(Package).where(Package.code.in_(package_codes)))) if package_codes else []
    return [*match_catalog(merged, items, packages), *gift_card_products(lines)]


def gift_card_products(lines: Sequence[CartLine]) -> list[CartProduct]:
    """Each gift card line: one card of its amount, not taxed when sold (what it later
    pays for is), no stock."""
    out = []
    for line in lines:
        if line.gift_card_cents is None:
            continue
        gift_cards.check_amount(line.gift_card_cents)
        out.append(CartProduct(
            sku=None, package_code=None, name="Gift card", category=GIFT_CARD_CATEGORY,
            item_id=None, package_id=None, sessions=None, taxable=False,
            unit_price_cents=line.gift_card_cents, quantity=1,
            recipient_email=line.recipient_email))
    return out


def match_catalog(merged: dict[tuple[str, str], int], items: Sequence[Item],
                  packages: Sequence[Package]) -> list[CartProduct]:
    """The merged cart matched to the catalog rows found (items in id order): a sku is
    matched before a barcode; unknown, inactive or clinical-only products are refused, and
    an unpriced one is 422 `not_for_sale`.
    Both sale paths (ORM and PostgreSQL's few statements) go through this one rule."""
    by_sku: dict[str, Item] = {}
    by_barcode: dict[str, Item] = {}
    for found in items:
        by_sku.setdefault(found.sku, found)
        if found.barcode is not None:
            by_barcode.setdefault(found.barcode, found)
    by_code = {p.code: p for p in packages}
    resolved = []
    for (kind, code), quantity in merged.items():
        if kind == "sku":
            item = by_sku.get(code) or by_barcode.get(code)
            if item is None or not item.active:
                raise UnknownItem(f"No item with sku {code!r} is for sale.", {"sku": code})
            if item.kind == "supply":
                raise UnknownItem(f"{item.sku} is a clinical supply; it is not sold at the desk.",
                                  {"sku": item.sku})
            if item.price_cents == 0:
                raise NotForSale(f"{item.sku} has no price: it is not sold (a first-visit "
                                 "bundle leaves stock only through a treatment).",
                                 {"sku": item.sku})
            resolved.append(CartProduct(
                sku=item.sku, package_code=None, name=item.name, category=item.kind,
                item_id=item.id, package_id=None, sessions=None, taxable=item.taxable,
                unit_price_cents=item.price_cents, quantity=quantity, item=item))
        else:
            package = by_code.get(code)
            if package is None or not package.active:
                raise UnknownItem(f"No package {code!r} is for sale.", {"package_code": code})
            if package.price_cents == 0:
                raise NotForSale(f"{package.code} has no price: it is not sold.",
                                 {"package_code": package.code})
            # Treatments are services: not taxed.
            resolved.append(CartProduct(
                sku=None, package_code=package.code, name=package.name, category="package",
                item_id=None, package_id=package.id, sessions=package.sessions, taxable=False,
                unit_price_cents=package.price_cents, quantity=quantity, package=package))
    return resolved


def find_discount(session: Session, code: str, *, lock: bool = False) -> DiscountCode:
    query = select(DiscountCode).where(func.upper(DiscountCode.code) == code.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    discount = session.scalar(query)
    if discount is None:
        raise pricing.DiscountNotApplicable(f"There is no discount code {code.strip()!r}.",
                                            {"reason": "unknown", "code": code.strip()})
    pricing.check_discount(active=discount.active, starts_on=discount.starts_on,
                           ends_on=discount.ends_on, max_uses=discount.max_uses,
                           times_used=discount.times_used, today=clock.today())
    return discount


def price(resolved: list[CartProduct], discount: DiscountCode | None,
          tax_rate_bp: int, manual: ManualDiscount | None = None) -> Quote:
    rate = tax_rate_bp
    # Gift cards are money, not goods: a discount never applies to them, nor tax.
    gifts = [r for r in resolved if r.category == GIFT_CARD_CATEGORY]
    resolved = [r for r in resolved if r.category != GIFT_CARD_CATEGORY]
    if not resolved and (discount is not None or manual is not None):
        raise pricing.DiscountNotApplicable(
            "A discount does not apply to gift cards.", {"reason": "gift_cards_only"})
    priced = pricing.price_sale(
        [pricing.LineInput(key=r.sku or r.package_code or "", unit_price_cents=r.unit_price_cents,
                           quantity=r.quantity, taxable=r.taxable) for r in resolved],
        pricing.Discount(kind=discount.kind, value=discount.value)  # type: ignore[arg-type]
        if discount is not None else None,
        rate,
        manual.as_pricing() if manual is not None else None,
    ) if resolved else None
    lines = tuple(
        QuoteLine(**{f.name: getattr(r, f.name) for f in fields(r)},
                  subtotal_cents=p.subtotal_cents, discount_cents=p.discount_cents,
                  tax_cents=p.tax_cents, total_cents=p.total_cents)
        for r, p in zip(resolved, priced.lines if priced else (), strict=True)
    ) + tuple(
        QuoteLine(**{f.name: getattr(g, f.name) for f in fields(g)},
                  subtotal_cents=g.unit_price_cents, discount_cents=0, tax_cents=0,
                  total_cents=g.unit_price_cents)
        for g in gifts
    )
    gift_cents = sum(g.unit_price_cents for g in gifts)
    return Quote(lines=lines, subtotal_cents=(priced.subtotal_cents if priced else 0) + gift_cents,
                 discount_cents=priced.discount_cents if priced else 0,
                 tax_cents=priced.tax_cents if priced else 0,
                 total_cents=(priced.total_cents if priced else 0) + gift_cents,
                 discount_code=discount.code if discount is not None else None,
                 discount_code_id=discount.id if discount is not None else None,
                 tax_rate_bp=rate,
                 manual_discount_cents=priced.manual_discount_cents if priced else 0)


def quote_cart(session: Session, lines: Sequence[CartLine], discount_code: str | None,
               manual: ManualDiscount | None = None) -> Quote:
    """Price a cart without writing anything (the desk's live totals).

    UnknownItem (422 `unknown_item`) names the sku or package; a discount that cannot be
    used raises DiscountNotApplicable (422 `discount_invalid`, `details.reason`).
    """
    resolved = resolve_lines(session, lines)
    discount = find_discount(session, discount_code) if discount_code and \
        discount_code.strip() else None
    return price(resolved, discount, clinic_settings(session).tax_rate_bp, manual)
