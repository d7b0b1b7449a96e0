"""The desk's cart kept on the server, and parked sales.

A desk (a browser) has at most one cart row; it is written after each change the desk
makes, so a refresh or a trip to another page finds it again. Parking takes the cart off
its desk under a label (the client's name, or one typed for a walk-in); resuming puts it
on a desk again (or hands it to an API client) and removes it from the parked list, under
the row's lock, so two desks resuming the same sale at once cannot both get it.

Carts hold sku/package codes and quantities only; prices are always computed again by
the quote and the sale, so a cart parked yesterday sells at today's price.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound, ValidationFailed
from pos.domain.limits import MAX_ID
from pos.models import Client, DeskCart, Item, Package
from pos.services import clock
from pos.services.sales import CartLine, UnknownClient, quote_cart
from pos.services.transaction import write_transaction

# Carts untouched this long (parked or left on a desk) are purged by `pos worker`.
KEEP_CARTS = timedelta(days=7)


class CartNotEmpty(Conflict):
    """A parked sale is resumed onto a desk that is building another sale."""

    code = "cart_not_empty"
    status = 409


@dataclass(frozen=True)
class CartContents:
    client_id: int | None
    lines: tuple[CartLine, ...]
    discount_code: str | None
    label: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.lines and self.client_id is None and self.discount_code is None


def stored_lines(lines: Sequence[CartLine]) -> list[dict[str, object]]:
    """The JSON a cart row keeps: the API's cart line shape (a gift card line as
    `{gift_card: {amount_cents, recipient_email?}}`; its card is drawn when it is sold)."""
    return [_stored(line) for line in lines]


def _stored(line: CartLine) -> dict[str, object]:
    if line.gift_card_cents is not None:
        card: dict[str, object] = {"amount_cents": line.gift_card_cents}
        if line.recipient_email:
            card["recipient_email"] = line.recipient_email
        return {"gift_card": card}
    if line.sku is not None:
        return {"sku": line.sku, "quantity": line.quantity}
    return {"package_code": line.package_code, "quantity": line.quantity}


def line_names(session: Session, lines: Sequence[CartLine]) -> dict[str, str]:
    """What the desk shows for each line, by its key (`sku:X` or `package:Y`)."""
    skus = {line.sku for line in lines if line.sku}
    codes = {line.package_code for line in lines if line.package_code}
    names: dict[str, str] = {}
    if skus:
        names.update({f"sku:{sku}": name for sku, name in session.execute(
            select(Item.sku, Item.name).where(Item.sku.in_(skus)))})
    if codes:
        names.update({f"package:{code}": name for code, name in session.execute(
            select(Package.code, Package.name).where(Package.code.in_(codes)))})
    return names


def desk_cart(session: Session, desk_key: str) -> DeskCart | None:
    return session.scalar(select(DeskCart).where(DeskCart.desk_key == desk_key))


def _checked_client(session: Session, client_id: int | None) -> Client | None:
    if client_id is None:
        return None
    client = session.get(Client, client_id) if 0 < client_id <= MAX_ID else None
    if client is None:
        raise UnknownClient(f"There is no client {client_id}.", {"client_id": client_id})
    return client


def save_desk_cart(desk_key: str, contents: CartContents, *, user_id: int | None) -> None:
    """Keep what the desk shows; an empty cart leaves no row."""
    for attempt in (1, 2):
        try:
            with write_transaction() as session:
                _checked_client(session, contents.client_id)
                row = session.scalar(select(DeskCart).where(DeskCart.desk_key == desk_key)
                                     .with_for_update(of=DeskCart))
                if contents.is_empty:
                    if row is not None:
                        session.delete(row)
                    return
                if row is None:
                    row = DeskCart(desk_key=desk_key, parked=False)
                    session.add(row)
                row.client_id = contents.client_id
                row.lines = stored_lines(contents.lines)
                row.discount_code = contents.discount_code
                row.user_id = user_id
                row.updated_at = clock.now()
            return
        except IntegrityError:
            # Two first saves of one desk raced to insert its row: the second updates it.
            if attempt == 2:
                raise


def clear_desk_cart(desk_key: str) -> None:
    """What selling does to the desk's cart."""
    with write_transaction() as session:
        session.execute(delete(DeskCart).where(DeskCart.desk_key == desk_key),
                        execution_options={"synchronize_session": False})


