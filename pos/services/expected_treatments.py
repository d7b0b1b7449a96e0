"""Expected treatments: a manager's count of each package's treatments in the next 14 days.

One row per package, replaced when set again, with who set it and when (the figure ages:
the page shows its date). The reorder list multiplies it by the package's bill of materials
(pos/services/reorder.py)."""
from __future__ import annotations

from sqlalchemy import select

from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.reorder import MAX_EXPECTED_TREATMENTS
from pos.models import ExpectedTreatments, Package
from pos.services import audit, clock
from pos.services.transaction import write_transaction


def set_expected_treatments(code: str, count: int, user_id: int | None) -> Package:
    """Set (or replace) the package's expected treatments in the next 14 days."""
    if not 0 <= count <= MAX_EXPECTED_TREATMENTS:
        raise ValidationFailed(
            f"Expected treatments must be a whole number from 0 to {MAX_EXPECTED_TREATMENTS}.",
            {"fields": {"count": f"0 to {MAX_EXPECTED_TREATMENTS}"}})
    with write_transaction() as session:
        # The package row is the lock: two managers setting the same count queue here.
        package = session.scalar(select(Package).where(Package.code == code)
                                 .with_for_update()
                                 .execution_options(populate_existing=True))
        if package is None:
            raise NotFound(f"No package {code!r}.", {"package_code": code})
        row = session.get(ExpectedTreatments, package.id)
        before = None if row is None else row.count
        if row is None:
            row = ExpectedTreatments(package_id=package.id, count=count)
            session.add(row)
        row.count = count
        row.set_at = clock.now()
        row.set_by_id = user_id
        session.flush()
        session.refresh(package, ["expected_treatments"])
        audit.record(session, user_id, "package.expected_treatments", "package", code,
                     count=[before, count])
        return package
