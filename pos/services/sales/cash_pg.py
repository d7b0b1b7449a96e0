"""A cash sale on PostgreSQL in four statements (plus the sign-in lookup and COMMIT).

The ORM path (`selling._sell_cash`) is the reference: it runs on SQLite, for a discount
code, and for every sale this path hands back (`Fallback`). This path writes exactly the
same rows, through the same rules (`cart.merge_lines`, `cart.match_catalog`, `cart.price`,
`pos.domain.stock.choose_lots`, `pos.domain.money.allocate`, `reorder_crossing`), with
Core statements and no unit of work:

1. read: the location, its open drawer (FOR SHARE, as `drawers.drawer_for_cash`), the client,
   the cart's items and packages, and the new sale's id (its sequence), in one SELECT;
2. lock and take: one UPDATE of the stock rows, locked in item-id order by its
   `SELECT ... ORDER BY item_id FOR UPDATE` (the lock order of `ledger.lock_items`), that
   only takes stock that is free (on_hand - held), RETURNING before and after, so the
   reorder-point crossing is decided here with no second read;
3. number and lots: the receipt counter (UPDATE ... RETURNING, in a CTE) and the lots
   with stock, read after the stock rows were locked (a fresh snapshot: a sale that
   committed while we waited has its lots counted);
4. write: sale, tender, lines, package purchases, ledger rows, lot caches, audit row and
   the drawer's cash entry and the receipt e-mail, in one statement of data-modifying
   CTEs.

Anything unusual (no location or stock row yet, no open drawer, an unknown product or
client, not enough stock, no receipt counter) rolls back and returns `Fallback`: the ORM
path then raises the very error the API documents (or creates the missing row), so the
errors and their texts have one source. Alerts: when an item crosses its reorder point,
the before-commit hooks run with what this sale did, as on the ORM path (their statements
come on top, on that sale only).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.orm import Session

from pos.domain.errors import PosError
from pos.domain.money import allocate
from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.domain.stock import LotOnHand, choose_lots, reorder_crossing
from pos.models.inventory import DEFAULT_LOCATION_CODE
from pos.services import clock
from pos.services.clinic import clinic_settings
from pos.services.ledger import TOUCHED_KEY
from pos.services.sales.cart import CartLine, Quote, codes_of, match_catalog, merge_lines, price
from pos.services.sales.records import receipt_text
from pos.services.transaction import run_before_commit_hooks
from pos.settings import settings_for


class Fallback(Exception):  # noqa: N818 - not an error: "use the ORM path for this one"
    """This sale is not for the short path; nothing was written."""


_READ = text("""
SELECT l.id AS location_id,
  (SELECT d.id FROM drawers d
    WHERE d.location_id = l.id AND d.status = 'open' FOR SHARE) AS drawer_id,
  (SELECT json_build_object('id', c.id, 'email', c.email,
                           'name', c.first_name || ' ' || c.last_name)
     FROM clients c WHERE c.id = :client_id) AS client,
  (SELECT u.name FROM users u WHERE u.id = :user_id) AS cashier,
  (SELECT coalesce(json_agg(json_build_object(
      'id', i.id, 'sku', i.sku, 'barcode', i.barcode, 'name', i.name, 'kind', i.kind,
      'price_cents', i.price_cents, 'taxable', i.taxable, 'active', i.active,
      'reorder_point', i.reorder_point) ORDER BY i.id), '[]')
     FROM items i WHERE i.sku = ANY(:codes) OR i.barcode = ANY(:codes)) AS items,
  (SELECT coalesce(json_agg(json_build_object(
      'id', p.id, 'code', p.code, 'name', p.name, 'sessions', p.sessions,
      'price_cents', p.price_cents, 'active', p.active)), '[]')
     FROM packages p WHERE p.code = ANY(:package_codes)) AS packages,
  nextval(pg_get_serial_sequence('sales', 'id')) AS sale_id
FROM locations l WHERE l.code = :location_code OR l.id = :location_id
""")

_TAKE = text("""
UPDATE item_stock AS s SET on_hand = s.on_hand - w.qty
FROM (SELECT id FROM item_stock WHERE item_id = ANY(:item_ids) AND location_id = :location_id
      ORDER BY item_id FOR UPDATE) AS locked,
     unnest(CAST(:item_ids AS integer[]), CAST(:qtys AS integer[])) AS w(item_id, qty)
WHERE s.id = locked.id AND s.item_id = w.item_id AND s.on_hand - s.held >= w.qty
RETURNING s.item_id, s.on_hand + w.qty AS on_hand_before, s.on_hand AS on_hand_after
""")

_NUMBER_AND_LOTS = text("""
WITH rc AS (
  UPDATE receipt_counters SET next_number = next_number + 1
  WHERE location_id = :location_id RETURNING next_number - 1 AS n)