def park(contents: CartContents, *, label: str | None, user_id: int | None,
         desk_key: str | None = None) -> DeskCart:
    """Park a cart under a label; from a desk, the desk's own cart is emptied with it."""
    if not contents.lines:
        raise ValidationFailed("There is nothing to park: the cart is empty.",
                               {"fields": {"lines": "must hold at least one line"}})
    with write_transaction() as session:
        client = _checked_client(session, contents.client_id)
        label = label or (client.full_name if client is not None else None)
        if not label:
            raise ValidationFailed("Type a label for this sale (it has no client).",
                                   {"fields": {"label": "is required when no client is chosen"}})
        # Parking an item the clinic does not sell would only fail later at the desk.
        quote_cart(session, contents.lines, None)
        if desk_key is not None:
            session.execute(delete(DeskCart).where(DeskCart.desk_key == desk_key),
                            execution_options={"synchronize_session": False})
        now = clock.now()
        parked = DeskCart(desk_key=None, parked=True, label=label, client_id=contents.client_id,
                          user_id=user_id, lines=stored_lines(contents.lines),
                          discount_code=contents.discount_code, created_at=now, updated_at=now)
        session.add(parked)
        session.flush()
        return parked


def parked_sales(session: Session, *, page: int = 1,
                 per_page: int = 50) -> tuple[list[DeskCart], int]:
    """The parked sales, newest first, one page of them, and how many there are."""
    total = session.scalar(select(func.count()).select_from(DeskCart)
                           .where(DeskCart.parked.is_(True))) or 0
    rows = list(session.scalars(select(DeskCart).where(DeskCart.parked.is_(True))
                                .order_by(DeskCart.updated_at.desc(), DeskCart.id.desc())
                                .limit(per_page).offset((page - 1) * per_page)))
    return rows, int(total)


def _locked_parked(session: Session, parked_id: int) -> DeskCart:
    # `of`: the joined client and user rows are read, not locked (PostgreSQL refuses
    # FOR UPDATE on the nullable side of an outer join).
    row = session.scalar(select(DeskCart).where(DeskCart.id == parked_id,
                                                DeskCart.parked.is_(True))
                         .with_for_update(of=DeskCart)) if 0 < parked_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"There is no parked sale {parked_id} (it may have been resumed).",
                       {"parked_sale_id": parked_id})
    return row


def resume(parked_id: int, *, user_id: int | None, desk_key: str | None = None) -> CartContents:
    """Take a sale off the parked list; onto `desk_key` when given (its cart must be empty
    of lines). Returns the cart."""
    with write_transaction() as session:
        row = _locked_parked(session, parked_id)
        contents = contents_of(row)
        if desk_key is None:
            session.delete(row)
            return contents
        current = session.scalar(select(DeskCart).where(DeskCart.desk_key == desk_key)
                                 .with_for_update(of=DeskCart))
        if current is not None:
            if current.lines:
                raise CartNotEmpty("This desk is building another sale: park it or sell it "
                                   "first.", {"parked_sale_id": parked_id})
            session.delete(current)
            session.flush()  # the desk key is free before the parked row takes it
        row.parked, row.desk_key, row.label = False, desk_key, None
        row.user_id, row.updated_at = user_id, clock.now()
        return contents


def discard(parked_id: int) -> None:
    with write_transaction() as session:
        session.delete(_locked_parked(session, parked_id))


def contents_of(row: DeskCart) -> CartContents:
    return CartContents(
        client_id=row.client_id, discount_code=row.discount_code, label=row.label,
        lines=tuple(_read(line) for line in row.lines or []))


def _read(line: dict[str, Any]) -> CartLine:
    card = line.get("gift_card")
    if isinstance(card, dict):
        return CartLine(sku=None, package_code=None, quantity=1,
                        gift_card_cents=int(card["amount_cents"]),
                        recipient_email=card.get("recipient_email"))
    return CartLine(sku=line.get("sku"), package_code=line.get("package_code"),
                    quantity=int(line["quantity"]))


def purge_stale(now: datetime | None = None) -> int:
    """Delete carts and parked sales untouched for KEEP_CARTS (run by `pos worker`)."""
    cutoff = (now or clock.now()) - KEEP_CARTS
    with write_transaction() as session:
        result = session.execute(delete(DeskCart).where(DeskCart.updated_at < cutoff),
                                 execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]
