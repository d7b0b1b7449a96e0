"""Clients of the clinic: creating them at the desk, finding them as you type, their balances.

Contact data (names, email, phone) never goes into the audit log, an error message or a
log line: the audit entry of a new client holds its id only, and a duplicate is reported
with the existing client's id, not its email.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound, ValidationFailed
from pos.domain.limits import MAX_ID
from pos.domain.series import next_eligible_on
from pos.models import Client, Package, PackagePurchase, Sale, SaleLine, Treatment
from pos.services import audit, clock
from pos.services.transaction import write_transaction

MAX_NAME = 80
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_QUERY = 100
# A query made only of these characters, with enough digits, is a phone number.
_PHONE_QUERY = re.compile(r"^[0-9 +().\-]+$")
_PHONE_TEXT = re.compile(r"^[0-9 +()\-]+$")
MIN_PHONE_DIGITS = 3


class DuplicateClient(Conflict):
    """A client with this email already exists; `details["client_id"]` says which."""

    code = "duplicate_client"
    status = 409


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number, so "555-0100" finds "(555) 0100"."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    return digits or None


def checked_email(email: str | None) -> str | None:
    """An optional email checked for form only (no DNS lookup here), lower-cased."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL:
        raise ValidationFailed(f"An email address has at most {MAX_EMAIL} characters.",
                               {"fields": {"email": f"must be at most {MAX_EMAIL} characters"}})
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed("That is not a valid email address.",
                               {"fields": {"email": "is not a valid email address"}}) from None


def checked_phone(phone: str | None) -> str | None:
    """An optional phone number: digits, spaces, + ( ) and -, with at least one digit."""
    phone = (phone or "").strip()
    if not phone:
        return None
    if len(phone) > MAX_PHONE:
        raise ValidationFailed(f"A phone number has at most {MAX_PHONE} characters.",
                               {"fields": {"phone": f"must be at most {MAX_PHONE} characters"}})
    if not _PHONE_TEXT.match(phone) or phone_digits(phone) is None:
        raise ValidationFailed("A phone number has digits, spaces, + ( ) and - only.",
                               {"fields": {"phone": "has characters that are not allowed"}})
    return phone


def create_client(*, first_name: str, last_name: str, email: str | None, phone: str | None,
                  user_id: int | None) -> Client:
    try:
        with write_transaction() as session:
            return add_client(session, first_name=first_name, last_name=last_name,
                              email=email, phone=phone, user_id=user_id)
    except IntegrityError:
        # Two desks registering the same email at the same moment: the unique constraint
        # caught the second one; report it like the check in add_client would have.
        email = checked_email(email)
        if email is None:
            raise
        with write_transaction() as session:
            _refuse_duplicate(session, email)
        raise


def add_client(session: Session, *, first_name: str, last_name: str, email: str | None,
               phone: str | None, user_id: int | None) -> Client:
    """create_client's work inside the caller's transaction (the CSV import adds many)."""
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    _check_names(first_name=first_name, last_name=last_name)
    email = checked_email(email)
    phone = checked_phone(phone)
    if email is not None:
        _refuse_duplicate(session, email)
    client = Client(first_name=first_name, last_name=last_name, email=email,
                    phone=phone, phone_digits=phone_digits(phone))
    session.add(client)
    session.flush()
    audit.record(session, user_id, "client.create", "client", client.id)
    return client


def _refuse_duplicate(session: Session, email: str) -> None:
    existing = session.scalar(select(Client.id).where(Client.email == email))
    if existing is not None:
        raise DuplicateClient("A client with this email address already exists.",
                              {"client_id": existing})


