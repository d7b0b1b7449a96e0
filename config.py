"""Configuration, read from the environment (a `.env` file is read in development).

Every key of ../shared/API.md "Configuration" is here with its documented default.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("POS_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key() -> str:
    """Generated once and kept under instance/, so every gunicorn worker signs alike."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'pos.sqlite3'}"
    )
    # hide_parameters: a failed statement's values (emails, names) never reach a log line.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SECRET_KEY = os.environ.get("SECRET_KEY") or ""

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    # How long a card sale holds its stock while the client pays. Stripe allows 30 min..24 h;
    # 35 leaves a margin, so a retry with the sale's idempotency key sends the same expiry
    # (a value clamped to "now + 30 min" would differ per call and Stripe would refuse it).
    CHECKOUT_EXPIRES_MINUTES = int(os.environ.get("CHECKOUT_EXPIRES_MINUTES", "35"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_FROM = os.environ.get("MAIL_FROM", "clinic-pos@localhost")
    ALERT_EMAIL_TO = os.environ.get("ALERT_EMAIL_TO") or None
    ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL") or None
    # Lots expiring within this many days raise an `expiring_lot` alert.
    EXPIRY_WARNING_DAYS = int(os.environ.get("EXPIRY_WARNING_DAYS", "30"))
    # A reorder suggestion covers at least this many days at the last 30 days' rate of use.
    REORDER_COVER_DAYS = int(os.environ.get("REORDER_COVER_DAYS", "30"))
    # Hour (clinic time) of the daily stock digest and of the monthly report email.
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "7"))
    # An Idempotency-Key claimed by a request that has not answered after this long is
    # taken over by a retry (its worker died). Longer than gunicorn's 30 s timeout, so a
    # request still running is never overtaken.
    IDEMPOTENCY_LEASE_SECONDS = int(os.environ.get("IDEMPOTENCY_LEASE_SECONDS", "60"))

    CLINIC_NAME = os.environ.get("CLINIC_NAME", "Glow Microneedling Clinic")
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "America/New_York")
    CURRENCY = os.environ.get("CURRENCY", "usd").lower()
    # Sales tax on taxable (retail) lines, in basis points: 800 = 8.00 %.
    TAX_RATE_BP = int(os.environ.get("TAX_RATE_BP", "800"))
    # The item handed out once per client with the first treatment ever (a stock movement).
    FIRST_VISIT_BUNDLE_SKU = os.environ.get("FIRST_VISIT_BUNDLE_SKU", "BUNDLE-FV")

    # Failed logins allowed per email or per address within the window before a pause.
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a front-desk tab stays open all day
    MAX_CONTENT_LENGTH = 1024 * 1024
    TESTING = False


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True
    # Cheap Argon2id for the suite's hundreds of sign-ins; production keeps the defaults.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    MAIL_SERVER = None
    ALERT_WEBHOOK_URL = None
    ALERT_EMAIL_TO = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


def missing_production_settings(config: dict) -> list[str]:
    """What a production server cannot start without (checked by create_app)."""
    missing = []
    if not config.get("SECRET_KEY"):
        missing.append("SECRET_KEY")
    if not os.environ.get("DATABASE_URL"):
        missing.append("DATABASE_URL")
    if config.get("STRIPE_SECRET_KEY") and not config.get("STRIPE_WEBHOOK_SECRET"):
        missing.append("STRIPE_WEBHOOK_SECRET")
    return missing


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
