"""Structured logs: one JSON object per line on stderr, each tied to its request.

What is logged is chosen field by field: the method, the path *without* its query string
(a search may carry a client's name), the status and the time taken. Never a request or
response body, never a header value other than the request ids (ours, and the client's
X-Request-Id cleaned, beside it): contact and health data must not reach a log.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

ACCESS_LOGGER = "pos.access"
CLIENT_REQUEST_ID_LIMIT = 64
_NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def clean_client_request_id(raw: str) -> str:
    """What a client sent as X-Request-Id, reduced to [A-Za-z0-9._-] and 64 characters, so
    it cannot break a log line or smuggle data into it."""
    return _NOT_ID_CHARACTERS.sub("", raw[:CLIENT_REQUEST_ID_LIMIT * 4])[
        :CLIENT_REQUEST_ID_LIMIT]


def client_request_id() -> str:
    return clean_client_request_id(request.headers.get("X-Request-Id", ""))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            client_id = client_request_id()
            if client_id:
                entry["client_request_id"] = client_id
            entry["method"] = request.method
            entry["path"] = request.path
        for field in ("status", "duration_ms"):
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (gunicorn and test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a log line must never break a request
            self.handleError(record)


def _install_handler(level: int) -> None:
    root = logging.getLogger()
    if not any(isinstance(h, StderrHandler) for h in root.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logging.getLogger("pos").setLevel(level)
    # A logging.config call made earlier in this process (alembic's fileConfig during
    # `db upgrade`, say) disables every logger that existed then; ours must keep logging.
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (name == "pos" or name.startswith("pos.")) and isinstance(logger, logging.Logger):
            logger.disabled = False
    # werkzeug's own access line carries the query string; ours replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def configure_logging(app: Flask) -> None:
    """JSON log lines on stderr and one access line per request."""
    _install_handler(logging.DEBUG if app.debug else logging.INFO)
    access = logging.getLogger(ACCESS_LOGGER)

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _access_log(response):  # type: ignore[no-untyped-def]
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        access.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"status": response.status_code, "duration_ms": duration_ms})
        return response
