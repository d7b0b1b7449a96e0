"""The clinic point of sale: create_app() builds the Flask application."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask

import config as config_module
from pos.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    load_dotenv(ROOT / ".env")
    config_name = config_name or os.environ.get("POS_ENV", "development")
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object(config_module.CONFIGS[config_name])
    if overrides:
        app.config.update(overrides)
    _check_secrets(app, config_name)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # home of the default SQLite file

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."

    from pos.services.transaction import configure_engine

    with app.app_context():
        configure_engine(db.engine)

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
