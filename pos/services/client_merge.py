"""Merging a duplicate client into the one kept (API.md "Back office").

Every row that references the duplicate moves to the client kept: the tables are found
from the schema itself (each column with a foreign key to `clients.id`, and the
`client_id` columns kept without one, such as the need-to-know reads), so a table added
later that refers to clients is moved too. Then the duplicate is deleted: no row is left
referring to it. The audit entry names both ids and how many rows moved per table.

The client kept keeps its own details; what it lacks (email, phone, date of birth) is
taken from the duplicate; notes and allergies are joined, never dropped (an allergy
recorded on either record must survive the merge).
"""
from __future__ import annotations

from sqlalchemy import Column, Table, update
from sqlalchemy.orm import Session

from pos.domain.errors import NotFound, PosError
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import Client
from pos.services import audit
from pos.services.clients import MAX_ALLERGIES, MAX_NOTES, get_client
from pos.services.transaction import write_transaction


class MergeIntoSelf(PosError):
    code = "merge_into_self"
    status = 422


class UnknownClient(PosError):
    """The client to merge into does not exist (the body names it: 422, not 404)."""

    code = "unknown_client"
    status = 422


def referencing_columns() -> list[tuple[Table, Column]]:  # type: ignore[type-arg]
    """Every (table, column) that holds a client's id, in a stable order."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name == Client.__tablename__:
            continue
        for column in table.columns:
            by_key = any(fk.column.table.name == Client.__tablename__ for fk in column.foreign_keys)
            if by_key or (column.name == "client_id" and not column.foreign_keys):
                found.append((table, column))
    return found


def _joined(kept: str | None, other: str | None, limit: int) -> str | None:
    if not other or other == kept:
        return kept
    if not kept:
        return other
    joined = f"{kept}\n{other}"
    return joined if len(joined) <= limit else joined[:limit]


def merge_clients(client_id: int, into_id: int, *, user_id: int | None) -> Client:
    """Move everything of `client_id` to `into_id` and delete `client_id`, in one
    transaction. 404 when `client_id` is unknown, 422 merge_into_self / unknown_client."""
    if client_id == into_id:
        raise MergeIntoSelf("A client cannot be merged into itself.",
                            {"client_id": client_id, "into_id": into_id})
    with write_transaction() as session:
        # Both rows locked, in id order (the order every merge takes: no deadlock).
        first, second = sorted((client_id, into_id))
        rows = {}
        for wanted in (first, second):
            try:
                rows[wanted] = get_client(session, wanted, lock=True)
            except NotFound:
                if wanted == client_id:
                    raise
                raise UnknownClient(f"There is no client {into_id} to merge into.",
                                    {"into_id": into_id}) from None
        old, kept = rows[client_id], rows[into_id]
        moved = _move_rows(session, client_id, into_id)
        _take_details(old, kept)
        email = old.email
        session.delete(old)
        session.flush()  # the duplicate's email is free now: the kept client may take it
        if kept.email is None and email is not None:
            kept.email = email
        audit.record(session, user_id, "client.merge", "client", into_id,
                     merged_client_id=client_id, moved=moved)
        session.flush()
        return kept


def _move_rows(session: Session, client_id: int, into_id: int) -> dict[str, int]:
    moved: dict[str, int] = {}
    for table, column in referencing_columns():
        result = session.execute(update(table).where(column == client_id)
                                 .values({column.name: into_id}))
        count = result.rowcount or 0  # type: ignore[attr-defined]
        if count:
            moved[f"{table.name}.{column.name}"] = count
    # The ORM's copies of the moved rows are stale now.
    session.expire_all()
    return moved


def _take_details(old: Client, kept: Client) -> None:
    if kept.phone is None and old.phone is not None:
        kept.phone, kept.phone_digits = old.phone, old.phone_digits
    if kept.date_of_birth is None:
        kept.date_of_birth = old.date_of_birth
    kept.notes = _joined(kept.notes, old.notes, MAX_NOTES)
    kept.allergies = _joined(kept.allergies, old.allergies, MAX_ALLERGIES)
    if old.first_visit_bundle_at is not None and (
            kept.first_visit_bundle_at is None
            or old.first_visit_bundle_at < kept.first_visit_bundle_at):
        kept.first_visit_bundle_at = old.first_visit_bundle_at


def known_id(client_id: int) -> int:
    if not 0 < client_id <= MAX_ID:
        raise NotFound(f"No client with id {client_id}.", {"client_id": client_id})
    return client_id
