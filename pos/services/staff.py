"""Staff accounts: creation, passwords (Argon2id) and API tokens (signing in:
pos/services/signin.py)."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pos.domain.roles import Role, RoleSet, UnknownRole, parse_roles, roles_text
from pos.models import ApiToken, User
from pos.services import audit, clinic, clock
from pos.services.transaction import write_transaction
from pos.settings import settings_for

# Argon2id with the settings' cost (argon2-cffi's defaults, RFC 9106 low-memory); the test
# configuration lowers it so the suite stays quick.
_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher(session: Session) -> PasswordHasher:
    # The cost goes with the database whose hashes it makes (the settings create_app bound
    # to it), not with each caller: every caller of one database must hash alike.
    settings = settings_for(session)
    key = (settings.argon2_time_cost, settings.argon2_memory_cost)
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return _hashers[key]


MIN_PASSWORD_LENGTH = 10


def hash_password(session: Session, password: str) -> str:
    return _hasher(session).hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def role_set(roles: str | Iterable[str]) -> RoleSet:
    """The roles given as a list, or as one text ("manager", "provider+manager")."""
    names = roles.split("+") if isinstance(roles, str) else list(roles)
    try:
        return parse_roles(names)
    except UnknownRole:
        raise ValidationFailed(
            f"Roles must be one or more of {', '.join(r.value for r in Role)}.",
            {"fields": {"roles": "unknown role"}}) from None


def create_user(email: str, roles: str | Iterable[str], password: str, *,
                name: str | None = None, by_user_id: int | None = None) -> User:
    held = role_set(roles)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.",
                               {"fields": {"password": "too short"}})
    email = normalise_email(email)
    with write_transaction() as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict("A user with that email already exists.")
        user = User(email=email, name=name or email.split("@")[0], roles=held,
                    password_hash=hash_password(session, password))
        session.add(user)
        session.flush()
        audit.record(session, by_user_id, "user.create", "user", user.id,
                     roles=roles_text(held))
        return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(email: str, by_user_id: int | None = None) -> str:
    """A new bearer token for the user; only its digest is stored, so show it once."""
    token = "pos_" + secrets.token_urlsafe(32)
    with write_transaction() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise NotFound("No user with that email.")
        session.add(ApiToken(user_id=user.id, token_hash=token_digest(token)))
        audit.record(session, by_user_id, "token.create", "user", user.id)
    return token


def _token_lookup() -> Select[tuple[User, int]]:
    # The clinic settings' version rides on this lookup (see pos/services/clinic.py).
    return (select(User, clinic.with_version()).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"),
                   ApiToken.revoked_at.is_(None), User.active.is_(True),
                   or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now"))))


# Every API request runs it: built once (building it again cost a tenth of a millisecond
# of each sale's CPU).
_TOKEN_LOOKUP = _token_lookup()


def user_for_token(session: Session, token: str) -> User | None:
    found = session.execute(_TOKEN_LOOKUP, {"token_hash": token_digest(token),
                                            "now": clock.now()}).first()
    if found is None:
        return None
    user, version = found
    clinic.note_version(session, version)
    return user


_unknown_hashes: dict[int, str] = {}


def unknown_user_hash(session: Session) -> str:
    """A hash of nothing anyone knows: checked when an email is unknown, so a wrong email
    takes as long as a wrong password."""
    hasher = _hasher(session)
    # Made once per hasher: hashing on every call (as setdefault's argument would) made a
    # wrong email cost two Argon2 runs to a wrong password's one (bench/signin_bench.py).
    found = _unknown_hashes.get(id(hasher))
    if found is None:
        found = _unknown_hashes.setdefault(id(hasher), hasher.hash(secrets.token_urlsafe(16)))
    return found


def password_matches(session: Session, stored_hash: str, password: str) -> bool:
    try:
        return _hasher(session).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(session: Session, stored_hash: str) -> bool:
    return _hasher(session).check_needs_rehash(stored_hash)


def user_holding(session: Session, user_id: int | None, *roles: str, why: str) -> User:
    """The active user `user_id` holding every one of `roles`, or 403 `forbidden` saying
    `why` (the services' own check, whatever the view already checked)."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not all(user.has_role(role) for role in roles):
        raise Forbidden(why)
    return user
