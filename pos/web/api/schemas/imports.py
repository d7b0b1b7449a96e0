"""CSV rows of an import, read into the same input models as POST /api/v1/items and
/clients (NewItemIn, NewClientIn), so an imported row is held to exactly their rules.

Items: `sku,name,category,price,cost,taxable,reorder_point,reorder_quantity,barcode`
(and optionally `unit`). `price` and `cost` are in **dollars** ("12.50", "$1,234.56"),
as another system's export has them; `category` is the item's kind (retail, supply,
bundle); `taxable` is yes/no, true/false or 1/0 (empty: taxable when retail); `unit`
empty is "each"; `cost`, `reorder_point`, `reorder_quantity` empty are 0.
Clients: `name,email,phone` (the name's last word is the last name), or
`first_name,last_name,email,phone`.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first client or
item row 2.
"""
from __future__ import annotations

import csv
import io
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.money import parse_cents
from pos.services.catalog import NewItem
from pos.services.imports import ClientRow, ImportRows, RowError
from pos.web.api.schemas.catalog import NewItemIn
from pos.web.api.schemas.clients import NewClientIn
from pos.web.api.schemas.parsing import as_validation_failed

M = TypeVar("M", bound=BaseModel)
MAX_ROWS = 2000  # ~6 ms a row on PostgreSQL (bench/import_bench.py): well inside a request
MAX_BYTES = 1_000_000  # the app refuses bodies over 1 MiB (MAX_CONTENT_LENGTH)
ITEM_COLUMNS = ("sku", "name", "category", "price", "cost", "taxable", "reorder_point",
                "reorder_quantity", "barcode", "unit")
ITEM_REQUIRED = ("sku", "name", "category", "price")
CLIENT_COLUMNS = ("name", "first_name", "last_name", "email", "phone")
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


class ImportTooLarge(ValidationFailed):
    pass


def _reader(text: str, known: tuple[str, ...]) -> tuple[csv.DictReader[str], list[str]]:
    if len(text) > MAX_BYTES:
        raise ImportTooLarge("A CSV import is at most 1 MB.",
                             {"fields": {"body": "too large"}})
    if "\x00" in text:
        raise ValidationFailed("The file is not CSV text.", {"fields": {"body": "not text"}})
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise ValidationFailed("The CSV is empty: it needs a header row.",
                               {"fields": {"body": "no header row"}})
    unknown = [name for name in header if name not in known]
    if unknown:
        raise ValidationFailed(f"Unknown column(s): {', '.join(unknown)[:200]}.",
                               {"fields": {"header": f"unknown column {unknown[0][:40]}"}})
    reader.fieldnames = header
    return reader, header


def _rows(reader: csv.DictReader[str], errors: list[RowError]
          ) -> list[tuple[int, dict[str, str]]]:
    out = []
    try:
        for record in reader:
            number = reader.line_num
            if None in record:
                errors.append(RowError(number, "row", "has more cells than the header"))
                continue
            cells = {k: (v or "").strip() for k, v in record.items()}
            if not any(cells.values()):
                continue  # a blank line
            out.append((number, cells))
            if len(out) > MAX_ROWS:
                raise ImportTooLarge(f"A CSV import has at most {MAX_ROWS} rows.",
                                     {"fields": {"body": "too many rows"}})
    except csv.Error as error:
        raise ValidationFailed(f"The CSV cannot be read: {error}.",
                               {"fields": {"body": "not CSV"}}) from None
    return out


def _problems(error: PosError) -> list[tuple[str, str]]:
    fields = error.details.get("fields") if isinstance(error.details, dict) else None
    if fields:
        return [(str(name), str(problem)) for name, problem in fields.items()]
    return [("row", error.message)]


def _checked(number: int, errors: list[RowError], model: type[M], data: dict[str, Any]
             ) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        failed = as_validation_failed(error)
        errors.extend(RowError(number, f, p) for f, p in _problems(failed))
    except PosError as error:
        errors.extend(RowError(number, f, p) for f, p in _problems(error))
    return None


def _cents(cells: dict[str, str], column: str, errors: list[RowError], number: int,
           required: bool) -> int | None:
    text = cells.get(column, "")
    if not text:
        if required:
            errors.append(RowError(number, column, "is required"))
        return None if required else 0
    try:
        return parse_cents(text)
    except PosError as error:
        errors.append(RowError(number, column, error.message))
        return None


