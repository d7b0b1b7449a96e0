"""Flask configuration per environment (development, test, production).

The application's settings, read from the environment (a `.env` file is read in
development), are typed once in pos/settings.py with their one default each; every key of
../shared/API.md "Configuration" is there. This module keeps Flask's own keys, where the
SQLite file lives, and what each environment overrides.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("POS_INSTANCE_DIR", BASE_DIR / "instance"))


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'pos.sqlite3'}"


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
    """Flask's own keys. The application's settings (and their one default each) are
    pos/settings.py's `Settings`; create_app mirrors them into app.config."""

    # hide_parameters: a failed statement's values (emails, names) never reach a log line.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # Fields of Settings this configuration changes (overrides, not a second set of defaults).
    SETTINGS_OVERRIDES: dict = {}

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
    SETTINGS_OVERRIDES = {
        # Cheap Argon2id for the suite's hundreds of sign-ins; production keeps the defaults.
        "argon2_time_cost": 1, "argon2_memory_cost": 1024,
        "secret_key": "test-secret-key",  # noqa: S105 - tests only
        # Whatever the developer's environment says, the suite talks to no real service.
        "stripe_secret_key": None, "stripe_webhook_secret": None, "mail_server": None,
        "alert_webhook_url": None, "alert_email_to": None,
    }


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