SELECT (SELECT n FROM rc) AS receipt_number,
  (SELECT coalesce(json_agg(json_build_object(
      'lot_id', lo.id, 'item_id', lo.item_id, 'expires_on', lo.expires_on,
      'on_hand', ls.on_hand) ORDER BY lo.id), '[]')
     FROM lots lo JOIN lot_stock ls ON ls.lot_id = lo.id
    WHERE lo.item_id = ANY(:item_ids) AND ls.location_id = :location_id
      AND ls.on_hand > 0) AS lots
""")

_WRITE_CTES = """
WITH s AS (
  INSERT INTO sales (id, client_id, location_id, sold_by_id, status, payment_method,
    subtotal_cents, discount_cents, tax_cents, total_cents, cash_tendered_cents,
    created_at, paid_at, receipt_number)
  VALUES (:sale_id, :client_id, :location_id, :user_id, :status, :method, :subtotal,
    :discount, :tax, :total, :tendered, :now, :now, :receipt_number)
  RETURNING id),
pay AS (
  INSERT INTO payments (sale_id, method, amount_cents, status, tip_cents, created_at,
    updated_at)
  SELECT s.id, :method, :total, :tender_status, 0, :now, :now FROM s RETURNING id),
ln AS (
  INSERT INTO sale_lines (sale_id, item_id, package_id, name, category, quantity,
    unit_price_cents, subtotal_cents, discount_cents, tax_cents, total_cents, taxable,
    refunded_quantity)
  SELECT s.id, u.item_id, u.package_id, u.name, u.category, u.quantity, u.unit_price,
    u.subtotal, u.discount, u.tax, u.total, u.taxable, 0
  FROM s, json_to_recordset(CAST(:lines AS json)) AS u(item_id integer,
    package_id integer, name varchar, category varchar, quantity integer, unit_price bigint,
    subtotal bigint, discount bigint, tax bigint, total bigint, taxable boolean, ord integer)
  ORDER BY u.ord
  RETURNING id, package_id),
pp AS (
  INSERT INTO package_purchases (client_id, sale_line_id, package_id, sessions_total,
    sessions_used, sessions_refunded, value_cents, created_at)
  SELECT :client_id, ln.id, u.package_id, u.sessions, 0, 0, u.value, :now
  FROM json_to_recordset(CAST(:purchases AS json))
    AS u(package_id integer, sessions integer, value bigint, ord integer)
  JOIN ln ON ln.package_id = u.package_id
  ORDER BY u.ord),
mv AS (
  INSERT INTO stock_movements (at, item_id, lot_id, location_id, qty_delta, reason,
    reference, user_id)
  SELECT :now, u.item_id, u.lot_id, :location_id, -u.qty, 'sale', :reference, :user_id
  FROM s, json_to_recordset(CAST(:moves AS json))
    AS u(item_id integer, lot_id integer, qty integer, ord integer)
  ORDER BY u.ord),
lots AS (
  UPDATE lot_stock SET on_hand = lot_stock.on_hand - u.qty
  FROM json_to_recordset(CAST(:moves AS json)) AS u(lot_id integer, qty integer)
  WHERE lot_stock.lot_id = u.lot_id AND lot_stock.location_id = :location_id),
dr AS (
  INSERT INTO drawer_entries (drawer_id, kind, amount_cents, sale_id, user_id, at)
  SELECT :drawer_id, 'cash_sale', :total, s.id, :user_id, :now FROM s),
au AS (
  INSERT INTO audit_log (at, user_id, action, entity, entity_id, details)
  SELECT :now, :user_id, 'sale.paid', 'sale', CAST(s.id AS varchar), CAST(:details AS json)
  FROM s),
"""
_RECEIPT_MAIL_CTE = """ob AS (
  INSERT INTO outbox (channel, topic, dedupe_key, recipients, subject, body, attachments,
    created_at, next_attempt_at, attempts)
  SELECT 'email', 'receipt', :dedupe_key, :email, :subject, :body, CAST('[]' AS json),
    :now, :now, 0
  FROM s)
"""
_WRITE_RESULT = """SELECT (SELECT id FROM pay) AS payment_id,
       (SELECT array_agg(id ORDER BY id) FROM ln) AS line_ids
