"""Discount codes (create, list, deactivate) and the approval of a manual discount.

A code's `value` is kept as pos.domain.pricing reads it: basis points for a percent
(10 % is 1000), cents for a fixed amount; the API speaks whole percents, converted here.

A manual discount needs a manager: the seller holds `manager`, or a manager at the desk
gives their email and staff PIN. The PIN is checked through the sign-in throttle (the
same account counter as their password and the desk's PIN unlock), so an approval can be
guessed no faster than a sign-in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound, PosError, ValidationFailed
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import DiscountCode, StaffPin, User
from pos.services import audit, clock, staff, throttle
from pos.services.throttle import ThrottleLimits
from pos.services.transaction import write_transaction
from pos.settings import Settings

KINDS = ("percent", "fixed")


class DuplicateDiscountCode(Conflict):
    code = "duplicate_discount_code"
    status = 409


class ApprovalRequired(PosError):
    """A manual discount without a manager: not the seller, and no valid approval."""

    code = "approval_required"
    status = 403


@dataclass(frozen=True)
class NewDiscountCode:
    code: str
    kind: str  # percent | fixed
    value: int  # whole percent 1-100, or cents
    starts_on: date | None = None
    ends_on: date | None = None
    max_uses: int | None = None


def percent_shown(code: DiscountCode) -> int | None:
    """The whole percent of a percent code (its value is kept in basis points)."""
    return code.value // 100 if code.kind == "percent" else None


def api_value(code: DiscountCode) -> int:
    """`value` as the API gives it: a whole percent, or cents."""
    return code.value // 100 if code.kind == "percent" else code.value


def _check(new: NewDiscountCode) -> None:
    problems: dict[str, str] = {}
    if new.kind not in KINDS:
        problems["kind"] = "must be percent or fixed"
    elif new.kind == "percent" and not 1 <= new.value <= 100:
        problems["value"] = "a percent is a whole number from 1 to 100"
    elif new.kind == "fixed" and new.value < 1:
        problems["value"] = "a fixed discount is at least 1 cent"
    if new.starts_on and new.ends_on and new.ends_on < new.starts_on:
        problems["ends_on"] = "must not be before starts_on"
    if new.max_uses is not None and new.max_uses < 1:
        problems["max_uses"] = "must be at least 1"
    if problems:
        raise ValidationFailed("The discount code is not right: " + "; ".join(
            f"{k} {v}" for k, v in sorted(problems.items())) + ".", {"fields": problems})


def create_code(new: NewDiscountCode, user_id: int | None) -> DiscountCode:
    """A new code; 409 `duplicate_discount_code` when it exists (case does not matter:
    the checkout looks codes up without it)."""
    _check(new)
    code_text = new.code.strip().upper()
    with write_transaction() as session:
        if session.scalar(select(DiscountCode.id).where(
                func.upper(DiscountCode.code) == code_text)) is not None:
            raise DuplicateDiscountCode(f"The discount code {code_text} already exists.",
                                        {"code": code_text})
        row = DiscountCode(code=code_text, kind=new.kind,
                           value=new.value * 100 if new.kind == "percent" else new.value,
                           starts_on=new.starts_on, ends_on=new.ends_on,
                           max_uses=new.max_uses, times_used=0, active=True)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise DuplicateDiscountCode(f"The discount code {code_text} already exists.",
                                        {"code": code_text}) from None
        audit.record(session, user_id, "discount_code.create", "discount_code", row.id,
                     kind=row.kind, value=row.value)
        return row


def list_codes(session: Session, *, page: int = 1, per_page: int = 50
               ) -> tuple[list[DiscountCode], int]:
    """Codes, newest first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(DiscountCode)) or 0
    rows = list(session.scalars(select(DiscountCode).order_by(DiscountCode.id.desc())
                                .offset((page - 1) * per_page).limit(per_page)))
    return rows, total


def get_code(session: Session, code_id: int) -> DiscountCode:
    row = session.get(DiscountCode, code_id) if 0 < code_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"There is no discount code {code_id}.", {"id": code_id})
    return row


def set_active(code_id: int, active: bool, user_id: int | None) -> DiscountCode:
    """Deactivate (or reactivate) a code; a deactivated code is refused at checkout
    (422 `discount_invalid`, reason `inactive`). Sales that used it keep it."""
    with write_transaction() as session:
        row = session.get(DiscountCode, code_id, with_for_update=True) \
            if 0 < code_id <= MAX_ID else None
        if row is None:
            raise NotFound(f"There is no discount code {code_id}.", {"id": code_id})
        if row.active != active:
            row.active = active
            audit.record(session, user_id, "discount_code." + (
                "activate" if active else "deactivate"), "discount_code", row.id)
        return row


# -- a manual discount's approval ---------------------------------------------------------

def approver(seller: User, approval_email: str | None, approval_pin: str | None,
             client_address: str, settings: Settings) -> int:
    """The id of the manager who approves a manual discount: the seller when they hold
    `manager`, else the active manager whose email and staff PIN these are.

    403 `approval_required` otherwise (no approval, a wrong PIN, not a manager). Each PIN
    check counts in the sign-in throttle of that manager's account (429
    `too_many_attempts` past its limit), and a right one clears it, as /login/pin does."""
    if seller.has_role("manager"):
        return seller.id
    if not approval_email or not approval_pin:
        raise ApprovalRequired(
            "A manual discount needs a manager: ask one to approve it with their email "
            "and staff PIN.", {"fields": {"approval": "a manager's email and PIN"}})
    email = staff.normalise_email(approval_email)
    attempt = throttle.begin_attempt(email, client_address, ThrottleLimits.of(settings),
                                     clock.now())
    session = db.session()
    manager = session.scalar(select(User).where(User.email == email))
    pin_hash = session.scalar(select(StaffPin.pin_hash).where(
        StaffPin.user_id == manager.id)) if manager is not None else None
    # One hash check whatever is missing, so the time does not tell which emails exist.
    matches = staff.password_matches(session, pin_hash or staff.unknown_user_hash(session),
                                     approval_pin)
    if not matches or pin_hash is None or manager is None or not manager.active \
            or not manager.has_role("manager"):
        raise ApprovalRequired("That manager email and PIN do not approve discounts.",
                               {"fields": {"approval": "not a manager's email and PIN"}})
    throttle.attempt_succeeded(attempt)
    return manager.id

