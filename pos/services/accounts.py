"""Staff accounts run by an admin: invite, set-password links, roles and active, tokens.

Each function takes the session of the caller's write transaction (`write_transaction()`);
none commits. Links and tokens are 256-bit secrets of which only the SHA-256 is kept, so
the text is shown (or emailed) once.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, Forbidden, NotFound, PosError, ValidationFailed
from pos.domain.roles import Role, RoleSet, role_sets_holding, roles_text
from pos.models import ApiToken, OutboxMessage, PasswordLink, User
from pos.services import audit, clock
from pos.services.sessions import end_user_sessions
from pos.services.staff import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    normalise_email,
    role_set,
    token_digest,
)

LINK_VALID_FOR = timedelta(hours=24)

# The web layer turns a link's secret into the URL of the set-password page.
LinkUrl = Callable[[str], str]


class CannotDeactivateSelf(PosError):
    code = "cannot_deactivate_self"
    status = 409


class LastAdmin(PosError):
    """The change would leave the clinic without an active admin to manage accounts."""

    code = "last_admin"
    status = 409


class InvalidLink(PosError):
    code = "invalid_link"
    status = 410


def _user(session: Session, user_id: int, *, lock: bool = False) -> User:
    user = session.get(User, user_id, with_for_update=lock) if 0 < user_id <= 2**31 - 1 \
        else None
    if user is None:
        raise NotFound(f"No user {user_id}.", {"user_id": user_id})
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.active.desc(), User.name, User.id)))


def end_sessions(session: Session, user_id: int) -> None:
    """A deactivated user, one whose roles changed or whose password was set must sign in
    again: every staff session of theirs ends in this transaction (tokens are refused by
    the token lookup itself once the user is inactive)."""
    end_user_sessions(session, user_id)


# -- set-password links -----------------------------------------------------------------

def _send_link(session: Session, user: User, link_url: LinkUrl, *, invited: bool) -> None:
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(PasswordLink(user_id=user.id, token_hash=token_digest(secret),
                             created_at=now, expires_at=now + LINK_VALID_FOR))
    if invited:
        subject = "Your account at the clinic's point of sale"
        opening = "An account was made for you at the clinic's point of sale."
    else:
        subject = "Set a new password for the clinic's point of sale"
        opening = "An admin asked for you to set a new password."
    body = (f"Hello {user.name},\n\n{opening}\n\nChoose your password here (the link works "
            f"once, for 24 hours):\n{link_url(secret)}\n\nIf you did not expect this "
            "email, tell the clinic's admin.\n")
    # To the account's owner only; the outbox sends it once the transaction commits.
    session.add(OutboxMessage(channel="email", topic="account", recipients=user.email,
                              subject=subject, body=body))


def invite_user(session: Session, *, email: str, name: str, roles: Iterable[str],
                by_user_id: int | None, link_url: LinkUrl) -> User:
    held = role_set(list(roles))
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("A user with that email already exists.", {"fields": {"email": email}})
    # No password until the link is used: a random one nobody knows.
    user = User(email=email, name=name, roles=held,
                password_hash=hash_password(session, secrets.token_urlsafe(32)))
    session.add(user)
    session.flush()
    _send_link(session, user, link_url, invited=True)
    audit.record(session, by_user_id, "user.invite", "user", user.id, roles=roles_text(held))
    return user


def send_password_reset(session: Session, user_id: int, *, by_user_id: int | None,
                        link_url: LinkUrl) -> User:
    user = _user(session, user_id)
    _send_link(session, user, link_url, invited=False)
    audit.record(session, by_user_id, "user.password_reset", "user", user.id)
    return user


def _usable_link(session: Session, secret: str, *, lock: bool) -> PasswordLink:
    query = select(PasswordLink).where(PasswordLink.token_hash == token_digest(secret))
    link = session.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= clock.now():
        raise InvalidLink("This link has expired or was already used. Ask an admin for a "
                          "new one.")
    return link


def link_is_usable(session: Session, secret: str) -> bool:
    try:
        _usable_link(session, secret, lock=False)
    except InvalidLink:
        return False
    return True


def set_password_with_link(session: Session, secret: str, password: str) -> User:
    """Set the password of the link's user and use the link up (once, whatever happens)."""
    link = _usable_link(session, secret, lock=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.",
                               {"fields": {"password": "too short"}})
    user = _user(session, link.user_id, lock=True)
    link.used_at = clock.now()
    user.password_hash = hash_password(session, password)
    end_sessions(session, user.id)
    audit.record(session, user.id, "user.password_set", "user", user.id)
    return user


