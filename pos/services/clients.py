"""Clients of the clinic: creating them at the desk, finding them as you type, their balances.

Contact data (names, email, phone) never goes into the audit log, an error message or a
log line: the audit entry of a new client holds its id only, and a duplicate email is
reported with the existing client's id. A possible duplicate (same name, same email or
phone) answers the match in the error's details, for the desk to pick it; never logged.
`allergies` is clinical: only a user holding provider writes it (ClinicalFieldForbidden).
Merging two clients: pos/services/client_merge.py.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pos.domain.errors import Conflict, Forbidden, ValidationFailed
from pos.domain.limits import MAX_DATE, MIN_DATE
from pos.domain.roles import CLINICAL_ROLE
from pos.domain.text import text_problem
from pos.models import Client, User
from pos.models.sales import CLIENT_ALLERGIES_LENGTH, CLIENT_NOTES_LENGTH
from pos.services import audit, clock
from pos.services.client_history import ClientSummary as ClientSummary
from pos.services.client_history import PackageBalance as PackageBalance
from pos.services.client_history import TreatmentRow as TreatmentRow
from pos.services.client_history import client_sales as client_sales
from pos.services.client_history import client_summary as client_summary
from pos.services.client_history import client_treatments as client_treatments
from pos.services.client_history import get_client
from pos.services.transaction import write_transaction

MAX_NAME = 80
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_QUERY = 100
# A query made only of these characters, with enough digits, is a phone number.
_PHONE_QUERY = re.compile(r"^[0-9 +().\-]+$")
_PHONE_TEXT = re.compile(r"^[0-9 +()\-]+$")
MIN_PHONE_DIGITS = 3
MAX_NOTES = CLIENT_NOTES_LENGTH
MAX_ALLERGIES = CLIENT_ALLERGIES_LENGTH
# What a PATCH may change; `allergies` is clinical (provider only).
EDITABLE = ("first_name", "last_name", "email", "phone", "date_of_birth", "notes",
            "allergies")
CLINICAL_FIELDS = frozenset({"allergies"})


class DuplicateClient(Conflict):
    """A client with this email already exists; `details["client_id"]` says which."""

    code = "duplicate_client"
    status = 409


class PossibleDuplicate(Conflict):
    """A client with the same name and the same email or phone exists: the desk chooses
    that one, or creates anyway with `confirm_new`. `details["match"]` says which."""

    code = "possible_duplicate"
    status = 409


class ClinicalFieldForbidden(Forbidden):
    """Allergies are clinical data: only a user holding `provider` reads or writes them."""

    code = "forbidden"
    status = 403


def may_see_clinical(user: User | None) -> bool:
    return user is not None and user.has_role(CLINICAL_ROLE)


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
                  user_id: int | None, date_of_birth: date | None = None,
                  notes: str | None = None, allergies: str | None = None,
                  confirm_new: bool = False, user: User | None = None) -> Client:
    """A new client. A client with the same name and the same email or phone is refused as
    409 possible_duplicate unless `confirm_new`; the same email is refused anyway (the
    column is unique): 409 duplicate_client. `allergies` needs `user` to hold provider."""
    try:
        with write_transaction() as session:
            return add_client(session, first_name=first_name, last_name=last_name,
                              email=email, phone=phone, user_id=user_id,
                              date_of_birth=date_of_birth, notes=notes, allergies=allergies,
                              confirm_new=confirm_new, user=user)
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
               phone: str | None, user_id: int | None, date_of_birth: date | None = None,
               notes: str | None = None, allergies: str | None = None,
               confirm_new: bool = False, user: User | None = None) -> Client:
    """create_client's work inside the caller's transaction (the CSV import adds many)."""
    if allergies and not may_see_clinical(user):
        raise ClinicalFieldForbidden("Only a provider may record a client's allergies.")
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    _check_names(first_name=first_name, last_name=last_name)
    email = checked_email(email)
    phone = checked_phone(phone)
    fields = _checked_details({"date_of_birth": date_of_birth, "notes": notes,
                               "allergies": allergies})
    if not confirm_new:
        _refuse_possible_duplicate(session, first_name, last_name, email, phone)
    if email is not None:
        _refuse_duplicate(session, email)
    client = Client(first_name=first_name, last_name=last_name, email=email,
                    phone=phone, phone_digits=phone_digits(phone), **fields)
    session.add(client)
    session.flush()
    audit.record(session, user_id, "client.create", "client", client.id,
                 **({"confirmed_new": True} if confirm_new else {}))
    return client


def possible_duplicate(session: Session, first_name: str, last_name: str, email: str | None,
                       phone: str | None, *, exclude_id: int | None = None
                       ) -> tuple[Client, list[str]] | None:
    """The oldest client with this name (any case) and this email or these phone digits,
    and what matched ("email", "phone")."""
    digits = phone_digits(phone)
    contact: list[ColumnElement[bool]] = []
    if email:
        contact.append(Client.email == email.lower())
    if digits:
        contact.append(Client.phone_digits == digits)
    if not contact:
        return None
    query = (select(Client).where(func.lower(Client.last_name) == last_name.strip().lower(),
                                  func.lower(Client.first_name) == first_name.strip().lower(),
                                  or_(*contact)).order_by(Client.id).limit(1))
    if exclude_id is not None:
        query = query.where(Client.id != exclude_id)
    match = session.scalar(query)
    if match is None:
        return None
    matched = [name for name, hit in (("email", bool(email) and match.email == email.lower()),
                                      ("phone", bool(digits) and match.phone_digits == digits))
               if hit]
    return match, matched


def _refuse_possible_duplicate(session: Session, first_name: str, last_name: str,
                               email: str | None, phone: str | None) -> None:
    found = possible_duplicate(session, first_name, last_name, email, phone)
    if found is None:
        return
    match, matched = found
    raise PossibleDuplicate(
        "A client with this name and the same " + " and ".join(matched) + " already exists: "
        "use that client, or create a new one anyway (confirm_new).",
        {"client_id": match.id, "matched_on": matched,
         "match": {"id": match.id, "first_name": match.first_name,
                   "last_name": match.last_name, "email": match.email, "phone": match.phone}})


def _checked_details(values: Mapping[str, Any]) -> dict[str, Any]:
    """date_of_birth, notes, allergies (the ones given) checked; empty text is None."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    limits = {"notes": MAX_NOTES, "allergies": MAX_ALLERGIES}
    for name, value in values.items():
        if name == "date_of_birth":
            if value is not None and not MIN_DATE <= value <= MAX_DATE:
                problems[name] = f"must be between {MIN_DATE} and {MAX_DATE}"
            elif value is not None and value > clock.today():
                problems[name] = "must not be in the future"
            else:
                clean[name] = value
            continue
        text = (value or "").strip()
        problem = text_problem(text, max_length=limits[name], multiline=True) if text else None
        if problem:
            problems[name] = problem
        else:
            clean[name] = text or None
    if problems:
        listed = "; ".join(f"{k} {v}" for k, v in sorted(problems.items()))
        raise ValidationFailed(f"Some fields are not right: {listed}.", {"fields": problems})
    return clean