"""
# Two statements: with the receipt e-mail and without (an INSERT that writes no row
# would still fire the outbox's statement trigger, waking the workers for nothing).
_WRITE = text(_WRITE_CTES.rstrip().rstrip(",") + "\n" + _WRITE_RESULT)
_WRITE_WITH_MAIL = text(_WRITE_CTES + _RECEIPT_MAIL_CTE.rstrip() + "\n" + _WRITE_RESULT)


def sell_cash(session: Session, *, client_id: int | None, lines: Sequence[CartLine],
              user_id: int | None, cash_tendered_cents: int | None,
              check_tendered: object, location_id: int | None = None) -> SoldSale:
    """Sell and pay a cart in cash; raises Fallback (after a rollback) when the ORM path
    must take it. `check_tendered(total, tendered)` is selling's own rule."""
    try:
        return _sell(session, client_id=client_id, lines=lines, user_id=user_id,
                     cash_tendered_cents=cash_tendered_cents, check_tendered=check_tendered,
                     location_id=location_id)
    except BaseException:
        session.rollback()
        raise


def _sell(session: Session, *, client_id: int | None, lines: Sequence[CartLine],
          user_id: int | None, cash_tendered_cents: int | None,
          check_tendered: object, location_id: int | None) -> SoldSale:
    merged = merge_lines(lines)  # the shape errors need no database
    if any(line.gift_card_cents is not None for line in lines):
        raise Fallback  # a gift card is issued by the ORM path (pos.services.gift_cards)
    clinic = clinic_settings(session)
    zone, tax_rate_bp = clinic.zone, clinic.tax_rate_bp
    now = clock.now()
    today = clock.clinic_date(now, zone)
    conn = session.connection()
    read = conn.execute(_READ, {
        "client_id": client_id, "codes": codes_of(merged, "sku"),
        "package_codes": codes_of(merged, "package"),
        "location_code": DEFAULT_LOCATION_CODE if location_id is None else None,
        "location_id": location_id, "user_id": user_id}).mappings().first()
    if read is None or read["drawer_id"] is None or read["sale_id"] is None \
            or (client_id is not None and read["client"] is None):
        raise Fallback
    reorder_points = {row["id"]: row.pop("reorder_point") for row in read["items"]}
    try:
        # Plain rows, not ORM objects: match_catalog reads their attributes only.
        resolved = match_catalog(
            merged, [SimpleNamespace(**row) for row in read["items"]],  # type: ignore[misc]
            [SimpleNamespace(**row) for row in read["packages"]])  # type: ignore[misc]
    except PosError:
        raise Fallback from None
    if client_id is None and any(r.package_id is not None for r in resolved):
        raise Fallback
    quote = price(resolved, None, tax_rate_bp)
    if cash_tendered_cents is not None:
        check_tendered(quote.total_cents, cash_tendered_cents)  # type: ignore[operator]

    location_id: int = read["location_id"]
    wanted: dict[int, int] = {}
    for r in resolved:
        if r.item_id is not None:
            wanted[r.item_id] = wanted.get(r.item_id, 0) + r.quantity
    item_ids = sorted(wanted)
    taken = conn.execute(_TAKE, {"item_ids": item_ids, "location_id": location_id,
                                 "qtys": [wanted[i] for i in item_ids]}).all() \
        if item_ids else []
    if len(taken) != len(item_ids):
        raise Fallback  # no stock row yet, or not enough free stock: the ORM path says which
    number_and_lots = conn.execute(_NUMBER_AND_LOTS, {
        "location_id": location_id, "item_ids": item_ids}).mappings().one()
    receipt_number = number_and_lots["receipt_number"]
    if receipt_number is None:
        raise Fallback  # the location's first receipt: the ORM path creates its counter
    moves = _fefo(number_and_lots["lots"], wanted, today,
                  {r.item_id: r.sku or "" for r in resolved if r.item_id is not None})

    sale = _sale(read["sale_id"], quote, client_id=client_id, location_id=location_id,
                 user_id=user_id, tendered=cash_tendered_cents, now=now,
                 receipt_number=receipt_number)
    email = read["client"]["email"] if read["client"] else None
    purchases = [(line.package_id, line.sessions, value) for line in quote.lines
                 if line.package_id is not None
                 for value in allocate(line.net_cents, [1] * line.quantity)]
    written = conn.execute(_WRITE_WITH_MAIL if email else _WRITE, {
        "sale_id": sale.id, "client_id": client_id, "location_id": location_id,
        "user_id": user_id, "status": SaleStatus.PAID.value,
        "method": PaymentMethod.CASH.value, "tender_status": PaymentStatus.SUCCEEDED.value,
        "subtotal": quote.subtotal_cents, "discount": quote.discount_cents,
        "tax": quote.tax_cents, "total": quote.total_cents, "tendered": cash_tendered_cents,
        "now": now, "receipt_number": receipt_number, "drawer_id": read["drawer_id"],
        # The rows go as JSON documents: dumping one string costs far less CPU than
        # dumping an array per column.
        "lines": json.dumps([
            {"item_id": q.item_id, "package_id": q.package_id, "name": q.name,
             "category": q.category, "quantity": q.quantity, "unit_price": q.unit_price_cents,
             "subtotal": q.subtotal_cents, "discount": q.discount_cents, "tax": q.tax_cents,
             "total": q.total_cents, "taxable": q.taxable, "ord": i}
            for i, q in enumerate(quote.lines)]),
        "purchases": json.dumps([{"package_id": package_id, "sessions": sessions,
                                  "value": value, "ord": i}
                                 for i, (package_id, sessions, value) in enumerate(purchases)]),
        "moves": json.dumps([{"item_id": item_id, "lot_id": lot_id, "qty": qty, "ord": i}
                             for i, (item_id, lot_id, qty) in enumerate(moves)]),
        "reference": f"sale:{sale.id}",
        "details": json.dumps({"method": PaymentMethod.CASH.value,
                               "total_cents": quote.total_cents}),
        "email": email or None, "dedupe_key": f"receipt:sale:{sale.id}",
        "subject": f"{clinic.clinic_name} receipt #{receipt_number}",
        "body": receipt_text(sale, clinic, settings_for(session).currency,
                             cashier=read["cashier"], client_name=read["client"]["name"])
        if email else "",
    }).mappings().one()
    sale.payments[0].id = written["payment_id"]
    for line, line_id in zip(sale.lines, written["line_ids"], strict=True):
        line.id = line_id

    crossed = {(item_id, location_id): before for item_id, before, after in taken
               if reorder_crossing(before, after, reorder_points[item_id]) is not None}
    if crossed:  # rare: the alert hooks read and write what the ORM path would
        session.info[TOUCHED_KEY] = crossed
        run_before_commit_hooks(session)
    session.commit()
    return sale


