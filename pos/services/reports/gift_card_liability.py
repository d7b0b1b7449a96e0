"""The gift card liability roll-forward: what the clinic owes on the cards it has sold.

A gift card sold is not revenue: its money is owed until it is spent (then the sale it
pays for is revenue, taxed as usual) or refunded. The liability at an instant T is the
sum of every gift card entry before T (pos/models/gift_cards.py), so the month's
roll-forward is that sum at its start plus the month's entries by kind:
closing = opening + sold - redeemed - refunded, where `redeemed` is net of the month's
reversals (a redemption given back to its card; one made in a later month than its
redemption lowers that later month's `redeemed`). One statement, on the entries alone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from pos.domain.gift_cards import GiftCardEntryKind
from pos.models import GiftCardEntry
from pos.services.reports._sql import sum_or_zero
from pos.services.reports.shapes import GiftCardLiability


def gift_card_liability(session: Session, start: datetime, end: datetime) -> GiftCardLiability:
    E = GiftCardEntry
    within = E.created_at >= start

    def month_of(*kinds: GiftCardEntryKind) -> Any:
        return sum_or_zero(case((within & E.kind.in_([k.value for k in kinds]),
                                 E.amount_cents), else_=0))

    row = session.execute(select(
        sum_or_zero(case((E.created_at < start, E.amount_cents), else_=0)),
        month_of(GiftCardEntryKind.ISSUE),
        month_of(GiftCardEntryKind.REDEEM, GiftCardEntryKind.REVERSE),
        month_of(GiftCardEntryKind.REFUND),
    ).where(E.created_at < end)).one()
    opening, sold, spent, refunded = (int(v or 0) for v in row)
    return GiftCardLiability(opening_cents=opening, sold_cents=sold, redeemed_cents=-spent,
                             refunded_cents=-refunded)
