"""The clinic point of sale: create_app() builds the Flask application."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module
from pos.extensions import csrf, db, login_manager, migrate
from pos.settings import Settings, bind_settings

SETTINGS_KEY = "pos_settings"

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    load_dotenv(ROOT / ".env")
    config_name = config_name or os.environ.get("POS_ENV", "development")
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                instance_path=str(config_module.INSTANCE_DIR))
    config_class = config_module.CONFIGS[config_name]
    app.config.from_object(config_class)
    # Read once: the environment, then this configuration's overrides, then the caller's.
    settings = Settings.from_env().replace(**config_class.SETTINGS_OVERRIDES)
    settings = settings.with_config(overrides or {})
    app.config.update(settings.flask_config())
    app.config["SQLALCHEMY_DATABASE_URI"] = (settings.database_url
                                             or config_module.default_database_url())
    if overrides:
        app.config.update(overrides)
    _check_secrets(app, config_name)
    app.extensions[SETTINGS_KEY] = settings.replace(
        secret_key=app.config["SECRET_KEY"], database_url=app.config["SQLALCHEMY_DATABASE_URI"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # home of the default SQLite file

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    # Sessions are server-side (pos/services/sessions.py): the cookie holds only their key.
    login_manager.session_protection = None

    trusted_proxies = app.extensions[SETTINGS_KEY].trusted_proxies
    if trusted_proxies > 0:
        # Only behind that many proxies is X-Forwarded-For the client's address; otherwise
        # anyone could pick the address the sign-in throttle counts against.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies)  # type: ignore[method-assign]

    from pos.services.transaction import configure_engine

    with app.app_context():
        configure_engine(db.engine)
        bind_settings(db.engine, app.extensions[SETTINGS_KEY])

    from pos.web import register_web

    register_web(app)

    from pos.logging import configure_logging

    configure_logging(app)

    # Importing these registers the stock-alert hook (it writes alerts and their outbox
    # rows in the transaction that moved the stock) and the NOTIFY that wakes `pos worker`.
    # The web server delivers nothing itself: `pos worker` is its own process.
    from pos.cli import pos_cli
    from pos.notify import outbox  # noqa: F401
    from pos.services import alerts  # noqa: F401

    app.cli.add_command(pos_cli)
    return app


def _check_secrets(app: Flask, config_name: str) -> None:
    if config_name == "production":
        missing = config_module.missing_production_settings(app.config)
        if missing:
            raise RuntimeError(
                "Production needs these settings in the environment: " + ", ".join(missing))
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module._development_secret_key()
    if app.config.get("STRIPE_SECRET_KEY") and not app.config.get("STRIPE_WEBHOOK_SECRET"):
        raise RuntimeError("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set.")


def app_settings(app: Flask) -> Settings:
    """The app's settings (the web layer's `current_settings()` is this for current_app)."""
    settings: Settings = app.extensions[SETTINGS_KEY]
    return settings


def update_settings(app: Flask, **changes: Any) -> Settings:
    """Change settings of a running app (tests; upper-case names as in app.config): the
    value, its mirror in app.config and the copy bound to the app's database engine.
    Keys that are no setting (Flask's own) go to app.config only."""
    settings = app_settings(app).with_config({k.upper(): v for k, v in changes.items()})
    app.extensions[SETTINGS_KEY] = settings
    app.config.update({k.upper(): v for k, v in changes.items()})
    with app.app_context():
        bind_settings(db.engine, settings)
    return settings
