"""Refunding the unused sessions of a series (issue 14, part 7).

A package line refunded by sessions, `{line_id, sessions}`, ends that many of its unused
sessions, latest purchase first, each purchase's sessions from its last one. What comes
back is their value by `pos.domain.series.value_of_refunded_sessions`, the package
liability's own rule, so the liability falls by exactly the refund and every session of a
purchase, performed or refunded in any order, adds up to its value to the cent.

Each purchase touched gets a refund line of its own (quantity 0, `sessions`,
`purchase_id`), so a card refund the gateway refuses gives back exactly those sessions.
Runs inside the refund's transaction, under the sale's lock (pos/services/refunds.py).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain import series
from pos.domain.errors import PosError
from pos.models import PackagePurchase, RefundLine, SaleLine


class SessionsAlreadyUsed(PosError):
    code = "sessions_already_used"
    status = 422


def _purchases(session: Session, line: SaleLine) -> list[PackagePurchase]:
    # Latest purchase first, as whole-unit refunds take them; locked before the client.
    return list(session.scalars(
        select(PackagePurchase).where(PackagePurchase.sale_line_id == line.id)
        .order_by(PackagePurchase.id.desc()).with_for_update()
        .execution_options(populate_existing=True)))


def refund_sessions(session: Session, line: SaleLine, sessions: int) -> list[RefundLine]:
    """End `sessions` unused sessions of the package line; one refund line per purchase
    touched, net_cents their value (tax: packages are not taxed)."""
    purchases = _purchases(session, line)
    left = sum(p.sessions_left for p in purchases)
    if sessions > left:
        total = sum(p.sessions_total for p in purchases)
        used = sum(p.sessions_used for p in purchases)
        refunded = sum(p.sessions_refunded for p in purchases)
        raise SessionsAlreadyUsed(
            f"Only {left} of the {total} sessions of {line.quantity} × {line.name} bought "
            f"here are unused ({used} performed, {refunded} already refunded): {sessions} "
            "cannot be refunded.",
            {"line_id": line.id, "requested_sessions": sessions, "sessions_left": left,
             "sessions_used": used, "sessions_refunded": refunded})
    out: list[RefundLine] = []
    wanted = sessions
    for purchase in purchases:
        if wanted == 0:
            break
        count = min(wanted, purchase.sessions_left)
        if count == 0:
            continue
        value = series.value_of_refunded_sessions(
            purchase.value_cents, purchase.sessions_total, purchase.sessions_refunded, count)
        purchase.sessions_refunded += count
        out.append(RefundLine(sale_line_id=line.id, quantity=0, net_cents=value,
                              tax_cents=0, restock=False, purchase_id=purchase.id,
                              sessions=count))
        wanted -= count
    return out


def give_sessions_back(session: Session, refund_line: RefundLine) -> None:
    """A refund of sessions that failed: its purchase holds those sessions again."""
    purchase = session.scalar(
        select(PackagePurchase).where(PackagePurchase.id == refund_line.purchase_id)
        .with_for_update().execution_options(populate_existing=True))
    assert purchase is not None and refund_line.sessions is not None
    purchase.sessions_refunded -= refund_line.sessions


def refundable_sessions(session: Session, line: SaleLine) -> int:
    """Unused sessions of a package line, for the sale page's refund form."""
    return sum(p.sessions_left for p in session.scalars(
        select(PackagePurchase).where(PackagePurchase.sale_line_id == line.id)))
