"""Consent: the form in force (clinic data, versioned, published by a provider who is also a
manager), a client's signature on it (witnessed by a provider), reading a signed consent
(audited), and the check a treatment makes.

A signature is clinical data: never logged, never in an audit detail; only its id is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.consent import (
    DEFAULT_CONSENT_TEXT,
    ConsentFormOutdated,
    ConsentRequired,
    check_form_text,
)
from pos.domain.errors import Conflict, NotFound
from pos.domain.limits import MAX_ID
from pos.models import Client, ClientConsent, ConsentForm, User
from pos.services import audit, clock, need_to_know, staff
from pos.services.transaction import write_transaction
from pos.settings import Settings

DEFAULT_VERSION = 1


@dataclass(frozen=True)
class FormInForce:
    version: int
    text: str
    reviewed: bool
    published_at: datetime | None = None
    published_by: str | None = None


@dataclass(frozen=True)
class SignedConsent:
    id: int
    client_id: int
    form_version: int
    signed_at: datetime
    witness: str | None
    signature_png: bytes | None = None  # only when read by a provider (audited)
    text: str | None = None  # the text of the version signed


def _user_with(session: Session, user_id: int | None, *roles: str) -> User:
    return staff.user_holding(session, user_id, *roles,
                              why="This needs a " + " who is also a ".join(roles) + ".")


def form_in_force(session: Session) -> FormInForce:
    row = session.scalar(select(ConsentForm).order_by(ConsentForm.version.desc()).limit(1))
    if row is None:  # a database built without the migrations' seed
        return FormInForce(DEFAULT_VERSION, DEFAULT_CONSENT_TEXT, False)
    return FormInForce(row.version, row.text, row.published_by_id is not None,
                       row.published_at, row.published_by.name if row.published_by else None)


def form_text(session: Session, version: int) -> str | None:
    row = session.scalar(select(ConsentForm).where(ConsentForm.version == version))
    if row is not None:
        return row.text
    return DEFAULT_CONSENT_TEXT if version == DEFAULT_VERSION else None


def publish_form(text: str, user_id: int | None) -> FormInForce:
    """A new version of the consent form: every client signs it again before a treatment."""
    text = check_form_text(text)
    with write_transaction() as session:
        user = _user_with(session, user_id, "provider", "manager")
        latest = session.scalar(select(func.max(ConsentForm.version))) or 0
        version = max(latest, DEFAULT_VERSION) + 1
        row = ConsentForm(version=version, text=text, published_at=clock.now(),
                          published_by_id=user.id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            raise Conflict("Another version was published at the same moment; reload and "
                           "try again.", {"version": version}) from None
        audit.record(session, user.id, "consent_form.publish", "consent_form", row.id,
                     version=version)
        return FormInForce(version, text, True, row.published_at, user.name)


def record_consent(client_id: int, form_version: int, signature_png: bytes,
                   user_id: int | None) -> SignedConsent:
    """The client signed the form in force, on the provider's tablet (the witness)."""
    with write_transaction() as session:
        witness = _user_with(session, user_id, "provider")
        client = session.get(Client, client_id) if 0 < client_id <= MAX_ID else None
        if client is None:
            raise NotFound(f"No client {client_id}.", {"client_id": client_id})
        in_force = form_in_force(session)
        if form_version != in_force.version:
            raise ConsentFormOutdated(
                f"Version {form_version} of the consent form is not the one in force "
                f"(version {in_force.version}): show the client the current form.",
                {"form_version": form_version, "in_force": in_force.version})
        row = ClientConsent(client_id=client.id, form_version=form_version,
                            signature_png=signature_png, signed_at=clock.now(),
                            witness_id=witness.id)
        session.add(row)
        session.flush()
        audit.record(session, witness.id, "consent.sign", "client", client.id,
                     consent_id=row.id, form_version=form_version)
        return SignedConsent(row.id, client.id, form_version, row.signed_at, witness.name)


def has_current_consent(session: Session, client_id: int) -> bool:
    """Whether the client signed the form in force (a yes/no: no clinical content)."""
    version = form_in_force(session).version
    return session.scalar(select(ClientConsent.id).where(
        ClientConsent.client_id == client_id,
        ClientConsent.form_version == version).limit(1)) is not None


def check_consent(session: Session, client_id: int) -> int:
    """In a treatment's transaction: the client signed the form in force, or 422
    consent_required. Returns the form version."""
    version = form_in_force(session).version
    signed = session.scalar(select(ClientConsent.id).where(
        ClientConsent.client_id == client_id, ClientConsent.form_version == version).limit(1))
    if signed is None:
        raise ConsentRequired(
            f"The client has not signed the consent form in force (version {version}): "
            "have them sign it before the treatment.", {"form_version": version})
    return version


def consents_of(client_id: int, user: User, settings: Settings) -> list[SignedConsent]:
    """The client's signed consents, newest first, without the images (providers only;
    the read is audited)."""
    with write_transaction() as session:
        _user_with(session, user.id, "provider")
        rows = session.scalars(select(ClientConsent).where(ClientConsent.client_id == client_id)
                               .order_by(ClientConsent.signed_at.desc(),
                                         ClientConsent.id.desc())).all()
        need_to_know.note_client_read(session, user_id=user.id, client_id=client_id,
                                      settings=settings, clinical="consents")
        return [SignedConsent(r.id, r.client_id, r.form_version, r.signed_at,
                              r.witness.name if r.witness else None) for r in rows]


def view_consent(client_id: int, consent_id: int, user: User,
                 settings: Settings) -> SignedConsent:
    """One signed consent with its signature and the text signed (audited)."""
    with write_transaction() as session:
        _user_with(session, user.id, "provider")
        row = session.get(ClientConsent, consent_id) if 0 < consent_id <= MAX_ID else None
        if row is None or row.client_id != client_id:
            raise NotFound(f"No consent {consent_id} for this client.",
                           {"consent_id": consent_id})
        need_to_know.note_client_read(session, user_id=user.id, client_id=client_id,
                                      settings=settings, clinical="consent", record_id=row.id)
        return SignedConsent(row.id, row.client_id, row.form_version, row.signed_at,
                             row.witness.name if row.witness else None, row.signature_png,
                             form_text(session, row.form_version))
