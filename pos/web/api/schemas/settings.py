"""The clinic's settings (API.md "Back office"): a PATCH names only what it changes."""
from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

from pos.domain.clinic import MAX_TAX_RATE_BP, TEXT_LIMITS
from pos.web.api.schemas.types import SafeText, StrictModel


def _optional_text(name: str, *, multiline: bool = False) -> SafeText:
    # Empty text clears the field (a clinic without a tax id prints none).
    return SafeText(TEXT_LIMITS[name], optional=True, multiline=multiline)


class ClinicSettingsPatch(StrictModel):
    clinic_name: Annotated[str, SafeText(TEXT_LIMITS["clinic_name"])] | None = None
    address: Annotated[str, _optional_text("address", multiline=True)] | None = None
    phone: Annotated[str, _optional_text("phone")] | None = None
    tax_id: Annotated[str, _optional_text("tax_id")] | None = None
    receipt_footer: Annotated[str, _optional_text("receipt_footer", multiline=True)] | None \
        = None
    tax_rate_bp: Annotated[int, Interval(ge=0, le=MAX_TAX_RATE_BP)] | None = None
    # An IANA zone name; the domain rule checks it is one (422 invalid_timezone).
    timezone: Annotated[str, SafeText(64)] | None = None

    def changes(self) -> dict[str, object]:
        """The fields the request named; a cleared text is stored as empty text."""
        return {name: "" if getattr(self, name) is None else getattr(self, name)
                for name in self.model_fields_set}
