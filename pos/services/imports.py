"""Importing items and clients from another system's CSV, all or nothing.

The rows come read and checked by the input layer (pos.web.api.schemas.imports); each
good row is then added by the very service the API uses (`catalog.add_item`,
`clients.add_client`), all in ONE transaction. What the database already holds (a sku, a
barcode, an email) is looked up for the whole file first, so every such row is reported
with its number. Unless every row is good, nothing is kept; a dry run checks everything
the same way (the rows are added, then rolled back) and keeps nothing either.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.errors import PosError
from pos.models import Client, Item
from pos.services import audit, catalog, clients
from pos.services.transaction import write_transaction

T = TypeVar("T")
MAX_ERRORS_SHOWN = 200


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class ClientRow:
    first_name: str
    last_name: str
    email: str | None
    phone: str | None


@dataclass
class ImportRows(Generic[T]):
    """What the CSV held: how many rows, the good ones (row number, value), the problems."""

    count: int
    good: list[tuple[int, T]]
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    dry_run: bool
    errors: tuple[RowError, ...] = ()


class ImportInvalid(PosError):
    """Some rows are not right: nothing was written; details list each row's problem."""

    code = "import_invalid"
    status = 422


class _KeepNothing(Exception):
    """Rolls the import's transaction back (a dry run, or a refused row)."""


def _row_errors(number: int, error: PosError) -> list[RowError]:
    fields = error.details.get("fields") if isinstance(error.details, dict) else None
    if fields:
        return [RowError(number, str(name), str(problem)) for name, problem in fields.items()]
    known = [name for name in ("sku", "barcode", "email", "client_id")
             if isinstance(error.details, dict) and name in error.details]
    return [RowError(number, "email" if known[:1] == ["client_id"] else
                     (known[0] if known else "row"), error.message)]


def _run(kind: str, rows: ImportRows[T], add: Callable[[Session, T], Any],
         taken: Callable[[Session, list[tuple[int, T]]], list[RowError]], *,
         dry_run: bool, user_id: int | None) -> ImportResult:
    """`taken` finds, in a query or two, the rows the database already has (a sku, an
    email): they are reported without trying them. Every other good row is then added
    by the service; should one still be refused (another desk was quicker), the import
    stops there and that row is reported."""
    errors = list(rows.errors)
    created = 0
    try:
        with write_transaction() as session:
            clashes = taken(session, rows.good)
            errors.extend(clashes)
            refused = {e.row for e in clashes}
            for number, value in rows.good:
                if number in refused:
                    continue
                try:
                    add(session, value)
                except PosError as error:
                    errors.extend(_row_errors(number, error))
                    break  # the transaction may be unusable now: nothing is kept anyway
                created += 1
            if errors or dry_run:
                raise _KeepNothing
            audit.record(session, user_id, f"import.{kind}", "import", None,
                         rows=rows.count, created=created)
    except _KeepNothing:
        pass
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportInvalid(
            f"{len({e.row for e in errors})} of {rows.count} rows are not right; nothing "
            f"was imported. First: row {errors[0].row}, {errors[0].field}: "
            f"{errors[0].message}",
            {"rows": rows.count, "created": 0, "dry_run": dry_run,
             "errors": [e.__dict__ for e in errors[:MAX_ERRORS_SHOWN]],
             "error_count": len(errors)})
    return ImportResult(rows=rows.count, created=0 if dry_run else created, dry_run=dry_run)


def _items_taken(session: Session, good: list[tuple[int, catalog.NewItem]]) -> list[RowError]:
    skus = {new.sku for _n, new in good}
    barcodes = {new.barcode for _n, new in good if new.barcode}
    have_skus = set(session.scalars(select(Item.sku).where(Item.sku.in_(skus)))) \
        if skus else set()
    have_barcodes = set(session.scalars(select(Item.barcode).where(
        Item.barcode.in_(barcodes)))) if barcodes else set()
    out = []
    for number, new in good:
        if new.sku in have_skus:
            out.append(RowError(number, "sku", f"An item with sku {new.sku!r} already exists."))
        elif new.barcode in have_barcodes:
            out.append(RowError(number, "barcode",
                                f"Another item already has the barcode {new.barcode!r}."))
    return out


def _clients_taken(session: Session, good: list[tuple[int, ClientRow]]) -> list[RowError]:
    emails = {row.email.lower() for _n, row in good if row.email}
    have = set(session.scalars(select(Client.email).where(Client.email.in_(emails)))) \
        if emails else set()
    return [RowError(number, "email", "A client with this email address already exists.")
            for number, row in good if row.email and row.email.lower() in have]


def import_items(rows: ImportRows[catalog.NewItem], *, dry_run: bool,
                 user_id: int | None) -> ImportResult:
    return _run("items", rows, lambda session, new: catalog.add_item(session, new, user_id),
                _items_taken, dry_run=dry_run, user_id=user_id)


def import_clients(rows: ImportRows[ClientRow], *, dry_run: bool,
                   user_id: int | None) -> ImportResult:
    return _run("clients", rows, lambda session, row: clients.add_client(
        session, first_name=row.first_name, last_name=row.last_name, email=row.email,
        phone=row.phone, user_id=user_id), _clients_taken, dry_run=dry_run, user_id=user_id)
