"""Settings typed once (pos/settings.py) and the rule for the clinic's own settings."""
from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

import config
from pos.domain.clinic import (
    ClinicSettings,
    InvalidTaxRate,
    InvalidTimezone,
    apply_changes,
    first_values,
)
from pos.domain.errors import ValidationFailed
from pos.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLINIC = ClinicSettings(clinic_name="Glow", address="1 Main St", phone="555", tax_id="T-1",
                        receipt_footer="Thanks", tax_rate_bp=800, timezone="America/New_York",
                        version=7)


def test_each_setting_has_one_default_and_checkout_holds_35_minutes():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.checkout_expires_minutes == 35  # Stripe needs more than 30
    assert (settings.tax_rate_bp, settings.clinic_timezone, settings.currency) == \
        (800, "America/New_York", "usd")


def test_the_environment_is_read_and_typed_once():
    settings = Settings.from_env({
        "CHECKOUT_EXPIRES_MINUTES": "45", "MAIL_USE_TLS": "yes", "MAIL_SERVER": "",
        "CURRENCY": "EUR", "ALERT_EMAIL_TO": "a@clinic.test", "UNRELATED": "x"})
    assert settings.checkout_expires_minutes == 45
    assert settings.mail_use_tls is True
    assert settings.mail_server is None  # MAIL_SERVER= in .env means unset
    assert settings.currency == "eur"
    assert settings.alert_email_to == "a@clinic.test"


def test_a_bad_number_in_the_environment_names_its_variable():
    with pytest.raises(ValueError, match="TAX_RATE_BP"):
        Settings.from_env({"TAX_RATE_BP": "8%"})


def test_the_test_configuration_overrides_fields_and_holds_no_second_defaults():
    fields = set(Settings.__dataclass_fields__)
    for name, cls in config.CONFIGS.items():
        assert set(cls.SETTINGS_OVERRIDES) <= fields, name
        # No class attribute repeats a setting under its app.config name.
        assert not {key.lower() for key in vars(cls) if key.isupper()} & fields, name


def test_no_other_module_reads_a_setting_from_the_environment():
    """One place reads the environment: pos/settings.py (config.py: where files live)."""
    pattern = r"environ\.get\|environ\[\|getenv"
    found = subprocess.run(["grep", "-rln", pattern, "pos", "config.py"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert sorted(found) == ["config.py", "pos/__init__.py", "pos/settings.py"]


def test_readme_states_the_35_minute_checkout_expiry():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"`CHECKOUT_EXPIRES_MINUTES` \|.*\| `35`", readme)


# --------------------------------------------------------------------------- the clinic's rule

def test_a_change_gives_a_new_value_and_leaves_the_old_one():
    changed = apply_changes(CLINIC, {"tax_rate_bp": 725, "timezone": "Asia/Tokyo",
                                     "phone": "  555-0100 "})
    assert (changed.tax_rate_bp, changed.timezone, changed.phone) == (725, "Asia/Tokyo",
                                                                      "555-0100")
    assert changed.zone.utcoffset(datetime(2026, 1, 1)).total_seconds() == 9 * 3600
    assert CLINIC.tax_rate_bp == 800


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "posixrules",
                                  "america/new_york", 5])
def test_a_zone_that_is_not_an_iana_zone_is_refused_by_name(zone):
    with pytest.raises(InvalidTimezone) as error:
        apply_changes(CLINIC, {"timezone": zone})
    assert error.value.code == "invalid_timezone"
    assert list(error.value.details["fields"]) == ["timezone"]


@pytest.mark.parametrize("rate", [-1, 10_001, 2**31, 8.5, "800", True, None])
def test_a_tax_rate_outside_0_to_10000_basis_points_is_refused_by_name(rate):
    with pytest.raises(InvalidTaxRate) as error:
        apply_changes(CLINIC, {"tax_rate_bp": rate})
    assert error.value.code == "invalid_tax_rate"
    assert error.value.status == 422


@pytest.mark.parametrize("rate", [0, 10_000])
def test_the_tax_rate_limits_themselves_are_allowed(rate):
    assert apply_changes(CLINIC, {"tax_rate_bp": rate}).tax_rate_bp == rate


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("clinic_name", "   ", "must not be empty"),
    ("clinic_name", "x" * 121, "must be at most 120 characters"),
    ("phone", "555\x000", "must not contain control characters"),
    ("tax_id", "\ud800", "must be valid text (UTF-8)"),
    ("clinic_name", "Glow\nClinic", "must not contain control characters"),
    ("receipt_footer", "y" * 501, "must be at most 500 characters"),
    ("address", 12, "must be text"),
    ("currency", "eur", "unknown setting"),
    ("version", 1, "unknown setting"),
])
def test_text_limits_and_unknown_fields_are_refused_naming_the_field(field, value, problem):
    with pytest.raises(ValidationFailed) as error:
        apply_changes(CLINIC, {field: value})
    assert error.value.code == "validation_error"
    assert error.value.details == {"fields": {field: problem}}


def test_an_address_and_a_footer_may_span_lines():
    changed = apply_changes(CLINIC, {"address": "1 Main St\nSpringfield",
                                     "receipt_footer": "Thank you!\r\nSee you soon."})
    assert changed.address.splitlines() == ["1 Main St", "Springfield"]


def test_several_bad_fields_are_named_together_and_nothing_applies():
    with pytest.raises(ValidationFailed) as error:
        apply_changes(CLINIC, {"timezone": "Nowhere", "tax_rate_bp": -5, "phone": "1"})
    assert set(error.value.details["fields"]) == {"timezone", "tax_rate_bp"}


def test_first_values_come_from_the_environment_and_obey_the_same_rule():
    first = first_values("Glow Clinic", 725, "Europe/Paris")
    assert (first.clinic_name, first.tax_rate_bp, first.timezone, first.address) == \
        ("Glow Clinic", 725, "Europe/Paris", "")
    with pytest.raises(InvalidTimezone):
        first_values("Glow Clinic", 725, "Paris")


def test_the_zone_decides_the_clinic_date():
    at = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert at.astimezone(CLINIC.zone).date().isoformat() == "2026-02-28"
    tokyo = apply_changes(CLINIC, {"timezone": "Asia/Tokyo"})
    assert at.astimezone(tokyo.zone).date().isoformat() == "2026-03-01"


def test_services_and_domain_do_not_reach_into_flask():
    found = subprocess.run(["grep", "-rn", r"from flask\|current_app", "pos/services",
                            "pos/domain"], cwd=ROOT, capture_output=True, text=True).stdout
    assert found.splitlines() == []