def update_client(client_id: int, changes: Mapping[str, Any], *, user: User) -> Client:
    """Change some of a client's fields (EDITABLE); `allergies` needs provider (403).

    Audited with the names of the fields changed, never their values."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed("Unknown fields: " + ", ".join(unknown) + ".",
                               {"fields": {name: "unknown field" for name in unknown}})
    if CLINICAL_FIELDS & set(changes) and not may_see_clinical(user):
        raise ClinicalFieldForbidden("Only a provider may read or change a client's allergies.")
    clean: dict[str, Any] = {}
    if "first_name" in changes or "last_name" in changes:
        names = {n: (changes[n] or "").strip() for n in ("first_name", "last_name")
                 if n in changes}
        _check_names(**names)
        clean.update(names)
    if "email" in changes:
        clean["email"] = checked_email(changes["email"])
    if "phone" in changes:
        clean["phone"] = checked_phone(changes["phone"])
        clean["phone_digits"] = phone_digits(clean["phone"])
    clean.update(_checked_details({n: changes[n] for n in ("date_of_birth", "notes",
                                                           "allergies") if n in changes}))
    try:
        with write_transaction() as session:
            client = get_client(session, client_id, lock=True)
            email = clean.get("email")
            if email is not None and email != client.email:
                existing = session.scalar(select(Client.id).where(Client.email == email,
                                                                  Client.id != client.id))
                if existing is not None:
                    raise DuplicateClient("Another client has this email address.",
                                          {"client_id": existing})
            changed = sorted(n for n, v in clean.items()
                             if n != "phone_digits" and getattr(client, n) != v)
            for name, value in clean.items():
                setattr(client, name, value)
            if changed:
                audit.record(session, user.id, "client.update", "client", client.id,
                             fields=changed)
            return client
    except IntegrityError:
        raise DuplicateClient("Another client has this email address.", {}) from None


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


def _search_text(q: str | None) -> str:
    # Control characters (a NUL byte, say) can match nothing and PostgreSQL refuses them.
    printable = "".join(c if c.isprintable() else " " for c in (q or "")[:MAX_QUERY * 2])
    return " ".join(printable.split())[:MAX_QUERY].lower()


def _search_condition(text: str) -> ColumnElement[bool]:
    digits = phone_digits(text) or ""
    first, last = func.lower(Client.first_name), func.lower(Client.last_name)
    if _PHONE_QUERY.match(text) and len(digits) >= MIN_PHONE_DIGITS:
        escaped = _like_prefix(digits)[:-1]
        return Client.phone_digits.like(f"%{escaped}%", escape="\\")
    if "@" in text:
        return Client.email.like(_like_prefix(text), escape="\\")
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
    return or_(*conditions)


def search_clients(session: Session, q: str | None, limit: int = 20) -> list[Client]:
    """Clients matching `q` by name, email or phone, case-insensitively; newest first if empty.

    Each kind of query takes its own indexed path so the search stays fast with many
    clients: names and emails match by prefix (functional `lower()` indexes with
    text_pattern_ops on PostgreSQL), "jane smi" matches first name and last name
    together, and a query that looks like a phone number matches anywhere in the phone's
    digits (the last four digits are what people say).
    """
    limit = max(1, min(int(limit), 100))
    rows, _ = list_clients(session, q, page=1, per_page=limit, count=False)
    return rows


def list_clients(session: Session, q: str | None, *, page: int, per_page: int,
                 count: bool = True) -> tuple[list[Client], int]:
    """One page of the clients matching `q` (as search_clients), and how many match."""
    text = _search_text(q)
    query = select(Client)
    if text:
        query = query.where(_search_condition(text))
        order = (func.lower(Client.last_name), func.lower(Client.first_name), Client.id)
    else:
        order = (Client.id.desc(),)
    rows = list(session.scalars(query.order_by(*order)
                                .offset((page - 1) * per_page).limit(per_page)))
    total = 0
    if count:
        total = session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery())) or 0
    return rows, int(total)
