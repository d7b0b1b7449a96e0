"""Importing items and clients from another system's CSV, all or nothing.

The rows come read and checked by the input layer (pos.web.api.schemas.imports); each
good row is then added by the very service the API uses (`catalog.add_item`,
`clients.add_client`), all in ONE transaction, each row under its own savepoint so one
refused row (a sku that exists, an email already registered) is reported with its row
number and the others are still checked. Unless every row is good, nothing is kept;
a dry run checks everything the same way and keeps nothing either.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from pos.domain.errors import PosError
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


def _run(kind: str, rows: ImportRows[T], add: Callable[[Session, T], Any], *,
         dry_run: bool, user_id: int | None) -> ImportResult:
    errors = list(rows.errors)
    created = 0
    try:
        with write_transaction() as session:
            for number, value in rows.good:
                try:
                    with session.begin_nested():
                        add(session, value)
                    created += 1
                except PosError as error:
                    errors.extend(_row_errors(number, error))
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


def import_items(rows: ImportRows[catalog.NewItem], *, dry_run: bool,
                 user_id: int | None) -> ImportResult:
    return _run("items", rows, lambda session, new: catalog.add_item(session, new, user_id),
                dry_run=dry_run, user_id=user_id)


def import_clients(rows: ImportRows[ClientRow], *, dry_run: bool,
                   user_id: int | None) -> ImportResult:
    return _run("clients", rows, lambda session, row: clients.add_client(
        session, first_name=row.first_name, last_name=row.last_name, email=row.email,
        phone=row.phone, user_id=user_id), dry_run=dry_run, user_id=user_id)
