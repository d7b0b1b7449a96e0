"""Supplies consumed by the month's treatments and stock written off in the month."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from pos.models import Item, Lot, StockMovement, Treatment, TreatmentSupply
from pos.services.reports._sql import id_span, in_window, sum_or_zero
from pos.services.reports.shapes import WRITE_OFF_REASONS, Supplies, SupplyRow, WriteOffRow


def supplies_of(session: Session, start: datetime, end: datetime,
              treatments: int) -> Supplies:
    """Supplies consumed and written off in the month: one statement, two GROUP BYs."""
    consumed = (
        select(literal_column("'consumed'").label("kind"),
               cast(null(), String).label("reason"), Item.sku.label("sku"), Item.name,
               sum_or_zero(TreatmentSupply.quantity),
               sum_or_zero(TreatmentSupply.quantity * TreatmentSupply.unit_cost_cents))
        .select_from(TreatmentSupply)
        .join(Treatment, Treatment.id == TreatmentSupply.treatment_id)
        .join(Item, Item.id == TreatmentSupply.item_id)
        .where(in_window(Treatment.performed_at, start, end), Treatment.voided_at.is_(None),
               # redundant with the join: reads the month's supplies by a range of
               # ix_treatment_supplies_treatment_id, not every supply ever used
               TreatmentSupply.treatment_id.between(
                   *id_span(Treatment.id, Treatment.performed_at, start, end)))
        .group_by(Item.id, Item.sku, Item.name))
    written_off = (
        select(literal_column("'written_off'"), StockMovement.reason, Item.sku, Item.name,
               -sum_or_zero(StockMovement.qty_delta),
               -sum_or_zero(StockMovement.qty_delta * Lot.unit_cost_cents))
        .select_from(StockMovement)
        .join(Item, Item.id == StockMovement.item_id)
        .join(Lot, Lot.id == StockMovement.lot_id)
        .where(in_window(StockMovement.at, start, end),
               StockMovement.reason.in_(WRITE_OFF_REASONS))
        .group_by(StockMovement.reason, Item.id, Item.sku, Item.name))
    both = union_all(consumed, written_off).subquery("supplies")
    rows = session.execute(select(both).order_by(both.c.kind, both.c.reason, both.c.sku)).all()
    return Supplies(
        tuple(SupplyRow(sku, name, int(q), int(c))
              for kind, _, sku, name, q, c in rows if kind == "consumed"),
        treatments,
        tuple(WriteOffRow(r, sku, name, int(q), int(c))
              for kind, r, sku, name, q, c in rows if kind == "written_off"))
