"""Structured logs: a JSON line per request with its request id, and no personal data."""
from __future__ import annotations

import json
import re

from tests.factories import PASSWORD


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def access_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if line.get("logger") == "pos.access"]


def test_each_request_logs_one_json_access_line_carrying_its_request_id(app, client, capsys):
    response = client.get("/healthz", headers={"X-Request-Id": "req-7f3a"})
    # The id is the server's own; the client's is logged beside it, never echoed.
    server_id = response.headers["X-Request-Id"]
    assert server_id != "req-7f3a" and re.fullmatch(r"[0-9a-f]{32}", server_id)
    [line] = [entry for entry in access_lines(capsys.readouterr().err)
              if entry["request_id"] == server_id]
    assert line["client_request_id"] == "req-7f3a"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_a_request_without_an_id_gets_one_that_the_log_line_and_the_response_share(
        app, client, capsys):
    response = client.get("/login")
    request_id = response.headers["X-Request-Id"]
    assert request_id
    assert [e["path"] for e in access_lines(capsys.readouterr().err)
            if e["request_id"] == request_id] == ["/login"]


def test_creating_and_searching_a_client_leaves_no_name_email_or_phone_in_the_logs(
        app, api, capsys):
    desk = api("front_desk")
    created = desk.post("/api/v1/clients", json={
        "first_name": "Wilhelmina", "last_name": "Quackenbush",
        "email": "wilhelmina.q@private.example", "phone": "555-867-5309"})
    assert created.status_code == 201
    client_id = created.get_json()["id"]
    assert desk.get("/api/v1/clients?q=Quackenbush").get_json()["items"][0]["id"] == client_id
    assert desk.get("/api/v1/clients?q=wilhelmina.q@private").status_code == 200
    assert desk.get(f"/api/v1/clients/{client_id}").status_code == 200
    # A rejected one too: the error path must not echo the body into the log either.
    refused = desk.post("/api/v1/clients", json={
        "first_name": "Wilhelmina", "last_name": "Quackenbush",
        "email": "wilhelmina.q@private.example", "phone": "555-867-5309"})
    assert refused.status_code in (409, 422)
    # And a failed sign-in with an email address through the form.
    app.config["WTF_CSRF_ENABLED"] = False
    app.test_client().post("/login", data={"email": "wilhelmina.q@private.example",
                                           "password": PASSWORD + "-wrong"})
    captured = capsys.readouterr()
    output = captured.err + captured.out
    lines = access_lines(captured.err)
    assert {"/api/v1/clients", f"/api/v1/clients/{client_id}", "/login"} <= \
        {line["path"] for line in lines}
    for secret in ("Wilhelmina", "wilhelmina", "Quackenbush", "private.example",
                   "867-5309", "8675309"):
        assert secret not in output


def test_the_query_string_is_never_logged(app, api, capsys):
    api("front_desk").get("/api/v1/clients?q=Zebediah")
    [line] = [e for e in access_lines(capsys.readouterr().err)
              if e["path"].startswith("/api/v1/clients")]
    assert line["path"] == "/api/v1/clients"
    assert line["status"] == 200


def test_the_app_still_logs_after_alembic_style_config_disabled_existing_loggers(
        tmp_path, capsys):
    import logging
    import logging.config

    from tests.conftest import make_app

    loggers = [lg for lg in logging.root.manager.loggerDict.values()
               if isinstance(lg, logging.Logger)]
    was_disabled = {lg: lg.disabled for lg in loggers}
    try:
        # What `fileConfig()` in migrations/env.py does to every logger existing before it.
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
        assert logging.getLogger("pos.access").disabled
        app = make_app(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
        app.test_client().get("/healthz", headers={"X-Request-Id": "after-alembic"})
        assert [e["path"] for e in access_lines(capsys.readouterr().err)
                if e.get("client_request_id") == "after-alembic"] == ["/healthz"]
    finally:
        for lg, disabled in was_disabled.items():
            lg.disabled = disabled


def test_a_client_request_id_is_not_echoed_and_is_logged_only_cleaned(app, client, capsys):
    sent = "abc<script>alert(1)</script>\tDROP TABLE;" + "x" * 100
    response = client.get("/login", headers={"X-Request-Id": sent})
    server_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", server_id)
    assert "script" not in server_id
    [line] = [e for e in access_lines(capsys.readouterr().err) if e["request_id"] == server_id]
    assert line["client_request_id"] == ("abcscriptalert1scriptDROPTABLE" + "x" * 100)[:64]
    assert "<" not in json.dumps(line)
