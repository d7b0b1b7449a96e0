"""The transactions list's query string, and the body of "take cash instead"."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from pos.domain.statuses import SalePaymentMethod, SaleStatus
from pos.services.sales.listing import SaleFilters
from pos.web.api.schemas.queries import PageQuery, SearchText
from pos.web.api.schemas.types import Day, Id

SaleStatusText = Literal[tuple(s.value for s in SaleStatus)]  # type: ignore[valid-type]
MethodText = Literal[tuple(m.value for m in SalePaymentMethod)]  # type: ignore[valid-type]


class SalesQuery(PageQuery):
    """`from` and `to` are the clinic's days, both included."""

    from_day: Day | None = Field(None, alias="from")
    to_day: Day | None = Field(None, alias="to")
    status: SaleStatusText | None = None
    method: MethodText | None = None
    cashier_id: Id | None = None
    client_id: Id | None = None
    q: SearchText | None = None

    def filters(self) -> SaleFilters:
        return SaleFilters(from_day=self.from_day, to_day=self.to_day, status=self.status,
                           method=self.method, cashier_id=self.cashier_id,
                           client_id=self.client_id, q=self.q)
