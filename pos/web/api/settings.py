"""The clinic's own settings (API.md "Back office"): GET and PATCH, admin only."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import jsonify

from pos.domain.clinic import EDITABLE, ClinicSettings
from pos.services.clinic import update_clinic_settings
from pos.services.transaction import write_transaction
from pos.web import current_clinic, current_settings
from pos.web.api import api_bp, api_user, requires
from pos.web.api.openapi import INT, PATH_GROUPS, STR, errors, obj, ok, op
from pos.web.api.schemas import validate_body
from pos.web.api.schemas.settings import ClinicSettingsPatch


def settings_json(clinic: ClinicSettings) -> dict[str, Any]:
    values = asdict(clinic)
    # CURRENCY stays in the environment (it cannot change once sales exist): shown, not set.
    return {**{name: values[name] for name in EDITABLE}, "currency": current_settings().currency}


@api_bp.get("/v1/settings")
@requires("admin")
def get_settings():  # type: ignore[no-untyped-def]
    return jsonify(settings_json(current_clinic()))


@api_bp.patch("/v1/settings")
@requires("admin")
@validate_body(ClinicSettingsPatch)
def patch_settings(body: ClinicSettingsPatch):  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        clinic = update_clinic_settings(session, body.changes(), api_user().id)
    return jsonify(settings_json(clinic))


SETTINGS = obj(list(EDITABLE) + ["currency"], clinic_name=STR, address=STR, phone=STR,
               tax_id=STR, receipt_footer=STR, tax_rate_bp=INT, timezone=STR, currency=STR)

PATH_GROUPS.append({
    "/api/v1/settings": {
        "get": op("The clinic's name, address, phone, tax id, receipt footer, tax rate and "
                  "time zone", "admin", {**ok(SETTINGS)}),
        "patch": op("Change some of the clinic's settings (audited)", "admin",
                    {**ok(SETTINGS), **errors(422)}, body=ClinicSettingsPatch),
    },
})