def _whole(cells: dict[str, str], column: str, errors: list[RowError], number: int) -> Any:
    text = cells.get(column, "")
    if not text:
        return 0
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return int(text)
    errors.append(RowError(number, column, "must be a whole number"))
    return None


def item_rows(text: str) -> ImportRows[NewItem]:
    """The CSV's items, each checked by the rules of POST /api/v1/items, and each row's
    problems (a sku or barcode twice in the file too)."""
    reader, header = _reader(text, ITEM_COLUMNS)
    missing = [name for name in ITEM_REQUIRED if name not in header]
    if missing:
        raise ValidationFailed(f"The CSV needs the column(s) {', '.join(missing)}.",
                               {"fields": {"header": f"missing {missing[0]}"}})
    errors: list[RowError] = []
    good: list[tuple[int, NewItem]] = []
    seen: dict[tuple[str, str], int] = {}
    rows = _rows(reader, errors)
    for number, cells in rows:
        before = len(errors)
        price = _cents(cells, "price", errors, number, required=True)
        cost = _cents(cells, "cost", errors, number, required=False)
        point = _whole(cells, "reorder_point", errors, number)
        quantity = _whole(cells, "reorder_quantity", errors, number)
        kind = cells.get("category", "").lower()
        taxable_text = cells.get("taxable", "").lower()
        if taxable_text in _TRUE:
            taxable = True
        elif taxable_text in _FALSE:
            taxable = False
        elif not taxable_text:
            taxable = kind == "retail"
        else:
            errors.append(RowError(number, "taxable", "must be yes or no"))
        if len(errors) > before:
            continue
        body = _checked(number, errors, NewItemIn, {
            "sku": cells.get("sku", ""), "name": cells.get("name", ""), "kind": kind,
            "unit": cells.get("unit") or "each", "price_cents": price, "cost_cents": cost,
            "reorder_point": point, "reorder_quantity": quantity, "taxable": taxable,
            "barcode": cells.get("barcode") or None})
        if body is None:
            continue
        for field in ("sku", "barcode"):
            value = getattr(body, field)
            if value is None:
                continue
            first = seen.setdefault((field, value.upper()), number)
            if first != number:
                errors.append(RowError(number, field, f"{value} is also on row {first}"))
        if len(errors) > before:
            continue
        good.append((number, NewItem(
            sku=body.sku, name=body.name, kind=body.kind, unit=body.unit,
            price_cents=body.price_cents, cost_cents=body.cost_cents or 0,
            reorder_point=body.reorder_point, reorder_quantity=body.reorder_quantity,
            taxable=bool(body.taxable), barcode=body.barcode)))
    return ImportRows(count=len(rows), good=good, errors=errors)


def client_rows(text: str) -> ImportRows[ClientRow]:
    """The CSV's clients, each checked by the rules of POST /api/v1/clients (the service
    checks the email and phone forms when it adds them)."""
    reader, header = _reader(text, CLIENT_COLUMNS)
    if "name" not in header and not {"first_name", "last_name"} <= set(header):
        raise ValidationFailed("The CSV needs a name column (or first_name and last_name).",
                               {"fields": {"header": "missing name"}})
    errors: list[RowError] = []
    good: list[tuple[int, ClientRow]] = []
    seen: dict[str, int] = {}
    rows = _rows(reader, errors)
    for number, cells in rows:
        first, last = cells.get("first_name", ""), cells.get("last_name", "")
        if "name" in header and not (first or last):
            first, _, last = cells.get("name", "").rpartition(" ")
            if not first:
                errors.append(RowError(number, "name", "needs a first and a last name"))
                continue
        body = _checked(number, errors, NewClientIn, {
            "first_name": first, "last_name": last, "email": cells.get("email") or None,
            "phone": cells.get("phone") or None})
        if body is None:
            continue
        if body.email:
            key = body.email.lower()
            if seen.setdefault(key, number) != number:
                errors.append(RowError(number, "email",
                                       f"the same email is also on row {seen[key]}"))
                continue
        good.append((number, ClientRow(first_name=body.first_name, last_name=body.last_name,
                                       email=body.email, phone=body.phone)))
    return ImportRows(count=len(rows), good=good, errors=errors)