def _fefo(lots: list[dict[str, object]], wanted: dict[int, int], today: date,
          skus: dict[int, str]) -> list[tuple[int, int, int]]:
    """[(item id, lot id, qty)] by the one FEFO rule (never an expired lot)."""
    moves = []
    for item_id in sorted(wanted):
        mine = [LotOnHand(int(lot["lot_id"]),  # type: ignore[call-overload]
                          date.fromisoformat(str(lot["expires_on"]))
                          if lot["expires_on"] is not None else None,
                          int(lot["on_hand"]))  # type: ignore[call-overload]
                for lot in lots if lot["item_id"] == item_id]
        try:
            plan = choose_lots(mine, wanted[item_id], today, sku=skus[item_id])
        except PosError:
            raise Fallback from None  # the ORM path raises it with the same figures
        moves += [(item_id, lot_id, qty) for lot_id, qty in plan]
    return moves


@dataclass(slots=True)
class SoldLine:
    item_id: int | None
    package_id: int | None
    name: str
    category: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    taxable: bool
    item: object
    package: object
    refunded_quantity: int = 0
    id: int | None = None


@dataclass(slots=True)
class SoldTender:
    method: str
    amount_cents: int
    status: str
    tip_cents: int = 0
    card_brand: str | None = None
    last4: str | None = None
    id: int | None = None
    cash_tendered_cents: int | None = None
    tip_provider_id: int | None = None


@dataclass(slots=True)
class SoldSale:
    """The sale as written, read-only, with the attributes of a `Sale` that the response
    and the receipt read (building ORM objects that nobody flushes cost a third of a
    millisecond per sale)."""

    id: int
    client_id: int | None
    location_id: int
    sold_by_id: int | None
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    cash_tendered_cents: int | None
    created_at: datetime
    paid_at: datetime
    receipt_number: int
    lines: list[SoldLine]
    payments: list[SoldTender]
    status: str = SaleStatus.PAID
    payment_method: str = PaymentMethod.CASH
    discount_code: None = None
    discount_code_id: None = None
    card_last4: None = None
    flag: None = None
    balance_cents: int = 0


def _sale(sale_id: int, quote: Quote, *, client_id: int | None, location_id: int,
          user_id: int | None, tendered: int | None, now: datetime,
          receipt_number: int) -> SoldSale:
    lines = [SoldLine(q.item_id, q.package_id, q.name, q.category, q.quantity,
                      q.unit_price_cents, q.subtotal_cents, q.discount_cents, q.tax_cents,
                      q.total_cents, q.taxable, q.item, q.package)
             for q in quote.lines]
    return SoldSale(sale_id, client_id, location_id, user_id, quote.subtotal_cents,
                    quote.discount_cents, quote.tax_cents, quote.total_cents, tendered, now,
                    now, receipt_number, lines,
                    [SoldTender(PaymentMethod.CASH, quote.total_cents, PaymentStatus.SUCCEEDED)])