# -- roles and active ---------------------------------------------------------------------

def _other_active_admins(session: Session, user_id: int) -> int:
    # Every active admin's row is locked, in id order, so two admins demoting each other
    # at once cannot both succeed.
    ids = session.scalars(
        select(User.id).where(User.active.is_(True),
                              User.roles.in_(role_sets_holding(Role.ADMIN)))
        .order_by(User.id).with_for_update()).all()
    return len([i for i in ids if i != user_id])


def update_user(session: Session, user_id: int, *, roles: Iterable[str] | None = None,
                active: bool | None = None, by_user_id: int | None) -> User:
    """Change a user's roles and/or active flag. `by_user_id` None: the command line."""
    new_roles: RoleSet | None = None if roles is None else role_set(list(roles))
    user = _user(session, user_id)
    if active is False and by_user_id == user.id:
        raise CannotDeactivateSelf("You cannot deactivate your own account.")
    loses_admin = user.active and Role.ADMIN in user.roles and (
        active is False or (new_roles is not None and Role.ADMIN not in new_roles))
    if loses_admin and _other_active_admins(session, user.id) == 0:
        raise LastAdmin("This is the last active admin: make another admin first.")
    user = _user(session, user_id, lock=True)
    changes: dict[str, object] = {}
    if new_roles is not None and new_roles != user.roles:
        changes["roles"] = roles_text(new_roles)
        user.roles = new_roles
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
    if changes:
        if "roles" in changes or changes.get("active") is False:
            end_sessions(session, user.id)
        audit.record(session, by_user_id, "user.update", "user", user.id, **changes)
    return user


def deactivate_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("No user with that email.")
    return update_user(session, user.id, active=False, by_user_id=None)


# -- API tokens ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    text: str  # shown once


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first moment after `day` in the clinic's zone: a token expiring on a day works
    through it."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def create_token(session: Session, user_id: int, *, expires_on: date | None,
                 zone: ZoneInfo, by_user_id: int | None) -> NewToken:
    user = _user(session, user_id)
    if expires_on is not None and expires_on < clock.today(zone):
        raise ValidationFailed("The expiry day has already passed.",
                               {"fields": {"expires_on": "must be today or later"}})
    text = "pos_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=token_digest(text),
                     expires_at=None if expires_on is None else end_of_day(expires_on, zone))
    session.add(token)
    session.flush()
    audit.record(session, by_user_id, "token.create", "token", token.id, owner_id=user.id)
    return NewToken(token, text)


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    _user(session, user_id)
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int, *, by_user: User | None) -> ApiToken:
    """Revoke a token: an admin any, anyone else only their own. `by_user` None: the CLI."""
    token = session.get(ApiToken, token_id, with_for_update=True) \
        if 0 < token_id <= 2**31 - 1 else None
    if token is None:
        raise NotFound(f"No token {token_id}.", {"token_id": token_id})
    if by_user is not None and token.user_id != by_user.id and not by_user.has_role("admin"):
        raise Forbidden("Only an admin or the token's owner may revoke it.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(session, None if by_user is None else by_user.id, "token.revoke",
                     "token", token.id, owner_id=token.user_id)
    return token


def token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"