def _check_names(**names: str) -> None:
    errors: dict[str, str] = {}
    for name, value in names.items():
        if not value:
            errors[name] = "is required"
        elif len(value) > MAX_NAME:
            errors[name] = f"must be at most {MAX_NAME} characters"
        elif any(ord(c) < 32 for c in value):
            errors[name] = "must not contain control characters"
    if errors:
        listed = "; ".join(f"{k} {v}" for k, v in sorted(errors.items()))
        raise ValidationFailed(f"Some fields are not right: {listed}.", {"fields": errors})


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_clients(session: Session, q: str | None, limit: int = 20) -> list[Client]:
    """Clients matching `q` by name, email or phone, case-insensitively; newest first if empty.

    Each kind of query takes its own indexed path so the search stays fast with many
    clients: names and emails match by prefix (functional `lower()` indexes with
    text_pattern_ops on PostgreSQL), "jane smi" matches first name and last name
    together, and a query that looks like a phone number matches anywhere in the phone's
    digits (the last four digits are what people say).
    """
    limit = max(1, min(int(limit), 100))
    # Control characters (a NUL byte, say) can match nothing and PostgreSQL refuses them.
    printable = "".join(c if c.isprintable() else " " for c in (q or "")[:MAX_QUERY * 2])
    text = " ".join(printable.split())[:MAX_QUERY].lower()
    query = select(Client)
    if not text:
        return list(session.scalars(query.order_by(Client.id.desc()).limit(limit)))
    digits = phone_digits(text) or ""
    first, last = func.lower(Client.first_name), func.lower(Client.last_name)
    if _PHONE_QUERY.match(text) and len(digits) >= MIN_PHONE_DIGITS:
        escaped = _like_prefix(digits)[:-1]
        condition = Client.phone_digits.like(f"%{escaped}%", escape="\\")
    elif "@" in text:
        condition = Client.email.like(_like_prefix(text), escape="\\")
    else:
        whole = _like_prefix(text)
        conditions = [last.like(whole, escape="\\"), first.like(whole, escape="\\"),
                      Client.email.like(whole, escape="\\")]
        tokens = text.split(" ")
        if len(tokens) > 1:
            head, tail = _like_prefix(tokens[0]), _like_prefix(" ".join(tokens[1:]))
            conditions += [
                and_(first.like(head, escape="\\"), last.like(tail, escape="\\")),
                and_(last.like(head, escape="\\"), first.like(tail, escape="\\")),
            ]
        condition = or_(*conditions)
    query = query.where(condition).order_by(last, first, Client.id).limit(limit)
    return list(session.scalars(query))


def get_client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id) if 0 < client_id <= MAX_ID else None
    if client is None:
        raise NotFound(f"No client with id {client_id}.", {"client_id": client_id})
    return client


@dataclass(frozen=True)
class PackageBalance:
    purchase_id: int
    code: str
    name: str
    sessions_total: int
    sessions_used: int
    sessions_refunded: int
    sessions_left: int
    next_eligible_on: date | None
    sale_id: int


@dataclass(frozen=True)
class ClientSummary:
    client: Client
    packages: list[PackageBalance]
    first_visit_bundle_given: bool


def client_summary(session: Session, client_id: int) -> ClientSummary:
    """The client with every package bought and what is left of it."""
    client = get_client(session, client_id)
    last_sessions = dict(session.execute(
        select(Treatment.purchase_id, func.max(Treatment.performed_at))
        .where(Treatment.client_id == client.id, Treatment.voided_at.is_(None))
        .group_by(Treatment.purchase_id)
    ).tuples().all())
    rows = session.execute(
        select(PackagePurchase, Package, Sale.id)
        .join(Package, Package.id == PackagePurchase.package_id)
        .join(SaleLine, SaleLine.id == PackagePurchase.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(PackagePurchase.client_id == client.id)
        .order_by(PackagePurchase.id)
    ).tuples().all()
    packages = []
    for purchase, package, sale_id in rows:
        last_at = last_sessions.get(purchase.id)
        last_on = clock.clinic_date(last_at) if last_at is not None else None
        packages.append(PackageBalance(
            purchase_id=purchase.id, code=package.code, name=package.name,
            sessions_total=purchase.sessions_total, sessions_used=purchase.sessions_used,
            sessions_refunded=purchase.sessions_refunded,
            sessions_left=purchase.sessions_left,
            next_eligible_on=next_eligible_on(last_on, package.min_days_between),
            sale_id=sale_id,
        ))
    return ClientSummary(client=client, packages=packages,
                         first_visit_bundle_given=client.first_visit_bundle_at is not None)


def client_sales(session: Session, client_id: int, limit: int = 50) -> list[Sale]:
    """The client's sales, newest first (for the client page)."""
    return list(session.scalars(
        select(Sale).where(Sale.client_id == client_id).order_by(Sale.id.desc()).limit(limit)))
